"""Converters for the catalogue family: entries, push batches, search, and fetch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from node.errors import InvalidInput, ProtocolError
from node.federation.messages import ContentManifest, FetchPart, FetchRequest, PushAck, PushBatch
from node.records import (
    MAX_INDEX_CHARS,
    MAX_QUERY_INDEX,
    Access,
    CatalogueEntry,
    Retention,
    SearchPage,
    SearchQuery,
)
from node.rpc.codec.envelope import envelope_from_pb, envelope_to_pb
from node.rpc.codec.table import Converters
from node.rpc.generated.archive.v1 import catalogue_pb2 as pb

_ACCESS_TO_PB = {
    Access.OPEN: pb.ACCESS_OPEN,
    Access.CONTROLLED: pb.ACCESS_CONTROLLED,
    Access.CLOSED: pb.ACCESS_CLOSED,
}
_ACCESS_FROM_PB = {value: key for key, value in _ACCESS_TO_PB.items()}
_RETENTIONS = {r.value: r for r in Retention}


def _entry_fields(entry: CatalogueEntry) -> dict[str, Any]:
    return {
        "holder": entry.holder,
        "record_id": entry.record_id,
        "version": entry.version,
        "archival_code": entry.archival_code,
        "category": entry.category,
        "year": entry.year,
        "retention": entry.retention.value,
        "title": entry.title,
        "creator": entry.creator,
        "access": _ACCESS_TO_PB[entry.access],
        "holder_name": entry.holder_name,
        "subjects": entry.subjects,
        "subject_index": entry.subject_index,
        "content_sha256": entry.content_sha256,
        "content_size": entry.content_size,
        "deleted": entry.deleted,
        "disposal": entry.disposal,
    }


def entry_to_pb(entry: CatalogueEntry) -> pb.CatalogueEntry:
    return pb.CatalogueEntry(**_entry_fields(entry))


def entry_from_pb(msg: pb.CatalogueEntry) -> CatalogueEntry:
    if msg.access not in _ACCESS_FROM_PB:
        raise ProtocolError(f"catalogue entry {msg.holder}/{msg.record_id} has no access level")
    return CatalogueEntry(
        holder=msg.holder,
        record_id=msg.record_id,
        version=msg.version,
        archival_code=msg.archival_code,
        category=msg.category,
        year=msg.year,
        retention=_retention(msg.retention),
        title=msg.title,
        creator=msg.creator,
        access=_ACCESS_FROM_PB[msg.access],
        holder_name=msg.holder_name,
        subjects=tuple(msg.subjects),
        subject_index=tuple(msg.subject_index),
        content_sha256=msg.content_sha256,
        content_size=msg.content_size,
        deleted=msg.deleted,
        disposal=msg.disposal,
    )


def _retention(value: str) -> Retention:
    try:
        return _RETENTIONS[value]  # a dict, not Retention(value): once per entry of a batch
    except KeyError:
        raise ProtocolError(f"unknown retention period {value!r}") from None


def _batch_to_pb(batch: PushBatch) -> pb.PushBatch:
    msg = pb.PushBatch(batch_id=batch.batch_id, from_seq=batch.from_seq, to_seq=batch.to_seq)
    add = msg.entries.add  # built in place: cheaper than building and copying each
    for entry in batch.entries:
        add(**_entry_fields(entry))
    return msg


def _batch_from_pb(msg: pb.PushBatch) -> PushBatch:
    return PushBatch(
        batch_id=msg.batch_id,
        from_seq=msg.from_seq,
        to_seq=msg.to_seq,
        entries=tuple(entry_from_pb(e) for e in msg.entries),
    )


def _query_to_pb(query: SearchQuery) -> pb.SearchRequest:
    return pb.SearchRequest(
        text=query.text,
        scope=query.scope,
        category=query.category or "",
        year_from=query.year_from or 0,
        year_to=query.year_to or 0,
        limit=query.limit,
        offset=query.offset,
        retention=query.retention or "",
        access=query.access or "",
        cursor=query.cursor,
        archival_code=query.archival_code,
        subject_index=list(query.subject_index),
    )


def _query_from_pb(msg: pb.SearchRequest) -> SearchQuery:
    return SearchQuery(
        text=msg.text,
        scope=msg.scope,
        category=msg.category or None,
        year_from=msg.year_from or None,
        year_to=msg.year_to or None,
        limit=msg.limit,
        offset=msg.offset,
        retention=msg.retention or None,
        access=msg.access or None,
        cursor=msg.cursor,
        archival_code=msg.archival_code,
        subject_index=_query_index(msg.subject_index),
    )


def _query_index(values: Sequence[str]) -> tuple[str, ...]:
    """A search's blind-index values, bounded as the service point makes them."""
    if len(values) > MAX_QUERY_INDEX or any(len(v) > MAX_INDEX_CHARS for v in values):
        raise InvalidInput(
            f"subject_index: at most {MAX_QUERY_INDEX} values of {MAX_INDEX_CHARS} characters"
        )
    return tuple(values)


