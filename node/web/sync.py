"""Catalogue sync as operators see it: each link's cursor, lag, last error and next retry.

    GET  /api/v1/nodes/{code}/sync          links toward the parent, and children's cursors
    POST /api/v1/nodes/{code}/sync/retry    end the backoff and push now (``{"peer": ...}``)
    GET  /n/{code}/status                   the same as a zh-CN page, with a retry button
                                            (``templates/status.html``)

What ``archive-node stats`` and ``archive-node sync retry`` call. Reading needs an archivist
or operator of the node, retrying an operator (``@requires``); a browser's POST must come
from this site's own pages with the session's CSRF token.
"""

from __future__ import annotations

import dataclasses

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.actors import Role
from node.web import views
from node.web.auth import csrf_token, current_actor, requires
from node.web.context import json_response, node_services, post_fields
from node.web.views import admin


@requires(Role.ARCHIVIST, Role.OPERATOR)
async def sync_status(request: web.Request) -> web.Response:
    """``GET .../sync``."""
    status = await node_services(request).sync.sync_status()
    return json_response(dataclasses.asdict(status))


@requires(Role.OPERATOR)
async def retry(request: web.Request) -> web.Response:
    """``POST .../sync/retry``: body ``{"peer": CODE}`` (optional: the parent)."""
    peer = (await post_fields(request)).get("peer") or None
    link = await node_services(request).sync.retry_sync(peer, actor=current_actor(request))
    return json_response({"retrying": dataclasses.asdict(link)})


@requires(Role.OPERATOR)
async def retry_form(request: web.Request) -> web.Response:
    await post_fields(request)
    await node_services(request).sync.retry_sync(actor=current_actor(request))
    raise web.HTTPSeeOther(f"/n/{request.match_info['code']}/status")


@requires(Role.ARCHIVIST, Role.OPERATOR)
async def status_page(request: web.Request) -> web.Response:
    """``GET /n/{code}/status``: the node's sync links, for the archivist on duty."""
    services = node_services(request)
    info = services.info
    status = await services.sync.sync_status()
    now = status.at
    page = {
        "name": info.name,
        "code": info.code,
        "head": status.change_head,
        "links": [admin.link_row(link, now) for link in status.links],
        "children": [admin.child_row(c, now) for c in status.children],
        "retry_action": views.sync_retry_url(info.code) if info.parent else "",
        "csrf": csrf_token(request),
    }
    return render_template("status.html", request, page)


def add_routes(app: web.Application) -> None:
    """Register the sync routes on ``app``."""
    app.router.add_get("/api/v1/nodes/{code}/sync", sync_status)
    app.router.add_post("/api/v1/nodes/{code}/sync/retry", retry)
    app.router.add_get("/n/{code}/status", status_page)
    app.router.add_post("/n/{code}/status/retry", retry_form)
