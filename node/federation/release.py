"""Whether this node releases a record's content, and what it releases: one decision.

Both ways content leaves a node come here: a fetch from another node (the holder's side of
``Fetch``, ``catalogue_handlers.py``) and a fetch by this node's own users (the web and CLI,
through ``services/retrieval.py``). Open records are released to anyone; a controlled record
only to the node whose utilisation request for it this node approved, and only sealed to that
node's key (``check_request``, ``seal_manifest``; the chunks are sealed by the fetch handler).

Content is stored by hash, so two records may name the same bytes. Ingest lets a record name
a file without sending it only if that record already had it (``services/ingest.py``); here,
whatever got stored, a file is released through an open record only if no record of this
node that may not be released names the same content (``check_content``): otherwise an open
record naming a controlled record's hash would serve the controlled bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging

from node import crypto
from node.errors import AccessDenied, AuthError, NotFound
from node.federation.messages import CHUNK_BYTES, ContentManifest, FetchRequest
from node.federation.parts import NodeParts
from node.records import Access, ContentFile, Record
from node.requests import Role, State

log = logging.getLogger(__name__)


def check_release(record: Record) -> None:
    """Refuse (``NotFound``, ``AccessDenied``) unless ``record``'s content may be released.

    Messages name the record by its 档号, as clerks know it, not by the internal id."""
    if record.deleted:
        raise NotFound(f"档案 {record.archival_code} 已删除")
    if record.access == Access.CONTROLLED:
        raise AccessDenied(f"档案 {record.archival_code} 为控制使用，须经利用申请批准后方可调阅")
    if record.access != Access.OPEN:
        raise AccessDenied(f"档案 {record.archival_code} 不开放，不能调阅")


def unknown_record(parts: NodeParts, record_id: str) -> NotFound:
    """The refusal for a record this node does not have, and for a closed one: a closed
    record's URL answers exactly as an unknown one, so asking tells nobody it exists."""
    return NotFound(f"{parts.name}（{parts.code}）没有标识为 {record_id} 的档案，请核对后重试")


async def check_request(parts: NodeParts, request: FetchRequest, requester: str) -> Record:
    """The record an approved utilisation request of ``requester`` releases, or refuse
    (``NotFound`` for a request this node does not hold for that node and record, so nothing
    is told about other nodes' requests; ``AccessDenied`` while not approved)."""
    filed = await parts.requests.get(request.request_id)
    if (
        filed is None
        or filed.role != Role.INCOMING
        or filed.request.requesting_node != requester
        or filed.request.record_id != request.record_id
    ):
        raise NotFound(
            f"{parts.name}没有贵节点对档案 {request.record_id} 的利用申请 {request.request_id}"
        )
    if filed.state not in (State.APPROVED, State.DELIVERED):
        raise AccessDenied(
            f"利用申请 {request.request_id} 目前为“{filed.state.zh}”，未获批准的申请不能调阅"
        )
    record = await parts.records.get(request.record_id)
    if record.deleted or record.access == Access.CLOSED:
        raise AccessDenied(f"档案 {record.ref} 已不提供利用，请联系馆藏单位")
    return record


def seal_manifest(
    manifest: ContentManifest, requester_key: bytes, certified_copy: bytes = b""
) -> ContentManifest:
    """What relays see of a sealed delivery's manifest: the record's key and the chunk size;
    the real manifest, and the holder's certified copy if it issued one, are sealed to the
    requester (and signed with the rest)."""
    return ContentManifest(
        holder=manifest.holder,
        record_id=manifest.record_id,
        version=0,
        file_name="",
        media_type="",
        size=0,
        sha256="",
        chunk_size=manifest.chunk_size,
        chunk_sha256=(),
        title="",
        archival_code="",
        sealed_manifest=crypto.seal(requester_key, _inner_bytes(manifest, certified_copy)),
    )


