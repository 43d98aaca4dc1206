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
from node.records import MAX_FILES, MAX_INGEST_RECORDS, Access, ContentFile, Record, Retention
from node.web.auth import current_actor, requires
from node.web.context import json_response, node_services, read_json

_FIELDS = {
    "record_id", "archival_code", "fonds", "category", "year", "retention", "title",
    "creator", "date", "access", "subjects", "subject_index", "files", "version", "deleted",
    "holder", "doc_type", "secrecy",
}  # fmt: skip
_FILE_FIELDS = {"name", "sha256", "size", "media_type"}
_REQUIRED = ("record_id", "archival_code", "fonds", "category", "year", "retention", "title")


def record_from_json(data: Any, holder: str) -> Record:
    """A record from its JSON form (the ``Record`` fields; ``holder`` defaults to the node).

    Values are passed as JSON typed them: ``Record`` checks each field's type and range (a
    year must be a JSON integer, not ``"2015"``, ``2015.0`` or ``1e999``; a file's size an
    integer, not ``1.5``), so the web, the CLI and a peer are held to the same rules. Only
    the two enumerations are converted here, from their text.

    Raises:
        InvalidRecord: a field is missing, unknown or wrong.
    """
    if not isinstance(data, dict):
        raise InvalidRecord("每条档案应为 JSON 对象")
    unknown = set(data) - _FIELDS
    if unknown:
        raise InvalidRecord(f"未知字段: {', '.join(sorted(map(str, unknown)))[:200]}")
    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        raise InvalidRecord(f"缺少字段 {', '.join(missing)}")
    subjects = data.get("subjects", [])
    index = data.get("subject_index", [])
    return Record(
        holder=data.get("holder", holder),
        record_id=data["record_id"],
        archival_code=data["archival_code"],
        fonds=data["fonds"],
        category=data["category"],
        year=data["year"],
        retention=_choice(Retention, data["retention"], "保管期限（retention）"),
        title=data["title"],
        creator=data.get("creator", ""),
        date=data.get("date", ""),
        access=_choice(Access, data.get("access", "open"), "开放状态（access）"),
        subjects=tuple(subjects) if isinstance(subjects, list) else subjects,
        subject_index=tuple(index) if isinstance(index, list) else index,
        files=_files(data.get("files", [])),
        version=data.get("version", 1),
        deleted=data.get("deleted", False),
        doc_type=data.get("doc_type", ""),
        secrecy=data.get("secrecy", ""),
    )


def _choice(kind: type[Access] | type[Retention], value: object, label: str) -> Any:
    options = "、".join(member.value for member in kind)
    if not isinstance(value, str) or value not in {member.value for member in kind}:
        raise InvalidRecord(f"{label}未知: {value!r:.40}（可选: {options}）")
    return kind(value)


def _files(value: object) -> tuple[ContentFile, ...]:
    if not isinstance(value, list) or len(value) > MAX_FILES:
        raise InvalidRecord(f"文件（files）应为列表，最多 {MAX_FILES} 个")
    files = []
    for number, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise InvalidRecord(f"第 {number} 个文件应为 JSON 对象")
        unknown = set(item) - _FILE_FIELDS
        missing = {"name", "sha256", "size"} - set(item)
        if unknown or missing:
            raise InvalidRecord(
                f"第 {number} 个文件应有 name、sha256、size（可选 media_type）"
                f"{'，未知字段: ' + ', '.join(sorted(map(str, unknown)))[:200] if unknown else ''}"
            )
        files.append(ContentFile(**item))
    return tuple(files)


@requires(Role.ARCHIVIST)
async def ingest(request: web.Request) -> web.Response:
    services = node_services(request)
    body = await read_json(request)
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
