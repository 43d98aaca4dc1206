"""The public verify page and API of certified copies: ``/n/{code}/verify`` and
``/api/v1/nodes/{code}/verify``.

Anybody (a bank, a court) may check a copy: upload the printed PDF or the credential JSON,
optionally with the content, or type the verification code printed on the paper (found only
at the node that issued the copy). Nothing changes, so no login and no CSRF token; a POST
from another site's page is still refused (``same_origin``). Uploads are read from the
multipart stream with their own bound (``printout.MAX_UPLOAD_BYTES``), not aiohttp's 1 MiB
body limit: a scanned record attached to a PDF is larger than that.
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp_jinja2 import render_template

from node.copies import Verdict
from node.copies_report import verdict_json
from node.errors import InvalidInput
from node.printout import MAX_UPLOAD_BYTES
from node.web.context import json_response, node_services, same_origin
from node.web.views.copies import verdict_view

_FIELDS = ("copy", "content", "code")
_NO_COPY = "请选择证明文件（打印件随附的 PDF 或证明 JSON），或输入核验码"


def _not_found(code: str) -> str:
    return (
        f"本馆没有核验码为 {code} 的档案证明：请核对核验码；"
        "证明须到出具它的档案馆的核验页查询（证明上的二维码即是），或上传证明文件核验。"
    )


async def _uploads(request: web.Request) -> dict[str, bytes]:
    """The fields of a multipart upload (``copy``, ``content``, ``code``), each bounded."""
    if not request.content_type.startswith("multipart/"):
        raise InvalidInput("请以表单上传证明文件（multipart/form-data）")
    try:
        reader = await request.multipart()
        fields: dict[str, bytes] = {}
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name not in _FIELDS:
                raise InvalidInput("上传的表单含有未知字段：只接受 copy、content 和 code")
            data = bytearray()
            while chunk := await part.read_chunk(256 * 1024):
                data += chunk
                if len(data) > MAX_UPLOAD_BYTES:
                    raise InvalidInput(f"上传的文件过大（每个最多 {MAX_UPLOAD_BYTES >> 20} MB）")
            fields[part.name] = bytes(data)
    # a malformed multipart body: aiohttp's parser raises any of these
    except (ValueError, AssertionError, RuntimeError, HttpProcessingError):
        raise InvalidInput("上传的表单无法解析：请从核验页重新上传") from None
    return fields


async def _verdict(request: web.Request, fields: dict[str, bytes]) -> Verdict | None:
    """The verdict on an uploaded copy, or on the one kept under the typed code; None if
    the code is not known here. ``InvalidInput`` if neither was given, or the code is bad."""
    services = node_services(request)
    if fields.get("copy"):
        return await services.copies.verify(fields["copy"], fields.get("content") or None)
    typed = fields.get("code", b"").decode("utf-8", "replace").strip()
    if not typed:
        raise InvalidInput(_NO_COPY)
    found = await services.copies.lookup(typed)
    return found.verdict if found is not None else None


def _page(request: web.Request, *, verdict: Verdict | None = None, error: str = "",
          code: str = "", status: int = 200) -> web.Response:  # fmt: skip
    services = node_services(request)
    page = {
        "name": services.info.name,
        "code": services.info.code,
        "typed": code,
        "error": error,
        "verdict": verdict_view(verdict) if verdict is not None else None,
    }
    response = render_template("verify.html", request, page)
    response.set_status(status)
    return response


async def verify_form(request: web.Request) -> web.Response:
    """``GET /n/{code}/verify``: the form; with ``?code=`` (the QR code) the verdict too."""
    typed = request.query.get("code", "")
    if not typed:
        return _page(request)
    try:
        verdict = await _verdict(request, {"code": typed.encode()})
    except InvalidInput as exc:
        return _page(request, error=str(exc), code=typed, status=400)
    if verdict is None:
        return _page(request, error=_not_found(typed), code=typed, status=404)
    return _page(request, verdict=verdict, code=typed)


async def verify_upload(request: web.Request) -> web.Response:
    """``POST /n/{code}/verify``: the verdict on an uploaded copy or a typed code."""
    same_origin(request)
    typed = ""
    try:
        fields = await _uploads(request)
        typed = fields.get("code", b"").decode("utf-8", "replace")[:40]
        verdict = await _verdict(request, fields)
    except InvalidInput as exc:
        return _page(request, error=str(exc), code=typed, status=400)
    if verdict is None:
        return _page(request, error=_not_found(typed), code=typed, status=404)
    return _page(request, verdict=verdict, code=typed)


async def api_lookup(request: web.Request) -> web.Response:
    """``GET /api/v1/nodes/{code}/verify?code=...``: the verdict on a copy issued here."""
    verdict = await _verdict(request, {"code": request.query.get("code", "").encode()})
    if verdict is None:
        return json_response({"error": {"message": _not_found(request.query["code"])}}, 404)
    return json_response(verdict_json(verdict))


async def api_verify(request: web.Request) -> web.Response:
    """``POST /api/v1/nodes/{code}/verify``: the verdict on an uploaded copy (multipart
    fields ``copy`` and optionally ``content``, or ``code``)."""
    same_origin(request)
    verdict = await _verdict(request, await _uploads(request))
    if verdict is None:
        raise InvalidInput(_NO_COPY)
    return json_response(verdict_json(verdict))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/n/{code}/verify", verify_form)
    app.router.add_post("/n/{code}/verify", verify_upload)
    app.router.add_get("/api/v1/nodes/{code}/verify", api_lookup)
    app.router.add_post("/api/v1/nodes/{code}/verify", api_verify)
