"""What every handler needs from the application: the hosted nodes' services, by code."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from node.errors import Forbidden, InvalidInput, InvalidRecord, NotFound
from node.fields import text
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


MAX_FIELD_CHARS = 2_000  # one form or JSON field of an operator's POST (a reason, a code)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, or ``InvalidInput``: not JSON, not UTF-8, or nested so deep
    that parsing it would exhaust the parser's stack (``RecursionError``, a 500 before).

    The body's size is bounded by aiohttp's ``client_max_size`` (413 above it).
    """
    try:
        return await request.json()
    except (ValueError, RecursionError):  # ValueError includes UnicodeDecodeError
        raise InvalidInput("请求内容不是有效的 JSON（或嵌套过深）。请检查后重试。") from None


async def post_fields(request: web.Request) -> dict[str, str]:
    """A POST's fields, from a JSON object (the CLI) or a form (the pages); JSON nulls are
    left out (the caller's ``@requires`` has checked the origin). Every field is text (a JSON
    number or ``true`` is taken as its text), at most ``MAX_FIELD_CHARS`` long, valid UTF-8
    without control characters other than line breaks: what the services store and sign can
    always be stored and signed.

    Raises:
        InvalidInput: the body is not a JSON object, or a field is an object, a list, a file
            upload, too long or not valid text.
    """
    if request.content_type == "application/json" and request.can_read_body:
        data: Any = await read_json(request)
        if not isinstance(data, dict):
            raise InvalidInput("请求内容应为 JSON 对象")
        fields = {k: _json_scalar(k, v) for k, v in data.items() if v is not None}
    else:
        try:
            form = await request.post()
        except ValueError:
            raise InvalidInput("表单内容无法解析。请从本系统的页面提交。") from None
        fields = {}
        for key, value in form.items():
            if not isinstance(value, str):
                raise InvalidInput(f"字段 {key!r:.40} 应为文本，不接受上传文件")
            fields[key] = value
    for key, value in fields.items():
        try:
            text(key, "字段名", 100)
            text(value, f"字段 {key}", MAX_FIELD_CHARS, lines=True)
        except InvalidRecord as exc:
            raise InvalidInput(str(exc)) from None
    return fields


def _json_scalar(key: str, value: object) -> str:
    """A JSON field's value as text; objects, lists, infinities and huge integers refused."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int) and value.bit_length() < 64:
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise InvalidInput(f"字段 {key!r:.40} 应为文本或数字，不接受对象、列表、无穷大或超大整数")
