"""What every handler needs from the application: the hosted nodes, looked up by code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from node.errors import NotFound

if TYPE_CHECKING:
    from node.federation.service import NodeService

NODES: web.AppKey[Mapping[str, NodeService]] = web.AppKey("archive_nodes")


def hosted_nodes(request: web.Request) -> Mapping[str, NodeService]:
    """Every node this process hosts, by division code."""
    return request.app[NODES]


def node_service(request: web.Request) -> NodeService:
    """The node named by the ``{code}`` part of the URL.

    Raises:
        NotFound: this process does not host that node.
    """
    code = request.match_info["code"]
    service = hosted_nodes(request).get(code)
    if service is None:
        raise NotFound(f"本服务未托管节点 {code}。请核对节点代码，或从首页选择服务点。")
    return service


def json_response(body: object, status: int = 200) -> web.Response:
    """A JSON response with Chinese text left readable (UTF-8, not ``\\u`` escapes)."""
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )
