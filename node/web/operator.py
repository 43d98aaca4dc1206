"""The operator's page forms: revoke a node, ban and unban a key, alias a code (registry page),
and manage the node's staff accounts (``/n/{code}/accounts``).

Each form posts to a page route that calls the same service as the JSON API
(``web/registry.py``, ``web/accounts.py``), then redirects (303) back to its page with
``?done=KIND:SUBJECT``, which the page words as a notice (``views.operator``). Every route is
``@requires(Role.OPERATOR)``, so a form also needs this site's ``Origin`` and the session's
CSRF token (``web/auth.py``). Destructive acts (revoke, ban, disable an account) need the box
``confirm=yes`` ticked: without it nothing changes and the answer is a 400 page saying so.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.actors import Role
from node.errors import InvalidInput
from node.web.auth import csrf_token, current_actor, requires
from node.web.context import node_services, post_fields
from node.web.views import operator


def _field(body: dict[str, str], name: str, label: str) -> str:
    value = body.get(name, "").strip()
    if not value:
        raise InvalidInput(f"缺少{label}（{name}）。请填写后重新提交。")
    return value


def _confirmed(body: dict[str, str], what: str) -> None:
    """Destructive acts need the confirmation box ticked."""
    if body.get("confirm") != "yes":
        raise InvalidInput(f"未确认{what}：请勾选确认框后重新提交。未做任何更改。")


def _registry(request: web.Request) -> str:
    return f"/n/{request.match_info['code']}/registry"


def _accounts(request: web.Request) -> str:
    return f"/n/{request.match_info['code']}/accounts"


# -- the registry page's forms -----------------------------------------------------------------


@requires(Role.OPERATOR)
async def revoke_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/registry/revocations``: ``code``, ``reason``, ``confirm=yes``."""
    body = await post_fields(request)
    code = _field(body, "code", "要吊销的节点代码")
    reason = _field(body, "reason", "吊销原因")
    _confirmed(body, f"吊销节点 {code}")
    await node_services(request).trust.revoke(code, reason, actor=current_actor(request))
    raise web.HTTPSeeOther(operator.done_url(_registry(request), "revoked", code))


@requires(Role.OPERATOR)
async def ban_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/registry/bans``: ``key_id``, ``reason``, ``confirm=yes``."""
    body = await post_fields(request)
    key_id = _field(body, "key_id", "要封禁的密钥标识")
    reason = _field(body, "reason", "封禁原因")
    _confirmed(body, f"封禁密钥 {key_id}")
    await node_services(request).trust.ban(key_id, reason, actor=current_actor(request))
    raise web.HTTPSeeOther(operator.done_url(_registry(request), "banned", key_id))


@requires(Role.OPERATOR)
async def unban_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/registry/bans/lift``: ``key_id`` (lifting a ban harms nobody)."""
    body = await post_fields(request)
    key_id = _field(body, "key_id", "要解除封禁的密钥标识")
    lifted = await node_services(request).trust.unban(key_id, actor=current_actor(request))
    if not lifted:
        raise InvalidInput(f"本节点没有封禁密钥 {key_id}，无需解除。")
    raise web.HTTPSeeOther(operator.done_url(_registry(request), "unbanned", key_id))


@requires(Role.OPERATOR)
async def alias_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/registry/aliases``: ``old``, ``new`` (the registry only)."""
    body = await post_fields(request)
    old, new = _field(body, "old", "原区划代码"), _field(body, "new", "新区划代码")
    await node_services(request).trust.alias(old, new, actor=current_actor(request))
    raise web.HTTPSeeOther(operator.done_url(_registry(request), "aliased", old))


# -- the accounts page -------------------------------------------------------------------------


@requires(Role.OPERATOR)
async def accounts_page(request: web.Request) -> web.Response:
    """``GET /n/{code}/accounts``: every account with its roles, and the forms to change them."""
    services = node_services(request)
    info = services.info
    accounts = await services.accounts.accounts()
    page = {
        "name": info.name,
        "code": info.code,
        "accounts": [operator.account_row(info.code, a) for a in accounts],
        "roles": operator.role_options(),
        "notice": operator.accounts_notice(request.query.get("done", ""), accounts),
        "create_action": _accounts(request),
        "me": current_actor(request).name,
        "csrf": csrf_token(request),
    }
    return render_template("accounts.html", request, page)


@requires(Role.OPERATOR)
async def create_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/accounts``: ``name``, ``display_name``, ``password``, ``role``."""
    body = await post_fields(request)
    account = await node_services(request).accounts.create(
        current_actor(request),
        body.get("name", "").strip(),
        body.get("password", ""),
        [_field(body, "role", "角色")],
        body.get("display_name", "").strip(),
    )
    raise web.HTTPSeeOther(operator.done_url(_accounts(request), "created", account.name))


@requires(Role.OPERATOR)
async def grant_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/accounts/{name}/roles``: ``role``."""
    body = await post_fields(request)
    role = _field(body, "role", "角色")
    account = await node_services(request).accounts.grant(
        current_actor(request), request.match_info["name"], role
    )
    raise web.HTTPSeeOther(
        operator.done_url(_accounts(request), "granted", f"{account.name}:{role}")
    )


@requires(Role.OPERATOR)
async def ungrant_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/accounts/{name}/roles/{role}/revoke``."""
    await post_fields(request)
    role = request.match_info["role"]
    account = await node_services(request).accounts.revoke(
        current_actor(request), request.match_info["name"], role
    )
    raise web.HTTPSeeOther(
        operator.done_url(_accounts(request), "ungranted", f"{account.name}:{role}")
    )


@requires(Role.OPERATOR)
async def disable_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/accounts/{name}/disable``: ``confirm=yes``."""
    body = await post_fields(request)
    name = request.match_info["name"]
    _confirmed(body, f"停用账号 {name}")
    account = await node_services(request).accounts.disable(current_actor(request), name)
    raise web.HTTPSeeOther(operator.done_url(_accounts(request), "disabled", account.name))


@requires(Role.OPERATOR)
async def enable_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/accounts/{name}/enable``."""
    await post_fields(request)
    account = await node_services(request).accounts.enable(
        current_actor(request), request.match_info["name"]
    )
    raise web.HTTPSeeOther(operator.done_url(_accounts(request), "enabled", account.name))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/n/{code}/registry/revocations", revoke_form)
    app.router.add_post("/n/{code}/registry/bans", ban_form)
    app.router.add_post("/n/{code}/registry/bans/lift", unban_form)
    app.router.add_post("/n/{code}/registry/aliases", alias_form)
    app.router.add_get("/n/{code}/accounts", accounts_page)
    app.router.add_post("/n/{code}/accounts", create_form)
    app.router.add_post("/n/{code}/accounts/{name}/roles", grant_form)
    app.router.add_post("/n/{code}/accounts/{name}/roles/{role}/revoke", ungrant_form)
    app.router.add_post("/n/{code}/accounts/{name}/disable", disable_form)
    app.router.add_post("/n/{code}/accounts/{name}/enable", enable_form)