def _search_page_to_pb(page: SearchPage) -> pb.SearchResponse:
    return pb.SearchResponse(
        total=page.total,
        hits=[entry_to_pb(e) for e in page.hits],
        answered_by=page.answered_by,
        total_capped=not page.total_exact,
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
    )


def _search_page_from_pb(msg: pb.SearchResponse) -> SearchPage:
    return SearchPage(
        total=msg.total,
        hits=tuple(entry_from_pb(e) for e in msg.hits),
        answered_by=msg.answered_by,
        total_exact=not msg.total_capped,
        next_cursor=msg.next_cursor,
        prev_cursor=msg.prev_cursor,
    )


def _manifest_to_pb(m: ContentManifest) -> pb.ContentManifest:
    return pb.ContentManifest(
        holder=m.holder,
        record_id=m.record_id,
        version=m.version,
        file_name=m.file_name,
        media_type=m.media_type,
        size=m.size,
        sha256=m.sha256,
        chunk_size=m.chunk_size,
        chunk_sha256=list(m.chunk_sha256),
        title=m.title,
        archival_code=m.archival_code,
        sealed_manifest=m.sealed_manifest,
    )


def _manifest_from_pb(msg: pb.ContentManifest) -> ContentManifest:
    return ContentManifest(
        holder=msg.holder,
        record_id=msg.record_id,
        version=msg.version,
        file_name=msg.file_name,
        media_type=msg.media_type,
        size=msg.size,
        sha256=msg.sha256,
        chunk_size=msg.chunk_size,
        chunk_sha256=tuple(msg.chunk_sha256),
        title=msg.title,
        archival_code=msg.archival_code,
        sealed_manifest=msg.sealed_manifest,
    )


def _part_to_pb(part: FetchPart) -> pb.FetchPart:
    if part.manifest is not None:
        return pb.FetchPart(manifest=envelope_to_pb(part.manifest))
    return pb.FetchPart(chunk=part.chunk)


def _part_from_pb(msg: pb.FetchPart) -> FetchPart:
    if msg.WhichOneof("part") == "manifest":
        return FetchPart(manifest=envelope_from_pb(msg.manifest))
    return FetchPart(chunk=msg.chunk)


CONVERTERS: Converters = {
    PushBatch: (pb.PushBatch, _batch_to_pb, _batch_from_pb),
    PushAck: (
        pb.PushAck,
        lambda a: pb.PushAck(cursor=a.cursor, applied=a.applied),
        lambda m: PushAck(cursor=m.cursor, applied=m.applied),
    ),
    SearchQuery: (pb.SearchRequest, _query_to_pb, _query_from_pb),
    SearchPage: (pb.SearchResponse, _search_page_to_pb, _search_page_from_pb),
    FetchRequest: (
        pb.FetchRequest,
        lambda r: pb.FetchRequest(
            holder=r.holder, record_id=r.record_id, file_name=r.file_name, request_id=r.request_id
        ),
        lambda m: FetchRequest(
            holder=m.holder, record_id=m.record_id, file_name=m.file_name, request_id=m.request_id
        ),
    ),
    ContentManifest: (pb.ContentManifest, _manifest_to_pb, _manifest_from_pb),
    FetchPart: (pb.FetchPart, _part_to_pb, _part_from_pb),
}
