"""The OAI-PMH 2.0 feed of each hosted node over HTTP: ``GET`` or ``POST /n/{code}/oai``.

Public: a harvester needs no account, and the feed holds only what is open (or the fact
that an item once open no longer is). The protocol is ``federation/services/oai.py``; this
module only turns the HTTP request into its arguments and the answer into a response (an
OAI-PMH error is still HTTP 200, as the protocol says).
"""

from __future__ import annotations

from aiohttp import web

from node.errors import InvalidInput
from node.web.context import node_services

MAX_ARGUMENTS = 20  # a real request has at most five


async def _feed(request: web.Request, arguments: list[tuple[str, str]]) -> web.Response:
    services = node_services(request)
    if len(arguments) > MAX_ARGUMENTS:
        raise InvalidInput(f"OAI-PMH 请求的参数过多（最多 {MAX_ARGUMENTS} 个）")
    base_url = f"{request.scheme}://{request.host}/n/{services.info.code}/oai"
    reply = await services.oai.respond(arguments, base_url)
    return web.Response(body=reply.body, headers={"Content-Type": reply.content_type})


async def oai_get(request: web.Request) -> web.Response:
    return await _feed(request, list(request.query.items()))


async def oai_post(request: web.Request) -> web.Response:
    """The same request sent as a form (``application/x-www-form-urlencoded``)."""
    try:
        form = await request.post()
    except ValueError:
        raise InvalidInput("OAI-PMH 请求的表单无法解析") from None
    arguments = [(k, v) for k, v in form.items() if isinstance(v, str)]
    if len(arguments) != len(form):
        raise InvalidInput("OAI-PMH 请求不接受上传文件")
    return await _feed(request, arguments)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/n/{code}/oai", oai_get)
    app.router.add_post("/n/{code}/oai", oai_post)
