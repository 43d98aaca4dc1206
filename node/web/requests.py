"""Utilisation request pages and their JSON API.

Pages (zh-CN, usable at phone width, plain forms with CSRF):

    GET  /n/{code}/requests/new?holder=H&record=R   the request form (clerk)
    POST /n/{code}/requests                          file it (multipart: the power of attorney)
    GET  /n/{code}/requests                          the clerk's list, overdue first
    GET  /n/{code}/requests/queue                    the archivist's queue at the holder
    GET  /n/{code}/requests/{id}                     one request
    POST /n/{code}/requests/{id}/approve|reject      the archivist (a rejection needs a reason)
    POST /n/{code}/requests/{id}/withdraw            the clerk, before a decision
    GET  /n/{code}/requests/{id}/content             the delivered content (clerk)
    GET  /n/{code}/requests/{id}/copy.pdf            the printed certified copy (clerk)
    GET  /n/{code}/requests/{id}/attorney            an agent's power of attorney (archivist)

JSON under ``/api/v1/nodes/{code}/requests`` mirrors them for the CLI; the identity number
travels in the body of the POST only, never in a URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.actors import Role
from node.citizens import IdNumber
from node.errors import InvalidInput, NotFound
from node.federation.services.requests import DeliveredContent
from node.requests import MAX_ATTORNEY_BYTES, Attorney, Relationship, State
from node.requests import Role as RequestRole
from node.web.auth import csrf_token, current_actor, requires
from node.web.content import content_disposition
from node.web.context import json_response, node_services, post_fields, read_json
from node.web.views import requests as views

PAGE = 50


def _relationship(value: str) -> Relationship:
    try:
        return Relationship(value.strip())
    except ValueError:
        raise InvalidInput("与当事人关系应为“本人”或“委托代理人”，请选择后重新提交") from None


def _states(value: str) -> tuple[State, ...]:
    if not value:
        return ()
    try:
        return tuple(State(v) for v in value.split(","))
    except ValueError:
        raise InvalidInput(f"未知的申请状态：{value[:40]!r}") from None


def _offset(request: web.Request) -> int:
    try:
        return max(0, int(request.query.get("offset", "0")))
    except ValueError:
        raise InvalidInput("offset 应为非负整数") from None


# -- pages -------------------------------------------------------------------------------------


def _form_page(
    request: web.Request, values: dict[str, str], error: str = "", status: int = 200
) -> web.Response:
    info = node_services(request).info
    page = {
        "name": info.name,
        "code": info.code,
        "values": values,
        "error": error,
        "relationships": views.RELATIONSHIPS,
        "action": views.requests_url(info.code),
        "list_href": views.requests_url(info.code),
        "csrf": csrf_token(request),
    }
    response = render_template("request_form.html", request, page)
    response.set_status(status)
    return response


@requires(Role.CLERK)
async def new_form(request: web.Request) -> web.Response:
    """``GET /n/{code}/requests/new?holder=H&record=R``."""
    q = request.query
    values = {
        "holder": q.get("holder", "")[:12],
        "record_id": q.get("record", "")[:64],
        "citizen_name": "",
        "relationship": Relationship.SELF.value,
        "purpose": "",
    }
    return _form_page(request, values)


@requires(Role.CLERK)
async def submit_form(request: web.Request) -> web.Response:
    """``POST /n/{code}/requests`` from the form; an input error keeps what was typed
    (all but the identity number, which is typed again)."""
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    values = {
        k: fields.get(k, "").strip()[:200]
        for k in ("holder", "record_id", "citizen_name", "relationship", "purpose")
    }
    upload = form.get("attorney")
    try:
        attorney = None
        if isinstance(upload, web.FileField) and upload.filename:
            data = upload.file.read(MAX_ATTORNEY_BYTES + 1)
            attorney = Attorney(upload.content_type, data)
        view = await node_services(request).requests.submit(
            values["holder"],
            values["record_id"],
            values["citizen_name"],
            IdNumber.parse(fields.get("id_number", "")),
            _relationship(values["relationship"]),
            values["purpose"],
            attorney=attorney,
            actor=current_actor(request),
        )
    except InvalidInput as exc:
        return _form_page(request, values, str(exc), status=400)
    except NotFound as exc:  # no certificate of that holder to seal to: say so on the form
        return _form_page(request, values, str(exc), status=404)
    code = request.match_info["code"]
    raise web.HTTPSeeOther(views.request_url(code, view.filed.request_id))


async def _list_page(request: web.Request, role: RequestRole, template: str) -> web.Response:
    services = node_services(request)
    info = services.info
    state = request.query.get("state", "submitted" if role == RequestRole.INCOMING else "")
    listing = await services.requests.list(
        role, _states(state), limit=PAGE, offset=_offset(request), actor=current_actor(request)
    )
    page = {
        "name": info.name,
        "code": info.code,
        "rows": [views.request_row(info.code, v) for v in listing.items],
        "total": listing.total,
        "overdue": listing.overdue,
        "state": state,
        "states": views.STATE_FILTERS,
        "csrf": csrf_token(request),
        "queue_href": views.queue_url(info.code),
        "list_href": views.requests_url(info.code),
    }
    return render_template(template, request, page)


@requires(Role.CLERK)
async def list_page(request: web.Request) -> web.Response:
    """``GET /n/{code}/requests[?state=]``: the requests filed here."""
    return await _list_page(request, RequestRole.OUTGOING, "request_list.html")


@requires(Role.ARCHIVIST)
async def queue_page(request: web.Request) -> web.Response:
    """``GET /n/{code}/requests/queue[?state=]``: requests held here, waiting first."""
    return await _list_page(request, RequestRole.INCOMING, "request_queue.html")


@requires(Role.CLERK, Role.ARCHIVIST)
async def request_page(request: web.Request) -> web.Response:
    services = node_services(request)
    info = services.info
    view = await services.requests.show(request.match_info["id"], actor=current_actor(request))
    page = {
        "name": info.name,
        "code": info.code,
        "row": views.request_row(info.code, view),
        "csrf": csrf_token(request),
        "list_href": views.requests_url(info.code),
        "queue_href": views.queue_url(info.code),
        "done": request.query.get("done", ""),
    }
    return render_template("request_page.html", request, page)


async def _decide(request: web.Request, approve: bool) -> None:
    body = await post_fields(request)
    service = node_services(request).requests
    rid, actor = request.match_info["id"], current_actor(request)
    reason = body.get("reason", "")
    if approve:
        await service.approve(rid, reason, actor=actor)
    else:
        await service.reject(rid, reason, actor=actor)


@requires(Role.ARCHIVIST)
async def approve_form(request: web.Request) -> web.Response:
    await _decide(request, True)
    raise web.HTTPSeeOther(views.queue_url(request.match_info["code"]) + "?done=approved")


@requires(Role.ARCHIVIST)
async def reject_form(request: web.Request) -> web.Response:
    await _decide(request, False)
    raise web.HTTPSeeOther(views.queue_url(request.match_info["code"]) + "?done=rejected")


@requires(Role.CLERK)
async def withdraw_form(request: web.Request) -> web.Response:
    await post_fields(request)
    rid = request.match_info["id"]
    await node_services(request).requests.withdraw(rid, actor=current_actor(request))
    raise web.HTTPSeeOther(views.request_url(request.match_info["code"], rid) + "?done=withdrawn")


@requires(Role.CLERK)
async def content(request: web.Request) -> web.StreamResponse:
    """The content delivered for a request filed here, as an attachment."""
    rid = request.match_info["id"]
    got = await node_services(request).requests.content(rid, actor=current_actor(request))
    return await _stream(request, got, rid, "application/octet-stream")


async def _stream(
    request: web.Request, got: DeliveredContent, stem: str, media_type: str
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": media_type,
            "Content-Disposition": content_disposition("attachment", got.content.name, stem),
            "X-Content-SHA256": got.content.sha256,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }
    )
    response.content_length = got.content.size
    await response.prepare(request)
    async for chunk in got.chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


@requires(Role.ARCHIVIST)
async def attorney(request: web.Request) -> web.StreamResponse:
    """``GET …/requests/{id}/attorney``: an agent's power of attorney, for the archivist."""
    rid = request.match_info["id"]
    got = await node_services(request).requests.attorney(rid, actor=current_actor(request))
    return await _stream(request, got, f"attorney-{rid}", got.content.media_type)


