"""The operator's side of trust: enrolment approvals, revocation, rotation, bans, the audit.

JSON under ``/api/v1/nodes/{code}/registry/...`` (what ``archive-node registry`` calls) and
one zh-CN page, ``/n/{code}/registry`` (``templates/registry.html``), where an operator
approves or rejects applications and sees refused calls. Every route, read or write, needs an
operator of this node (``@requires``); a browser's POST must also come from this site's own
pages (``Origin``) with the session's CSRF token.
"""

from __future__ import annotations

import dataclasses

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.actors import Role
from node.certificates import Application
from node.crypto import key_id_of
from node.errors import InvalidInput
from node.identity import parent_of
from node.web import views
from node.web.auth import csrf_token, current_actor, requires
from node.web.context import json_response, node_services, post_fields
from node.web.views import admin, operator


def _field(body: dict[str, str], name: str, label: str) -> str:
    value = body.get(name, "").strip()
    if not value:
        raise InvalidInput(f"缺少{label}（{name}）")
    return value


def application_json(application: Application) -> dict[str, object]:
    return {
        "code": application.code,
        "name": application.name,
        "key_id": key_id_of(application.public_key),
        "address": application.address,
        "requested_at": application.requested_at,
        "status": application.status,
        "decided_at": application.decided_at,
        "note": application.note,
    }


@requires(Role.OPERATOR)
async def trust_status(request: web.Request) -> web.Response:
    """``GET .../registry``: this node's certificate and its copy of the directory."""
    overview = await node_services(request).trust.overview()
    return json_response(dataclasses.asdict(overview))


