"""Finding a citizen's own records by her identity number, and the identity index keys.

    POST /api/v1/nodes/{code}/search        {"id_number": "...", "q": ..., filters, "limit",
        "cursor"} -> as ``GET .../search``; staff only (a visitor may not probe who has which
        record). The number travels in the body, never in a URL, so no access log, proxy log
        or browser history holds it; ``GET .../search?id_number=`` is refused without
        echoing the value.
    GET  /api/v1/nodes/{code}/registry/index-keys          the key versions held (operator)
    POST /api/v1/nodes/{code}/registry/index-keys/rotate   the registry mints a new one

The service point turns the number into blind-index values (``federation/blind_index.py``);
only those travel. ``IdNumber.parse`` checks the number once, here: a wrong one is a 400
with a zh-CN message that does not repeat it.
"""

from __future__ import annotations

import dataclasses

from aiohttp import web

from node.actors import Role
from node.citizens import IdNumber
from node.errors import InvalidInput
from node.web.api import ID_IN_URL, page_json
from node.web.auth import current_actor, requires
from node.web.context import json_response, node_services, post_fields
from node.web.params import search_query

ID_FIELD = "id_number"


@requires(*Role)
async def search_by_id(request: web.Request) -> web.Response:
    if ID_FIELD in request.query:
        raise InvalidInput(ID_IN_URL)
    fields = await post_fields(request)
    raw = fields.pop(ID_FIELD, "")
    if not raw.strip():
        raise InvalidInput("请填写当事人的 18 位身份证号码（id_number）")
    number = IdNumber.parse(raw)
    page = await node_services(request).search.search(
        search_query(fields), actor=current_actor(request), id_number=number
    )
    return json_response(page_json(page))


@requires(Role.OPERATOR)
async def index_keys(request: web.Request) -> web.Response:
    return json_response(dataclasses.asdict(await node_services(request).trust.index_keys()))


@requires(Role.OPERATOR)
async def rotate_index_key(request: web.Request) -> web.Response:
    await post_fields(request)
    status = await node_services(request).trust.rotate_index_key(actor=current_actor(request))
    return json_response(dataclasses.asdict(status))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/nodes/{code}/search", search_by_id)
    app.router.add_get("/api/v1/nodes/{code}/registry/index-keys", index_keys)
    app.router.add_post("/api/v1/nodes/{code}/registry/index-keys/rotate", rotate_index_key)
