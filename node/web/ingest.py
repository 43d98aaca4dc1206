"""``POST /api/v1/nodes/{code}/records``: an archivist's ingest of record metadata.

What ``archive-node ingest`` calls: ``{"records": [{...}, ...]}``, each record as in
``record_from_json``, held by the node in the URL. All or nothing: one bad record refuses the
whole request (naming it) and stores nothing. Files named by a record must already be in the
node's blob store (digital content is not uploaded through this call).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.actors import Role
from node.errors import InvalidInput, InvalidRecord
from node.records import MAX_INGEST_RECORDS, Access, ContentFile, Record, Retention
from node.web.auth import current_actor, requires
from node.web.context import json_response, node_services

_FIELDS = {
    "record_id", "archival_code", "fonds", "category", "year", "retention", "title",
    "creator", "date", "access", "subjects", "subject_index", "files", "version", "deleted",
    "holder",
}  # fmt: skip


def record_from_json(data: Any, holder: str) -> Record:
    """A record from its JSON form (the ``Record`` fields; ``holder`` defaults to the node).

    Raises:
        InvalidRecord: a field is missing, unknown or wrong.
    """
    if not isinstance(data, dict):
        raise InvalidRecord("每条档案应为 JSON 对象")
    unknown = set(data) - _FIELDS
    if unknown:
        raise InvalidRecord(f"未知字段: {', '.join(sorted(unknown))}")
    try:
        return Record(
            holder=str(data.get("holder", holder)),
            record_id=str(data["record_id"]),
            archival_code=str(data["archival_code"]),
            fonds=str(data["fonds"]),
            category=str(data["category"]),
            year=int(data["year"]),
            retention=Retention(data["retention"]),
            title=str(data["title"]),
            creator=str(data.get("creator", "")),
            date=str(data.get("date", "")),
            access=Access(data.get("access", "open")),
            subjects=tuple(map(str, data.get("subjects", ()))),
            subject_index=tuple(map(str, data.get("subject_index", ()))),
            files=tuple(ContentFile(**f) for f in data.get("files", ())),
            version=int(data.get("version", 1)),
            deleted=bool(data.get("deleted", False)),
        )
    except KeyError as exc:
        raise InvalidRecord(f"缺少字段 {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:
        raise InvalidRecord(f"字段取值无效（{exc}）") from None


@requires(Role.ARCHIVIST)
async def ingest(request: web.Request) -> web.Response:
    services = node_services(request)
    try:
        body = await request.json()
    except ValueError:
        raise InvalidInput("请求内容不是有效的 JSON") from None
    items = body.get("records") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_INGEST_RECORDS:
        raise InvalidInput(f'请求应为 {{"records": [...]}}，每次 1 到 {MAX_INGEST_RECORDS} 条')
    records = []
    for index, item in enumerate(items, 1):
        try:
            records.append(record_from_json(item, services.info.code))
        except InvalidRecord as exc:
            raise InvalidRecord(f"第 {index} 条档案: {exc}") from None
    report = await services.ingest.ingest(records, actor=current_actor(request))
    return json_response({"accepted": report.accepted, "change_head": report.change_head})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/nodes/{code}/records", ingest)
