"""Protobuf <-> domain conversion: the federation's ``Codec``, implemented over generated code.

Decoding never trusts its input: a parse failure or a field out of range is a
``ProtocolError`` (INVALID_ARGUMENT on the wire), never a crash. Envelopes must also be
canonically encoded, so each signed envelope has exactly one byte form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from google.protobuf.message import DecodeError
from google.protobuf.message import Message as PbMessage

from node.certificates import Certificate
from node.digests import EntryDigest, KeyRange, RangeDigest, RangeView, RepairCounts
from node.errors import InvalidInput, ProtocolError
from node.federation.codec import M, Message
from node.federation.messages import (
    MAX_MESSAGE_BYTES,
    CompareReply,
    CompareRequest,
    ContentManifest,
    DirectoryPage,
    DirectoryRequest,
    EnrolApplication,
    EnrolStatus,
    Envelope,
    FetchPart,
    FetchRequest,
    Heartbeat,
    HeartbeatReply,
    PushAck,
    PushBatch,
    RenewReply,
    RenewRequest,
    RepairRequest,
    TrustReport,
    TrustReportAck,
)
from node.federation.trust.events import DirectoryHead
from node.records import Access, CatalogueEntry, Retention, SearchPage, SearchQuery
from node.rpc.generated.archive.v1 import federation_pb2 as pb

_ACCESS_TO_PB = {
    Access.OPEN: pb.ACCESS_OPEN,
    Access.CONTROLLED: pb.ACCESS_CONTROLLED,
    Access.CLOSED: pb.ACCESS_CLOSED,
}
_ACCESS_FROM_PB = {value: key for key, value in _ACCESS_TO_PB.items()}
_RETENTIONS = {r.value: r for r in Retention}


def _cert_to_pb(cert: Certificate) -> pb.Certificate:
    return pb.Certificate(
        node_id=cert.node_id,
        level=cert.level,
        parent_id=cert.parent_id,
        name=cert.name,
        key_id=cert.key_id,
        public_key=cert.public_key,
        address=cert.address,
        not_before_ms=cert.not_before_ms,
        not_after_ms=cert.not_after_ms,
        serial=cert.serial,
        signature=cert.signature,
    )


def _cert_from_pb(msg: pb.Certificate) -> Certificate:
    return Certificate(
        node_id=msg.node_id,
        level=msg.level,
        parent_id=msg.parent_id,
        name=msg.name,
        key_id=msg.key_id,
        public_key=msg.public_key,
        address=msg.address,
        not_before_ms=msg.not_before_ms,
        not_after_ms=msg.not_after_ms,
        serial=msg.serial,
        signature=msg.signature,
    )


def _envelope_to_pb(env: Envelope) -> pb.Envelope:
    return pb.Envelope(
        origin=env.origin,
        destination=env.destination,
        key_id=env.key_id,
        timestamp_ms=env.timestamp_ms,
        nonce=env.nonce,
        transaction_id=env.transaction_id,
        relayed=env.relayed,
        payload=env.payload,
        signature=env.signature,
        chain=[_cert_to_pb(c) for c in env.chain],
    )


def _envelope_from_pb(msg: pb.Envelope) -> Envelope:
    return Envelope(
        origin=msg.origin,
        destination=msg.destination,
        key_id=msg.key_id,
        timestamp_ms=msg.timestamp_ms,
        nonce=msg.nonce,
        transaction_id=msg.transaction_id,
        relayed=msg.relayed,
        payload=msg.payload,
        signature=msg.signature,
        chain=tuple(_cert_from_pb(c) for c in msg.chain),
    )


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
    }


def _entry_to_pb(entry: CatalogueEntry) -> pb.CatalogueEntry:
    return pb.CatalogueEntry(**_entry_fields(entry))


def _entry_from_pb(msg: pb.CatalogueEntry) -> CatalogueEntry:
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
    )


def _search_page_to_pb(page: SearchPage) -> pb.SearchResponse:
    return pb.SearchResponse(
        total=page.total,
        hits=[_entry_to_pb(e) for e in page.hits],
        answered_by=page.answered_by,
        total_capped=not page.total_exact,
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
    )


def _search_page_from_pb(msg: pb.SearchResponse) -> SearchPage:
    return SearchPage(
        total=msg.total,
        hits=tuple(_entry_from_pb(e) for e in msg.hits),
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
    )


def _part_to_pb(part: FetchPart) -> pb.FetchPart:
    if part.manifest is not None:
        return pb.FetchPart(manifest=_envelope_to_pb(part.manifest))
    return pb.FetchPart(chunk=part.chunk)


def _part_from_pb(msg: pb.FetchPart) -> FetchPart:
    if msg.WhichOneof("part") == "manifest":
        return FetchPart(manifest=_envelope_from_pb(msg.manifest))
    return FetchPart(chunk=msg.chunk)


def _head_to_pb(head: DirectoryHead) -> pb.DirectoryHead:
    return pb.DirectoryHead(
        version=head.version,
        chain_hash=head.chain_hash,
        issued_at_ms=head.issued_at_ms,
        signature=head.signature,
        chain=[_cert_to_pb(c) for c in head.chain],
    )


def _head_from_pb(msg: pb.DirectoryHead) -> DirectoryHead:
    return DirectoryHead(
        version=msg.version,
        chain_hash=msg.chain_hash,
        issued_at_ms=msg.issued_at_ms,
        signature=msg.signature,
        chain=tuple(_cert_from_pb(c) for c in msg.chain),
    )


def _page_to_pb(page: DirectoryPage) -> pb.DirectoryPage:
    msg = pb.DirectoryPage(first_version=page.first_version, events=list(page.events))
    if page.head is not None:
        msg.head.CopyFrom(_head_to_pb(page.head))
    return msg


def _page_from_pb(msg: pb.DirectoryPage) -> DirectoryPage:
    return DirectoryPage(
        head=_head_from_pb(msg.head) if msg.HasField("head") else None,
        first_version=msg.first_version,
        events=tuple(msg.events),
    )


def _range_to_pb(r: KeyRange) -> pb.KeyRange:
    return pb.KeyRange(
        lo=pb.CatalogueKey(holder=r.lo[0], record_id=r.lo[1]),
        hi=pb.CatalogueKey(holder=r.hi[0], record_id=r.hi[1]),
    )


def _range_from_pb(msg: pb.KeyRange) -> KeyRange:
    return KeyRange((msg.lo.holder, msg.lo.record_id), (msg.hi.holder, msg.hi.record_id))


def _entry_digest_to_pb(e: EntryDigest) -> pb.EntryDigest:
    return pb.EntryDigest(holder=e.holder, record_id=e.record_id, digest=e.digest)


def _entry_digest_from_pb(msg: pb.EntryDigest) -> EntryDigest:
    return EntryDigest(msg.holder, msg.record_id, msg.digest)


def _view_to_pb(v: RangeView) -> pb.RangeView:
    return pb.RangeView(
        range=_range_to_pb(v.range),
        count=v.count,
        listed=v.listed,
        entries=[_entry_digest_to_pb(e) for e in v.entries],
        splits=[pb.CatalogueKey(holder=h, record_id=r) for h, r in v.splits],
        parts=[pb.RangePart(count=c, digest=d) for c, d in v.parts],
    )


def _view_from_pb(msg: pb.RangeView) -> RangeView:
    return RangeView(
        range=_range_from_pb(msg.range),
        count=msg.count,
        listed=msg.listed,
        entries=tuple(_entry_digest_from_pb(e) for e in msg.entries),
        splits=tuple((k.holder, k.record_id) for k in msg.splits),
        parts=tuple((p.count, p.digest) for p in msg.parts),
    )


def _compare_to_pb(c: CompareRequest) -> pb.CompareRequest:
    return pb.CompareRequest(
        ranges=[
            pb.RangeDigest(range=_range_to_pb(r.range), count=r.count, digest=r.digest)
            for r in c.ranges
        ],
        deep=c.deep,
    )


def _compare_from_pb(msg: pb.CompareRequest) -> CompareRequest:
    return CompareRequest(
        tuple(RangeDigest(_range_from_pb(r.range), r.count, r.digest) for r in msg.ranges),
        deep=msg.deep,
    )


def _repair_to_pb(r: RepairRequest) -> pb.RepairRequest:
    return pb.RepairRequest(
        entries=[
            pb.RepairEntry(entry=_entry_to_pb(entry), expected_digest=expected)
            for entry, expected in r.entries
        ],
        removals=[_entry_digest_to_pb(e) for e in r.removals],
        deep=r.deep,
    )


def _repair_from_pb(msg: pb.RepairRequest) -> RepairRequest:
    return RepairRequest(
        entries=tuple((_entry_from_pb(e.entry), e.expected_digest) for e in msg.entries),
        removals=tuple(_entry_digest_from_pb(e) for e in msg.removals),
        deep=msg.deep,
    )


# domain type -> (protobuf type, to_pb, from_pb)
_TABLE: dict[type, tuple[type[PbMessage], Callable[[Any], Any], Callable[[Any], Any]]] = {
    Envelope: (pb.Envelope, _envelope_to_pb, _envelope_from_pb),
    PushBatch: (
        pb.PushBatch,
        _batch_to_pb,
        lambda m: PushBatch(
            batch_id=m.batch_id,
            from_seq=m.from_seq,
            to_seq=m.to_seq,
            entries=tuple(_entry_from_pb(e) for e in m.entries),
        ),
    ),
    PushAck: (
        pb.PushAck,
        lambda a: pb.PushAck(cursor=a.cursor, applied=a.applied),
        lambda m: PushAck(cursor=m.cursor, applied=m.applied),
    ),
    SearchQuery: (pb.SearchRequest, _query_to_pb, _query_from_pb),
    SearchPage: (pb.SearchResponse, _search_page_to_pb, _search_page_from_pb),
    FetchRequest: (
        pb.FetchRequest,
        lambda r: pb.FetchRequest(holder=r.holder, record_id=r.record_id, file_name=r.file_name),
        lambda m: FetchRequest(holder=m.holder, record_id=m.record_id, file_name=m.file_name),
    ),
    ContentManifest: (pb.ContentManifest, _manifest_to_pb, _manifest_from_pb),
    FetchPart: (pb.FetchPart, _part_to_pb, _part_from_pb),
    Heartbeat: (
        pb.Heartbeat,
        lambda h: pb.Heartbeat(change_head=h.change_head, directory_version=h.directory_version),
        lambda m: Heartbeat(change_head=m.change_head, directory_version=m.directory_version),
    ),
    HeartbeatReply: (
        pb.HeartbeatReply,
        lambda h: pb.HeartbeatReply(cursor=h.cursor, directory_version=h.directory_version),
        lambda m: HeartbeatReply(cursor=m.cursor, directory_version=m.directory_version),
    ),
    DirectoryRequest: (
        pb.DirectoryRequest,
        lambda r: pb.DirectoryRequest(after_version=r.after_version, limit=r.limit),
        lambda m: DirectoryRequest(after_version=m.after_version, limit=m.limit),
    ),
    DirectoryPage: (pb.DirectoryPage, _page_to_pb, _page_from_pb),
    EnrolApplication: (
        pb.EnrolApplication,
        lambda a: pb.EnrolApplication(
            code=a.code, name=a.name, public_key=a.public_key, address=a.address
        ),
        lambda m: EnrolApplication(
            code=m.code, name=m.name, public_key=m.public_key, address=m.address
        ),
    ),
    EnrolStatus: (
        pb.EnrolStatus,
        lambda s: pb.EnrolStatus(
            status=s.status, message=s.message, chain=[_cert_to_pb(c) for c in s.chain]
        ),
        lambda m: EnrolStatus(
            status=m.status, message=m.message, chain=tuple(_cert_from_pb(c) for c in m.chain)
        ),
    ),
    RenewRequest: (
        pb.RenewRequest,
        lambda r: pb.RenewRequest(new_public_key=r.new_public_key, address=r.address),
        lambda m: RenewRequest(new_public_key=m.new_public_key, address=m.address),
    ),
    RenewReply: (
        pb.RenewReply,
        lambda r: pb.RenewReply(chain=[_cert_to_pb(c) for c in r.chain]),
        lambda m: RenewReply(chain=tuple(_cert_from_pb(c) for c in m.chain)),
    ),
    TrustReport: (
        pb.TrustReport,
        lambda r: pb.TrustReport(events=list(r.events)),
        lambda m: TrustReport(events=tuple(m.events)),
    ),
    TrustReportAck: (
        pb.TrustReportAck,
        lambda a: pb.TrustReportAck(directory_version=a.directory_version),
        lambda m: TrustReportAck(directory_version=m.directory_version),
    ),
    CompareRequest: (pb.CompareRequest, _compare_to_pb, _compare_from_pb),
    CompareReply: (
        pb.CompareReply,
        lambda r: pb.CompareReply(differing=[_view_to_pb(v) for v in r.differing]),
        lambda m: CompareReply(tuple(_view_from_pb(v) for v in m.differing)),
    ),
    RepairRequest: (pb.RepairRequest, _repair_to_pb, _repair_from_pb),
    RepairCounts: (
        pb.RepairReply,
        lambda c: pb.RepairReply(
            written=c.written, removed=c.removed, unchanged=c.unchanged, skipped=c.skipped
        ),
        lambda m: RepairCounts(m.written, m.removed, m.unchanged, m.skipped),
    ),
}


class ProtobufCodec:
    """``node.federation.codec.Codec`` over the generated ``archive.v1`` messages."""

    def encode(self, message: Message) -> bytes:
        _, to_pb, _ = _TABLE[type(message)]
        return cast(bytes, to_pb(message).SerializeToString())

    def decode(self, kind: type[M], data: bytes) -> M:
        if len(data) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"{kind.__name__} of {len(data)} bytes is over the size limit")
        pb_type, _, from_pb = _TABLE[kind]
        msg = pb_type()
        try:
            msg.ParseFromString(data)
            if kind is Envelope and msg.SerializeToString() != data:
                # Only the canonical encoding is accepted: no second spelling of one envelope
                # (a bool written as 2, a varint padded, a field repeated or unknown) passes.
                raise ProtocolError("envelope is not canonically encoded")
            return cast(M, from_pb(msg))
        except (DecodeError, ValueError, InvalidInput, RuntimeWarning) as exc:
            raise ProtocolError(f"malformed {kind.__name__}: {exc}") from None
