"""Appraisal (鉴定) for archivists: the opening-review and disposal-review lists, decisions.

    GET  /api/v1/nodes/{code}/appraisal?kind=opening|disposal  one page of a list
    POST /api/v1/nodes/{code}/appraisal/scan                   list what is due now
    POST /api/v1/nodes/{code}/appraisal/{open|keep|dispose}    decide on records
         (``{"kind": ..., "records": "ID ID ...", "reason": ...}``)
    GET  /n/{code}/appraisal?kind=...                          the lists as a zh-CN page
    POST /n/{code}/appraisal                                   the page's form (CSRF)

What ``archive-node appraisal list|open|keep|dispose`` calls. Only an archivist of the node
may (``@requires``); each decision is audited by the service, with its reason.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import quote

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.actors import Role
from node.errors import InvalidInput
from node.web.auth import csrf_token, current_actor, requires
from node.web.context import json_response, node_services, post_fields
from node.web.params import integer

_IDS = re.compile(r"[\s,，]+")
DECISIONS = ("open", "keep", "dispose")
KIND_ZH = {"opening": "开放鉴定", "disposal": "销毁鉴定"}
DECISION_ZH = {"open": "开放", "keep": "维持现状", "dispose": "销毁"}


def _ids(value: str) -> list[str]:
    return [part for part in _IDS.split(value) if part]


@requires(Role.ARCHIVIST)
async def list_api(request: web.Request) -> web.Response:
    kind = request.query.get("kind", "opening")
    limit = integer(request.query, "limit", "每页条数") or 50
    offset = integer(request.query, "offset", "起始位置") or 0
    page = await node_services(request).appraisal.pending(kind, limit, offset)
    return json_response(dataclasses.asdict(page))


@requires(Role.ARCHIVIST)
async def scan_api(request: web.Request) -> web.Response:
    await post_fields(request)
    report = await node_services(request).appraisal.scan(actor=current_actor(request))
    return json_response(dataclasses.asdict(report))


@requires(Role.ARCHIVIST)
async def decide_api(request: web.Request) -> web.Response:
    decision = request.match_info["decision"]
    fields = await post_fields(request)
    done = await node_services(request).appraisal.decide(
        decision,
        fields.get("kind", ""),
        _ids(fields.get("records", "")),
        fields.get("reason", ""),
        actor=current_actor(request),
    )
    return json_response(dataclasses.asdict(done))


@requires(Role.ARCHIVIST)
async def page(request: web.Request) -> web.Response:
    """The two lists, one at a time (``kind``), with checkboxes and a reason for a batch."""
    services = node_services(request)
    kind = request.query.get("kind", "opening")
    offset = integer(request.query, "offset", "起始位置") or 0
    listing = await services.appraisal.pending(kind, 50, offset)
    code = services.info.code
    context = {
        "name": services.info.name,
        "code": code,
        "kind": kind,
        "kinds": [
            {"kind": k, "label": label, "href": f"/n/{code}/appraisal?kind={k}"}
            for k, label in KIND_ZH.items()
        ],
        "kind_zh": KIND_ZH[listing.kind],
        "total": listing.total,
        "items": listing.items,
        "decisions": [
            {"value": d, "label": DECISION_ZH[d]}
            for d in (("open", "keep") if kind == "opening" else ("dispose", "keep"))
        ],
        "action": f"/n/{code}/appraisal",
        "done": request.query.get("done", ""),
        "next": f"/n/{code}/appraisal?kind={kind}&offset={offset + 50}"
        if offset + 50 < listing.total
        else "",
        "csrf": csrf_token(request),
    }
    return render_template("appraisal.html", request, context)


@requires(Role.ARCHIVIST)
async def page_form(request: web.Request) -> web.Response:
    fields = await post_fields(request)
    form = await request.post()
    records = [str(v) for v in form.getall("record", []) if isinstance(v, str)]
    decision = fields.get("decision", "")
    if decision not in DECISIONS:
        raise InvalidInput("请选择鉴定结论（开放、维持现状或销毁）")
    kind = fields.get("kind", "")
    done = await node_services(request).appraisal.decide(
        decision, kind, records, fields.get("reason", ""), actor=current_actor(request)
    )
    note = quote(f"已{DECISION_ZH[decision]} {len(done.records)} 件")
    raise web.HTTPSeeOther(f"/n/{request.match_info['code']}/appraisal?kind={kind}&done={note}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/nodes/{code}/appraisal", list_api)
    app.router.add_post("/api/v1/nodes/{code}/appraisal/scan", scan_api)
    app.router.add_post("/api/v1/nodes/{code}/appraisal/{decision}", decide_api)
    app.router.add_get("/n/{code}/appraisal", page)
    app.router.add_post("/n/{code}/appraisal", page_form)
