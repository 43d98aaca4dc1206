"""What every handler needs from the application: the hosted nodes' services, by code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from node.errors import Forbidden, InvalidInput, NotFound
from node.web.hosts import WebHosts

if TYPE_CHECKING:
    from node.federation.services import NodeServices

NODES: web.AppKey[Mapping[str, NodeServices]] = web.AppKey("archive_nodes")
WEB_HOSTS: web.AppKey[WebHosts] = web.AppKey("archive_web_hosts")


def hosted_nodes(request: web.Request) -> Mapping[str, NodeServices]:
    """Every node this process hosts, by division code."""
    return request.app[NODES]


def node_services(request: web.Request) -> NodeServices:
    """The services of the node named by the ``{code}`` part of the URL; a handler takes
    the one it needs (``node_services(request).search``, ``.trust``, ...).

    Raises:
        NotFound: this process does not host that node.
    """
    code = request.match_info["code"]
    services = hosted_nodes(request).get(code)
    if services is None:
        raise NotFound(f"本服务未托管节点 {code}。请核对节点代码，或从首页选择服务点。")
    return services


def json_response(body: object, status: int = 200) -> web.Response:
    """A JSON response with Chinese text left readable (UTF-8, not ``\\u`` escapes)."""
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )


def same_origin(request: web.Request, *, required: bool = False) -> None:
    """Refuse a browser POST sent from another site's page: its ``Origin`` must be one of the
    configured names (``WebHosts``), never merely equal to the request's own ``Host``, which
    a DNS-rebinding page controls. ``required``: a request without ``Origin`` is refused too
    (a browser always sends it on a POST; the CLI, which sends none, uses a token instead).

    Raises:
        Forbidden: the ``Origin`` is another site's, or missing when required.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        if required:
            raise Forbidden("提交缺少来源（Origin）信息，已拒绝：请在本系统的页面上操作。")
        return
    scheme, _, authority = origin.partition("://")
    if scheme not in ("http", "https") or not request.app[WEB_HOSTS].allows(authority):
        raise Forbidden("跨站提交被拒绝：请在本系统的页面上操作。")


async def post_fields(request: web.Request) -> dict[str, str]:
    """A POST's fields, from a JSON object (the CLI) or a form (the pages); JSON nulls are
    left out. Checks the origin first.

    Raises:
        Forbidden: sent from another site's page.
        InvalidInput: the JSON body is not an object.
    """
    same_origin(request)
    if request.content_type == "application/json" and request.can_read_body:
        try:
            data: Any = await request.json()
        except ValueError:
            raise InvalidInput("请求内容不是有效的 JSON") from None
        if not isinstance(data, dict):
            raise InvalidInput("请求内容应为 JSON 对象")
        return {str(k): str(v) for k, v in data.items() if v is not None}
    return {k: str(v) for k, v in (await request.post()).items()}
