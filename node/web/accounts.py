"""Staff accounts through the JSON API: what ``archive-node account ... --as CODE`` calls.

    GET    /api/v1/nodes/{code}/accounts                      every account (operator)
    POST   /api/v1/nodes/{code}/accounts                      {"name", "password", "roles",
                                                               "display_name"} (operator)
    POST   /api/v1/nodes/{code}/accounts/{name}/roles         {"role"}: grant (operator)
    DELETE /api/v1/nodes/{code}/accounts/{name}/roles/{role}  revoke (operator)
    POST   /api/v1/nodes/{code}/accounts/{name}/disable       (operator) ... /enable
    POST   /api/v1/nodes/{code}/accounts/{name}/tokens        {"label"}: a new API token,
                                                               shown once (operator, or self)
    GET    /api/v1/nodes/{code}/session                       who the caller is here (any
                                                               account)

The service (``federation/services/accounts.py``) checks every value and, again, that the
actor is an operator here; the decorators refuse earlier with the right HTTP answer.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.accounts import Account
from node.actors import Role
from node.errors import InvalidInput
from node.web.auth import current_actor, requires
from node.web.context import json_response, node_services, read_json

_MAX_BODY_FIELDS = 16


def account_json(account: Account) -> dict[str, object]:
    return {
        "name": account.name,
        "display_name": account.display_name,
        "roles": [str(r) for r in account.roles],
        "disabled": account.disabled,
        "created_at": account.created_at,
    }


async def _body(request: web.Request) -> dict[str, Any]:
    """A JSON object (the CLI) or a form (a future page); nothing else."""
    if request.content_type == "application/json":
        data: Any = await read_json(request)
        if not isinstance(data, dict) or len(data) > _MAX_BODY_FIELDS:
            raise InvalidInput("请求内容应为 JSON 对象")
        return data
    return dict(await request.post())


def _roles(value: object) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.replace("，", ",").split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) <= 3:
        return list(value)
    raise InvalidInput('roles 应为角色名的列表，如 ["clerk"]')


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(f"{name} 应为字符串")
    return value


@requires(Role.OPERATOR)
async def list_accounts(request: web.Request) -> web.Response:
    accounts = await node_services(request).accounts.accounts()
    return json_response({"accounts": [account_json(a) for a in accounts]})


@requires(Role.OPERATOR)
async def create_account(request: web.Request) -> web.Response:
    body = await _body(request)
    account = await node_services(request).accounts.create(
        current_actor(request),
        _string(body, "name"),
        _string(body, "password"),
        _roles(body.get("roles", "")),
        _string(body, "display_name"),
    )
    return json_response({"created": account_json(account)}, status=201)


@requires(Role.OPERATOR)
async def grant(request: web.Request) -> web.Response:
    body = await _body(request)
    account = await node_services(request).accounts.grant(
        current_actor(request), request.match_info["name"], _string(body, "role")
    )
    return json_response({"account": account_json(account)})


@requires(Role.OPERATOR)
async def revoke(request: web.Request) -> web.Response:
    account = await node_services(request).accounts.revoke(
        current_actor(request), request.match_info["name"], request.match_info["role"]
    )
    return json_response({"account": account_json(account)})


@requires(Role.OPERATOR)
async def disable(request: web.Request) -> web.Response:
    account = await node_services(request).accounts.disable(
        current_actor(request), request.match_info["name"]
    )
    return json_response({"account": account_json(account)})


@requires(Role.OPERATOR)
async def enable(request: web.Request) -> web.Response:
    account = await node_services(request).accounts.enable(
        current_actor(request), request.match_info["name"]
    )
    return json_response({"account": account_json(account)})


@requires(*Role)
async def create_token(request: web.Request) -> web.Response:
    """Any account may ask; the service lets an operator make one for anybody, others only
    for themselves."""
    body = await _body(request)
    issued = await node_services(request).accounts.create_token(
        current_actor(request), request.match_info["name"], _string(body, "label")
    )
    return json_response({"account": issued.account, "token": issued.token}, status=201)


@requires(*Role)
async def whoami(request: web.Request) -> web.Response:
    actor = current_actor(request)
    return json_response(
        {
            "account": actor.name,
            "node": actor.node,
            "roles": [r.value for r in Role if actor.has(r)],
        }
    )


def add_routes(app: web.Application) -> None:
    base = "/api/v1/nodes/{code}/accounts"
    app.router.add_get(base, list_accounts)
    app.router.add_post(base, create_account)
    app.router.add_post(base + "/{name}/roles", grant)
    app.router.add_delete(base + "/{name}/roles/{role}", revoke)
    app.router.add_post(base + "/{name}/disable", disable)
    app.router.add_post(base + "/{name}/enable", enable)
    app.router.add_post(base + "/{name}/tokens", create_token)
    app.router.add_get("/api/v1/nodes/{code}/session", whoami)
