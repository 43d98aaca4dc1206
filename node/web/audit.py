"""The audit log: entries, verification and checkpoints as JSON, and the archivist's page.

    GET /api/v1/nodes/{code}/audit-log?person=&act=&record=&before=&after=&limit=
        -> {"size", "next_before", "prev_after", "entries": [{"seq", "at_ms", "actor", "act",
        "subject", "detail"}]}, newest first; pass next_before as before for older entries,
        prev_after as after for newer ones
    GET /api/v1/nodes/{code}/audit-log/verify        the whole chain and every checkpoint
        (what ``archive-node audit verify`` calls)
    GET /api/v1/nodes/{code}/audit-log/checkpoints   this node's checkpoints, its children's
    GET /n/{code}/audit-log?person=&act=&record=&before=&after=   the zh-CN page
        (``templates/audit_log.html``)

Query values are checked once by ``node.audit.audit_query`` (a 400 with a zh-CN message).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.actors import Role
from node.audit import AuditQuery, audit_query
from node.web import views
from node.web.auth import requires
from node.web.context import json_response, node_services
from node.web.views import audit as audit_views

if TYPE_CHECKING:
    from multidict import MultiMapping


def _query(params: MultiMapping[str]) -> AuditQuery:
    return audit_query(
        actor=params.get("person", ""),
        act=params.get("act", ""),
        subject=params.get("record", ""),
        before=params.get("before", "0") or "0",
        limit=params.get("limit", "50") or "50",
        after=params.get("after", "0") or "0",
    )


def _page_no(params: MultiMapping[str]) -> int:
    """Which page the links say this is (cosmetic: the seqs decide what is shown)."""
    text = params.get("page", "1")
    return int(text) if text.isdigit() and 0 < len(text) <= 6 and int(text) > 0 else 1


@requires(Role.ARCHIVIST, Role.OPERATOR)
async def entries(request: web.Request) -> web.Response:
    page = await node_services(request).audit.entries(_query(request.query))
    return json_response(
        {
            "size": page.size,
            "next_before": page.next_before,
            "prev_after": page.prev_after,
            "entries": [{**dataclasses.asdict(e), "detail": e.details} for e in page.entries],
        }
    )


@requires(Role.ARCHIVIST, Role.OPERATOR)
async def verify(request: web.Request) -> web.Response:
    return json_response(dataclasses.asdict(await node_services(request).audit.verify()))


@requires(Role.ARCHIVIST, Role.OPERATOR)
async def checkpoints(request: web.Request) -> web.Response:
    return json_response(dataclasses.asdict(await node_services(request).audit.checkpoints()))


@requires(Role.ARCHIVIST, Role.OPERATOR)
async def audit_log_page(request: web.Request) -> web.Response:
    """``GET /n/{code}/audit-log``: the log for the archivist, filterable and paged."""
    services = node_services(request)
    info = services.info
    query = _query(request.query)
    page = await services.audit.entries(query)
    status = await services.audit.checkpoints()
    params = {"person": query.actor, "act": query.act, "record": query.subject}
    context = {
        "name": info.name,
        "code": info.code,
        "action": audit_views.audit_log_url(info.code),
        "person": query.actor,
        "record": query.subject,
        "acts": audit_views.act_options(query.act),
        "filtered": any(params.values()),
        "rows": [audit_views.audit_row(info.code, e) for e in page.entries],
        "pager": audit_views.audit_pager(info.code, _page_no(request.query), page, params),
        "checkpoints": audit_views.checkpoint_summary(status),
        "service_point": views.service_point_url(info.code),
        "status_href": f"/n/{info.code}/status",
        "registry_href": f"/n/{info.code}/registry",
    }
    return render_template("audit_log.html", request, context)


def add_routes(app: web.Application) -> None:
    """Register the audit routes on ``app``."""
    app.router.add_get("/api/v1/nodes/{code}/audit-log", entries)
    app.router.add_get("/api/v1/nodes/{code}/audit-log/verify", verify)
    app.router.add_get("/api/v1/nodes/{code}/audit-log/checkpoints", checkpoints)
    app.router.add_get("/n/{code}/audit-log", audit_log_page)
