"""``POST /api/v1/nodes/{code}/records``: an archivist's ingest of record metadata.

What ``archive-node ingest`` calls: ``{"records": [{...}, ...]}``, each record as in
``record_from_json``, held by the node in the URL, optionally with ``subject_ids``: the
identity numbers of its subjects, which this node keeps sealed and indexes blind (they are
not part of the record, and never leave this node). All or nothing: one bad record refuses the
whole request (naming it) and stores nothing.

A record's digital content comes in the same request, ``"contents": {"SHA256": "BASE64"}``
(``archive-node ingest --content DIR`` fills it in), and is stored with the records, all or
nothing; a file named without its content must be a file of the stored version of the same
record (``federation/services/ingest.py`` says why). The body may be up to
``MAX_INGEST_BYTES``: it is read here with that limit instead of aiohttp's 1 MiB default,
which holds for every other route.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from node.actors import Role
from node.citizens import IdNumber, InvalidIdNumber
from node.errors import InvalidInput, InvalidRecord
from node.records import (
    MAX_FILES,
    MAX_INGEST_RECORDS,
    MAX_SUBJECTS,
    Access,
    ContentFile,
    Record,
    Retention,
)
from node.web.auth import current_actor, requires
from node.web.context import json_response, node_services

_FIELDS = {
    "record_id", "archival_code", "fonds", "category", "year", "retention", "title",
    "creator", "date", "access", "subjects", "subject_index", "files", "version", "deleted",
    "holder", "subject_ids", "doc_type", "secrecy",
}  # fmt: skip
_FILE_FIELDS = {"name", "sha256", "size", "media_type"}
_REQUIRED = ("record_id", "archival_code", "fonds", "category", "year", "retention", "title")


def subject_ids_from_json(data: Any) -> tuple[IdNumber, ...]:
    """The identity numbers of a record's subjects (``subject_ids``), each checked
    (GB 11643); kept at this node only, sealed, and indexed blind. Messages never repeat a
    number.

    Raises:
        InvalidIdNumber: one is not an identity number (its position is named).
    """
    value = data.get("subject_ids", []) if isinstance(data, dict) else []
    if not isinstance(value, list) or len(value) > MAX_SUBJECTS:
        raise InvalidRecord(f"当事人证件号（subject_ids）应为列表，最多 {MAX_SUBJECTS} 个")
    numbers = []
    for position, item in enumerate(value, 1):
        try:
            numbers.append(IdNumber.parse(item))
        except InvalidIdNumber as exc:
            raise InvalidIdNumber(f"第 {position} 个当事人证件号（subject_ids）: {exc}") from None
    return tuple(numbers)


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


MAX_INGEST_BYTES = 64 * 1024 * 1024  # one request's JSON, content in base64 included


async def _body(request: web.Request) -> Any:
    """The JSON body, read up to ``MAX_INGEST_BYTES`` (413 past it)."""
    if request.content_length is not None and request.content_length > MAX_INGEST_BYTES:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_INGEST_BYTES, actual_size=request.content_length
        )
    data = bytearray()
    async for chunk in request.content.iter_chunked(1 << 20):
        data += chunk
        if len(data) > MAX_INGEST_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_INGEST_BYTES, actual_size=len(data))
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # ValueError includes UnicodeDecodeError
        raise InvalidInput("请求内容不是有效的 JSON（或嵌套过深）。请检查后重试。") from None


def _contents(value: object) -> dict[str, bytes]:
    """``{"SHA256": "BASE64", ...}`` as bytes by their (lower-case) sha256."""
    if not isinstance(value, dict):
        raise InvalidRecord('内容（contents）应为 {"sha256": "base64 编码的内容", ...}')
    contents = {}
    for sha, text in value.items():
        if not isinstance(text, str) or not isinstance(sha, str) or len(sha) != 64:
            raise InvalidRecord(f"内容 {str(sha)[:64]!r} 应以 sha256 为键、base64 文本为值")
        try:
            contents[sha.lower()] = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise InvalidRecord(f"内容 {sha} 不是有效的 base64 文本") from None
    return contents


@requires(Role.ARCHIVIST)
async def ingest(request: web.Request) -> web.Response:
    services = node_services(request)
    body = await _body(request)
    items = body.get("records") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_INGEST_RECORDS:
        raise InvalidInput(f'请求应为 {{"records": [...]}}，每次 1 到 {MAX_INGEST_RECORDS} 条')
    records = []
    subject_ids: dict[str, tuple[IdNumber, ...]] = {}
    for index, item in enumerate(items, 1):
        try:
            record = record_from_json(item, services.info.code)
            numbers = subject_ids_from_json(item)
        except InvalidInput as exc:
            raise type(exc)(f"第 {index} 条档案: {exc}") from None
        records.append(record)
        if numbers:
            subject_ids[record.record_id] = numbers
    contents = _contents(body.get("contents", {}))
    report = await services.ingest.ingest(
        records, contents, actor=current_actor(request), subject_ids=subject_ids
    )
    return json_response({"accepted": report.accepted, "change_head": report.change_head})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/nodes/{code}/records", ingest)
