"""The audit call answered at the parent: a child's checkpoint to witness, or its question
what the parent has witnessed of it (``AuditCheckpoint``).

The parent keeps each child's accepted checkpoints and takes a new one only if it extends
the last: the chain recomputed over the entry hashes the child sent must reach the new head
(``AuditLog.witness``). A checkpoint that does not is refused, and the refusal is an entry in
the parent's own log, written in the same transaction. Only a direct child may send, only its
own checkpoint, signed by the key its verified envelope was signed with.
"""

from __future__ import annotations

from node.actors import node_actor
from node.audit import MAX_SPAN
from node.errors import AuthError, InvalidInput, Misaddressed
from node.federation.handlers import HandlerRegistry
from node.federation.messages import (
    AUDIT_CHECKPOINT,
    AuditCheckpointAck,
    AuditCheckpointRequest,
    Envelope,
)
from node.federation.parts import NodeParts
from node.identity import parent_of


def register(handlers: HandlerRegistry, parts: NodeParts) -> None:
    handlers.unary(AUDIT_CHECKPOINT, AuditWitness(parts).checkpoint)


class AuditWitness:
    def __init__(self, parts: NodeParts) -> None:
        self.parts = parts

    async def checkpoint(self, call: Envelope) -> bytes:
        p = self.parts
        if parent_of(call.origin) != p.code:
            raise Misaddressed(f"{call.origin} is not a child of {p.code}; it has no witness here")
        request = p.codec.decode(AuditCheckpointRequest, call.payload)
        if request.checkpoint is None:
            ack = AuditCheckpointAck("witnessed", await p.audit.witnessed(call.origin))
            return p.codec.encode(ack)
        checkpoint = request.checkpoint  # its ranges were checked as it was decoded
        if checkpoint.node != call.origin:
            raise InvalidInput(f"{call.origin} sent the checkpoint of {checkpoint.node}")
        if not checkpoint.signed_by(call.chain[0].public_key):
            raise AuthError(f"checkpoint {checkpoint.size} of {call.origin} is not signed by it")
        if len(request.entry_hashes) > MAX_SPAN:
            raise InvalidInput(f"{len(request.entry_hashes)} entry hashes (at most {MAX_SPAN})")
        if not 0 <= request.from_size <= checkpoint.size:
            raise InvalidInput(f"from_size {request.from_size} is past the checkpoint")
        status, witnessed, reason = await p.audit.witness(
            checkpoint,
            request.from_size,
            request.entry_hashes,
            node_actor(call.origin, p.code),
        )
        return p.codec.encode(AuditCheckpointAck(status, witnessed, reason))
