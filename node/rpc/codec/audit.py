"""Converters for the audit family: a child's checkpoint for its witness, and the answer.

Decoding checks ranges once (``node.audit.check_checkpoint``; every entry hash 32 bytes), so
an out-of-range field is a ``ProtocolError`` (INVALID_ARGUMENT), never a crash further in.
"""

from __future__ import annotations

from node.audit import HASH_BYTES, Checkpoint, check_checkpoint
from node.errors import InvalidInput
from node.federation.messages import AuditCheckpointAck, AuditCheckpointRequest
from node.rpc.codec.table import Converters
from node.rpc.generated.archive.v1 import audit_pb2 as pb


def _checkpoint_to_pb(c: Checkpoint) -> pb.AuditCheckpoint:
    return pb.AuditCheckpoint(
        node=c.node, size=c.size, head=c.head, at_ms=c.at_ms, key_id=c.key_id, signature=c.signature
    )


def _checkpoint_from_pb(m: pb.AuditCheckpoint) -> Checkpoint:
    return check_checkpoint(Checkpoint(m.node, m.size, m.head, m.at_ms, m.key_id, m.signature))


def _request_to_pb(r: AuditCheckpointRequest) -> pb.AuditCheckpointRequest:
    msg = pb.AuditCheckpointRequest(from_size=r.from_size, entry_hashes=list(r.entry_hashes))
    if r.checkpoint is not None:
        msg.checkpoint.CopyFrom(_checkpoint_to_pb(r.checkpoint))
    return msg


def _request_from_pb(m: pb.AuditCheckpointRequest) -> AuditCheckpointRequest:
    if any(len(h) != HASH_BYTES for h in m.entry_hashes):
        raise InvalidInput("every entry hash must be 32 bytes")
    return AuditCheckpointRequest(
        checkpoint=_checkpoint_from_pb(m.checkpoint) if m.HasField("checkpoint") else None,
        from_size=m.from_size,
        entry_hashes=tuple(m.entry_hashes),
    )


def _ack_to_pb(a: AuditCheckpointAck) -> pb.AuditCheckpointAck:
    msg = pb.AuditCheckpointAck(status=a.status, reason=a.reason)
    if a.witnessed is not None:
        msg.witnessed.CopyFrom(_checkpoint_to_pb(a.witnessed))
    return msg


def _ack_from_pb(m: pb.AuditCheckpointAck) -> AuditCheckpointAck:
    witnessed = _checkpoint_from_pb(m.witnessed) if m.HasField("witnessed") else None
    return AuditCheckpointAck(status=m.status, witnessed=witnessed, reason=m.reason)


CONVERTERS: Converters = {
    AuditCheckpointRequest: (pb.AuditCheckpointRequest, _request_to_pb, _request_from_pb),
    AuditCheckpointAck: (pb.AuditCheckpointAck, _ack_to_pb, _ack_from_pb),
}
