"""JSON API under ``/api/v1``: what the CLI and other programs call.

    GET /api/v1/nodes                                      hosted nodes
    GET /api/v1/nodes/{code}                               a node's status (staff only)
    GET /api/v1/nodes/{code}/search?q=&scope=&category=&year_from=&year_to=&retention=
        &access=&limit=&cursor=   -> {"total", "total_exact", "answered_by", "next_cursor",
        "prev_cursor", "hits"}; pass a page's next_cursor (with the same q and filters) for
        the next page (``offset=`` still works)
    POST /api/v1/nodes/{code}/search   the same, by a citizen's identity number in the body
        (``identity_search.py``)
    GET /api/v1/nodes/{code}/records/{holder}/{record_id}/content[?download=1][&file=NAME]
        (``content.record_content``)

Errors are ``{"error": {"type", "message"}}`` from ``middleware.py``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from aiohttp import web

from node.actors import Role
from node.errors import InvalidInput
from node.records import Access, CatalogueEntry, SearchPage
from node.web.auth import current_actor, requires
from node.web.content import record_content
from node.web.context import hosted_nodes, json_response, node_services
from node.web.params import search_query

if TYPE_CHECKING:
    from node.federation.services import NodeInfo


def node_json(info: NodeInfo) -> dict[str, object]:
    return {"code": info.code, "name": info.name, "level": info.level, "parent": info.parent}


def hit_json(entry: CatalogueEntry) -> dict[str, object]:
    """One search hit as the API returns it.

    The content's hash and size only for an open record: they are what a fetch checks, and
    nobody may fetch any other (catalogue entries of other records carry none either, but a
    row stored before they were redacted may still).
    """
    hit: dict[str, object] = {
        "holder": entry.holder,
        "holder_name": entry.holder_name,
        "record_id": entry.record_id,
        "ref": entry.ref,
        "archival_code": entry.archival_code,
        "title": entry.title,
        "year": entry.year,
        "category": entry.category,
        "retention": str(entry.retention),
        "access": str(entry.access),
        "creator": entry.creator,
        "version": entry.version,
    }
    if entry.access == Access.OPEN:
        hit["content_sha256"] = entry.content_sha256
        hit["content_size"] = entry.content_size
    return hit


async def list_nodes(request: web.Request) -> web.Response:
    nodes = hosted_nodes(request)
    return json_response({"nodes": [node_json(nodes[code].info) for code in sorted(nodes)]})


@requires(*Role)  # any staff account of the node: counts and links are not public
async def node_status(request: web.Request) -> web.Response:
    status = await node_services(request).sync.status()
    return json_response(dataclasses.asdict(status))


def page_json(page: SearchPage) -> dict[str, object]:
    return {
        "total": page.total,
        "total_exact": page.total_exact,
        "answered_by": page.answered_by,
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
        "hits": [hit_json(entry) for entry in page.hits],
    }


ID_IN_URL = (
    "身份证号码不能放在网址中（网址会留在日志和浏览记录里）：请用 POST 在请求正文中提交 "
    "id_number，或在命令行用 archive-node search --id-number -"
)


async def search(request: web.Request) -> web.Response:
    if "id_number" in request.query:  # personal data in a URL: refused, not echoed
        raise InvalidInput(ID_IN_URL)
    page = await node_services(request).search.search(
        search_query(request.query), actor=current_actor(request)
    )
    return json_response(page_json(page))


def add_routes(app: web.Application) -> None:
    """Register the API routes on ``app``."""
    app.router.add_get("/api/v1/nodes", list_nodes)
    app.router.add_get("/api/v1/nodes/{code}", node_status)
    app.router.add_get("/api/v1/nodes/{code}/search", search)
    app.router.add_get(
        "/api/v1/nodes/{code}/records/{holder}/{record_id}/content",
        record_content,
        allow_head=False,
    )