def _inner_bytes(manifest: ContentManifest, certified_copy: bytes) -> bytes:
    body = {
        "holder": manifest.holder, "record_id": manifest.record_id,
        "version": manifest.version, "file_name": manifest.file_name,
        "media_type": manifest.media_type, "size": manifest.size, "sha256": manifest.sha256,
        "chunk_size": manifest.chunk_size,
        "chunk_sha256": [h.hex() for h in manifest.chunk_sha256],
        "title": manifest.title, "archival_code": manifest.archival_code,
        "copy": certified_copy.hex(),
    }  # fmt: skip
    return json.dumps(body, ensure_ascii=False).encode()


def open_manifest(key: crypto.SigningKey, sealed: ContentManifest) -> tuple[ContentManifest, bytes]:
    """The real manifest of a sealed delivery and the certified copy that came with it (b""
    if none); ``AuthError`` if it is not one for us."""
    try:
        body = json.loads(key.unseal(sealed.sealed_manifest).decode())
        inner = ContentManifest(
            holder=str(body["holder"]), record_id=str(body["record_id"]),
            version=int(body["version"]), file_name=str(body["file_name"]),
            media_type=str(body["media_type"]), size=int(body["size"]),
            sha256=str(body["sha256"]), chunk_size=int(body["chunk_size"]),
            chunk_sha256=tuple(bytes.fromhex(h) for h in body["chunk_sha256"]),
            title=str(body["title"]), archival_code=str(body["archival_code"]),
        )  # fmt: skip
        certified_copy = bytes.fromhex(str(body.get("copy", "")))
    except Exception:  # a box not for our key, or not a manifest: never trusted
        raise AuthError("sealed manifest cannot be opened with this node's key") from None
    if (inner.holder, inner.record_id) != (sealed.holder, sealed.record_id):
        raise AuthError("sealed manifest is for another record than its envelope")
    return inner, certified_copy


async def check_content(
    parts: NodeParts, record: Record, content: ContentFile, *, by_request: bool = False
) -> None:
    """Refuse (``AccessDenied``) ``content`` of ``record`` if another record of this node
    names the same bytes and may not be released: the bytes are that record's too. Released
    on a request, only a closed record's bytes are refused (a controlled one's are what the
    approval is for: they are this record's)."""
    for other in await parts.records.naming_content(content.sha256):
        barred = other.access == Access.CLOSED if by_request else other.access != Access.OPEN
        if other.record_id != record.record_id and barred:
            log.warning(
                "refused %s file %s: its content is also a file of %s (%s)",
                record.ref,
                content.name,
                other.ref,
                other.access,
            )
            raise AccessDenied(
                f"档案 {record.archival_code} 的文件 {content.name} 的内容"
                "同时属于本馆另一件不开放的档案，不能经由本档案调阅；请联系馆藏单位核对该档案的文件"
            )


async def manifest_for(
    parts: NodeParts, request: FetchRequest, requester: str = ""
) -> ContentManifest:
    """Describe the content this node would release for ``request``, or refuse. A request
    naming a utilisation request is decided by ``check_request`` for ``requester``; a closed
    record is answered exactly as an unknown one, so a refusal does not tell it exists."""
    if request.request_id:
        record = await check_request(parts, request, requester)
    else:
        try:
            record = await parts.records.get(request.record_id)
        except NotFound:
            raise unknown_record(parts, request.record_id) from None
        if record.access == Access.CLOSED:
            raise unknown_record(parts, request.record_id)
        check_release(record)
    if not record.files:
        raise NotFound(f"档案 {record.archival_code} 没有数字化内容")
    files = (
        [f for f in record.files if f.name == request.file_name]
        if request.file_name
        else [record.files[0]]
    )
    if not files:
        raise NotFound(f"档案 {record.archival_code} 没有名为 {request.file_name} 的文件")
    content = files[0]
    await check_content(parts, record, content, by_request=bool(request.request_id))
    chunk_hashes = [
        hashlib.sha256(chunk).digest()
        async for chunk in parts.blobs.read_chunks(content.sha256, CHUNK_BYTES)
    ]
    return ContentManifest(
        holder=parts.code,
        record_id=record.record_id,
        version=record.version,
        file_name=content.name,
        media_type=content.media_type,
        size=content.size,
        sha256=content.sha256,
        chunk_size=CHUNK_BYTES,
        chunk_sha256=tuple(chunk_hashes),
        title=record.title,
        archival_code=record.archival_code,
    )
