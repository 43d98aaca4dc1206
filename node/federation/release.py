"""Whether this node releases a record's content, and what it releases: one decision.

Both ways content leaves a node come here: a fetch from another node (the holder's side of
``Fetch``, ``catalogue_handlers.py``) and a fetch by this node's own users (the web and CLI,
through ``services/retrieval.py``). Today only open records are released; utilisation requests
(controlled records released once a request is approved) hook in at ``check_release``.

Content is stored by hash, so two records may name the same bytes. Ingest lets a record name
a file without sending it only if that record already had it (``services/ingest.py``); here,
whatever got stored, a file is released through an open record only if no record of this
node that may not be released names the same content (``check_content``): otherwise an open
record naming a controlled record's hash would serve the controlled bytes.
"""

from __future__ import annotations

import hashlib
import logging

from node.errors import AccessDenied, NotFound
from node.federation.messages import CHUNK_BYTES, ContentManifest, FetchRequest
from node.federation.parts import NodeParts
from node.records import Access, ContentFile, Record

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


async def check_content(parts: NodeParts, record: Record, content: ContentFile) -> None:
    """Refuse (``AccessDenied``) ``content`` of ``record`` if another record of this node
    names the same bytes and may not be released: the bytes are that record's too."""
    for other in await parts.records.naming_content(content.sha256):
        if other.record_id != record.record_id and other.access != Access.OPEN:
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


async def manifest_for(parts: NodeParts, request: FetchRequest) -> ContentManifest:
    """Describe the content this node would release for ``request``, or refuse."""
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
    await check_content(parts, record, content)
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
