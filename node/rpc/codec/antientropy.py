"""Converters for anti-entropy: range digests, the parent's views, and repairs."""

from __future__ import annotations

from node.digests import EntryDigest, KeyRange, RangeDigest, RangeView, RepairCounts
from node.federation.messages import CompareReply, CompareRequest, RepairRequest
from node.rpc.codec.catalogue import entry_from_pb, entry_to_pb
from node.rpc.codec.table import Converters
from node.rpc.generated.archive.v1 import antientropy_pb2 as pb


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
            pb.RepairEntry(entry=entry_to_pb(entry), expected_digest=expected)
            for entry, expected in r.entries
        ],
        removals=[_entry_digest_to_pb(e) for e in r.removals],
        deep=r.deep,
    )


def _repair_from_pb(msg: pb.RepairRequest) -> RepairRequest:
    return RepairRequest(
        entries=tuple((entry_from_pb(e.entry), e.expected_digest) for e in msg.entries),
        removals=tuple(_entry_digest_from_pb(e) for e in msg.removals),
        deep=msg.deep,
    )


CONVERTERS: Converters = {
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