@requires(Role.CLERK)
async def copy_pdf(request: web.Request) -> web.Response:
    """``GET …/requests/{id}/copy.pdf``: the printed 档案证明 of the holder's certified copy."""
    rid = request.match_info["id"]
    printed = await node_services(request).requests.copy_pdf(rid, actor=current_actor(request))
    inline = request.query.get("download", "") not in ("1", "true", "yes")
    return web.Response(
        body=printed.pdf,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": content_disposition(
                "inline" if inline else "attachment", printed.file_name, f"copy-{rid}.pdf"
            ),
            "X-Content-SHA256": hashlib.sha256(printed.pdf).hexdigest(),
            "X-Copy-Code": printed.code,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


# -- JSON API ----------------------------------------------------------------------------------


@requires(Role.CLERK)
async def api_submit(request: web.Request) -> web.Response:
    """``POST …/requests``: holder, record_id, citizen_name, id_number, relationship, purpose,
    and for an agent attorney (base64) with attorney_type."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidInput("请求内容应为 JSON 对象")
    attorney = None
    if body.get("attorney"):
        try:
            data = base64.b64decode(str(body["attorney"]), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("授权委托书（attorney）应为 base64 编码的文件内容") from None
        attorney = Attorney(str(body.get("attorney_type", "")), data)
    view = await node_services(request).requests.submit(
        str(body.get("holder", "")),
        str(body.get("record_id", "")),
        str(body.get("citizen_name", "")),
        IdNumber.parse(body.get("id_number")),
        _relationship(str(body.get("relationship", Relationship.SELF.value))),
        str(body.get("purpose", "")),
        attorney=attorney,
        actor=current_actor(request),
    )
    return json_response(views.request_json(view), status=201)


@requires(Role.CLERK, Role.ARCHIVIST)
async def api_list(request: web.Request) -> web.Response:
    """``GET …/requests?role=outgoing|incoming&state=a,b&limit=&offset=``."""
    try:
        role = RequestRole(request.query.get("role", "outgoing"))
        limit = int(request.query.get("limit", str(PAGE)))
    except ValueError:
        raise InvalidInput("role 应为 outgoing 或 incoming，limit 应为整数") from None
    listing = await node_services(request).requests.list(
        role,
        _states(request.query.get("state", "")),
        limit=limit,
        offset=_offset(request),
        actor=current_actor(request),
    )
    items = [views.request_json(v) for v in listing.items]
    return json_response({"total": listing.total, "overdue": listing.overdue, "items": items})


@requires(Role.CLERK, Role.ARCHIVIST)
async def api_show(request: web.Request) -> web.Response:
    view = await node_services(request).requests.show(
        request.match_info["id"], actor=current_actor(request)
    )
    return json_response(views.request_json(view))


async def _api_decide(request: web.Request, approve: bool) -> web.Response:
    body = await post_fields(request)
    service = node_services(request).requests
    rid, actor, reason = request.match_info["id"], current_actor(request), body.get("reason", "")
    if approve:
        view = await service.approve(rid, reason, actor=actor)
    else:
        view = await service.reject(rid, reason, actor=actor)
    return json_response(views.request_json(view))


@requires(Role.ARCHIVIST)
async def api_approve(request: web.Request) -> web.Response:
    return await _api_decide(request, True)


@requires(Role.ARCHIVIST)
async def api_reject(request: web.Request) -> web.Response:
    return await _api_decide(request, False)


@requires(Role.CLERK)
async def api_withdraw(request: web.Request) -> web.Response:
    view = await node_services(request).requests.withdraw(
        request.match_info["id"], actor=current_actor(request)
    )
    return json_response(views.request_json(view))


def add_routes(app: web.Application) -> None:
    page = "/n/{code}/requests"
    app.router.add_get(page + "/new", new_form)
    app.router.add_get(page + "/queue", queue_page)
    app.router.add_get(page, list_page)
    app.router.add_post(page, submit_form)
    app.router.add_get(page + "/{id}", request_page)
    app.router.add_post(page + "/{id}/approve", approve_form)
    app.router.add_post(page + "/{id}/reject", reject_form)
    app.router.add_post(page + "/{id}/withdraw", withdraw_form)
    app.router.add_get(page + "/{id}/content", content, allow_head=False)
    app.router.add_get(page + "/{id}/copy.pdf", copy_pdf, allow_head=False)
    app.router.add_get(page + "/{id}/attorney", attorney, allow_head=False)
    api = "/api/v1/nodes/{code}/requests"
    app.router.add_post(api, api_submit)
    app.router.add_get(api, api_list)
    app.router.add_get(api + "/{id}", api_show)
    app.router.add_post(api + "/{id}/approve", api_approve)
    app.router.add_post(api + "/{id}/reject", api_reject)
    app.router.add_post(api + "/{id}/withdraw", api_withdraw)
    app.router.add_get(api + "/{id}/content", content, allow_head=False)
    app.router.add_get(api + "/{id}/copy.pdf", copy_pdf, allow_head=False)