@requires(Role.OPERATOR)
async def list_applications(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    applications = await node_services(request).trust.applications(status)
    return json_response({"applications": [application_json(a) for a in applications]})


@requires(Role.OPERATOR)
async def approve(request: web.Request) -> web.Response:
    """``POST .../applications/{child}/approve`` with ``key_id``: the key id the operator
    checked with the applicant; refused if the application's key is another."""
    return await _approve(request)


async def _approve(request: web.Request) -> web.Response:
    body = await post_fields(request)
    key_id = _field(body, "key_id", "核对过的密钥标识")
    chain = await node_services(request).trust.approve(
        request.match_info["child"], key_id, actor=current_actor(request)
    )
    return json_response({"approved": chain[0].to_json()})


@requires(Role.OPERATOR)
async def reject(request: web.Request) -> web.Response:
    return await _reject(request)


async def _reject(request: web.Request) -> web.Response:
    body = await post_fields(request)
    child = request.match_info["child"]
    await node_services(request).trust.reject(
        child, body.get("note", ""), actor=current_actor(request)
    )
    return json_response({"rejected": child})


@requires(Role.OPERATOR)
async def revoke(request: web.Request) -> web.Response:
    body = await post_fields(request)
    revocation = await node_services(request).trust.revoke(
        _field(body, "code", "要吊销的节点代码"),
        _field(body, "reason", "吊销原因"),
        actor=current_actor(request),
    )
    return json_response({"revoked": dataclasses.asdict(revocation)})


@requires(Role.OPERATOR)
async def rotate(request: web.Request) -> web.Response:
    await post_fields(request)
    old, new = await node_services(request).trust.rotate(actor=current_actor(request))
    return json_response({"old_key_id": old, "new_key_id": new})


@requires(Role.OPERATOR)
async def renew(request: web.Request) -> web.Response:
    await post_fields(request)
    chain = await node_services(request).trust.renew(actor=current_actor(request))
    return json_response({"serial": chain[0].serial, "not_after_ms": chain[0].not_after_ms})


@requires(Role.OPERATOR)
async def refresh(request: web.Request) -> web.Response:
    await post_fields(request)
    return json_response(
        {
            "directory_version": await node_services(request).trust.refresh(
                actor=current_actor(request)
            )
        }
    )


@requires(Role.OPERATOR)
async def ban(request: web.Request) -> web.Response:
    body = await post_fields(request)
    key_id = _field(body, "key_id", "要封禁的密钥标识")
    await node_services(request).trust.ban(
        key_id, _field(body, "reason", "封禁原因"), actor=current_actor(request)
    )
    return json_response({"banned": key_id})


@requires(Role.OPERATOR)
async def unban(request: web.Request) -> web.Response:
    key_id = request.match_info["key_id"]
    return json_response(
        {"unbanned": await node_services(request).trust.unban(key_id, actor=current_actor(request))}
    )


@requires(Role.OPERATOR)
async def alias(request: web.Request) -> web.Response:
    body = await post_fields(request)
    old, new = _field(body, "old", "原区划代码"), _field(body, "new", "新区划代码")
    await node_services(request).trust.alias(old, new, actor=current_actor(request))
    return json_response({"old": old, "new": new})


@requires(Role.OPERATOR)
async def audit(request: web.Request) -> web.Response:
    """``GET .../audit``: the newest refused calls for this node, and counts by kind."""
    refusals = node_services(request).refusals
    try:
        limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
    except ValueError:
        raise InvalidInput("limit 应为整数") from None
    summary = await refusals.summary(limit)
    return json_response(
        {
            "accepted": summary.accepted,
            "refused_by_kind": dict(summary.refused_by_kind),
            "refusals": [dataclasses.asdict(r) for r in summary.recent],
        }
    )


# -- the archivist's page ------------------------------------------------------------------


@requires(Role.OPERATOR)
async def registry_page(request: web.Request) -> web.Response:
    """``GET /n/{code}/registry``: applications with approve/reject, the forms to revoke, ban
    and alias (``web/operator.py``), the revoked nodes, bans and aliases, and refusals."""
    services = node_services(request)
    info = services.info
    overview = await services.trust.overview()
    listing = await services.trust.listing()
    applications = await services.trust.applications()
    rows = [admin.application_row(info.code, a) for a in applications]
    refusals = [admin.refusal_row(r) for r in await services.refusals.recent(50)]
    page = {
        "name": info.name,
        "code": info.code,
        "key_id": overview.key_id,
        "expires": views.local_time(overview.not_after_ms / 1000, "%Y-%m-%d"),
        "version": overview.directory_version,
        "applications": rows,
        "address_problems": sorted(overview.child_address_problems.items()),
        "refusals": refusals,
        "notice": operator.registry_notice(request.query.get("done", ""), listing),
        "revoked": [operator.revoked_row(r) for r in listing.revoked],
        "banned": [operator.banned_row(b) for b in listing.banned],
        "aliases": [operator.alias_row(a) for a in listing.aliases],
        "is_registry": parent_of(info.code) is None,
        "actions": operator.registry_actions(info.code),
        "csrf": csrf_token(request),
    }
    return render_template("registry.html", request, page)


@requires(Role.OPERATOR)
async def approve_form(request: web.Request) -> web.Response:
    await _approve(request)  # already authorised: the form handler is guarded
    raise web.HTTPSeeOther(f"/n/{request.match_info['code']}/registry")


@requires(Role.OPERATOR)
async def reject_form(request: web.Request) -> web.Response:
    await _reject(request)
    raise web.HTTPSeeOther(f"/n/{request.match_info['code']}/registry")


def add_routes(app: web.Application) -> None:
    base = "/api/v1/nodes/{code}/registry"
    app.router.add_get(base, trust_status)
    app.router.add_get(base + "/applications", list_applications)
    app.router.add_post(base + "/applications/{child}/approve", approve)
    app.router.add_post(base + "/applications/{child}/reject", reject)
    app.router.add_post(base + "/revocations", revoke)
    app.router.add_post(base + "/rotate", rotate)
    app.router.add_post(base + "/renew", renew)
    app.router.add_post(base + "/refresh", refresh)
    app.router.add_post(base + "/bans", ban)
    app.router.add_delete(base + "/bans/{key_id}", unban)
    app.router.add_post(base + "/aliases", alias)
    app.router.add_get("/api/v1/nodes/{code}/audit", audit)
    app.router.add_get("/n/{code}/registry", registry_page)
    app.router.add_post("/n/{code}/registry/applications/{child}/approve", approve_form)
    app.router.add_post("/n/{code}/registry/applications/{child}/reject", reject_form)
