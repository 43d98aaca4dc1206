"""Server-rendered zh-CN pages: the node list and the service-point search page.

Plain GET forms, no JavaScript: the clerk's query lives in the URL, so paging, the back
button and bookmarks work. The HTML is ``templates/index.html`` and ``templates/search.html``;
``node.web.views`` words what they show, and the template environment escapes every value.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.errors import InvalidQuery
from node.web import views
from node.web.auth import current_actor
from node.web.content import record_content
from node.web.context import hosted_nodes, node_services
from node.web.params import filters, integer
from node.web.views import catalogue

PAGE_SIZE = 20


async def index(request: web.Request) -> web.Response:
    """``GET /``: every node this process hosts, each linking to its service point."""
    nodes = hosted_nodes(request)
    items = [catalogue.node_item(nodes[code].info) for code in sorted(nodes)]
    return render_template("index.html", request, {"nodes": items})


async def service_point(request: web.Request) -> web.Response:
    """``GET /n/{code}/``: the clerk's search form and, if asked, one page of hits."""
    services = node_services(request)
    info = services.info
    params = request.query
    query = filters(params)
    page_no = integer(params, "page", "页码") or 1
    if page_no < 1:
        raise InvalidQuery(f"页码应从 1 开始，收到 {page_no}。")
    form = catalogue.search_form(info, params)
    results = None
    filters_given = (query.category, query.year_from, query.year_to, query.retention, query.access)
    if query.text.strip() or any(filters_given):
        # Pages come by cursor; a bare page number (an old bookmark) by offset.
        offset = 0 if query.cursor else (page_no - 1) * PAGE_SIZE
        query = replace(query, limit=PAGE_SIZE, offset=offset)
        result = await services.search.search(query, actor=current_actor(request))
        by = _node_label(request, result.answered_by)
        results = catalogue.results(info.code, result, page_no, PAGE_SIZE, params, by)
    return render_template("search.html", request, {"form": form, "results": results})


def _node_label(request: web.Request, code: str) -> str:
    """How the node that answered is named: by its name if this process hosts it."""
    hosted = hosted_nodes(request).get(code)
    return views.node_label(code, hosted.info.name if hosted is not None else None)


def add_routes(app: web.Application) -> None:
    """Register the page routes on ``app``."""
    app.router.add_get("/", index)
    app.router.add_get("/n/{code}", _to_service_point)
    app.router.add_get("/n/{code}/", service_point)
    app.router.add_get(
        "/n/{code}/records/{holder}/{record_id}/content", record_content, allow_head=False
    )


async def _to_service_point(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"/n/{quote(request.match_info['code'], safe='')}/")
