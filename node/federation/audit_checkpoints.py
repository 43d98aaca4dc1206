"""Signing this node's audit checkpoints and sending them to the parent, its witness.

``AuditCheckpointer.run_scheduled`` is the job body (``node/jobs.py``, every
``[audit] checkpoint_interval``): if the log grew since the last checkpoint, sign one (size,
head, time) with the node's key, keep it, and send it to the parent with the entry hashes
since the size the parent last accepted, in steps of at most ``MAX_SPAN`` (a long outage
does not make one oversized call). The parent answers accepted, refused (the log does not
extend what it witnessed: it logs that in its own log, and so do we), or resend (it
witnessed another size than we thought: we resend from there). The province has no parent:
it signs and keeps its checkpoints only.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from node.actors import node_actor
from node.audit import MAX_SPAN, Act, Checkpoint
from node.errors import NodeError, StorageError
from node.federation.client import FederationClient
from node.federation.envelope import now_ms
from node.federation.messages import AUDIT_CHECKPOINT, AuditCheckpointAck, AuditCheckpointRequest

log = logging.getLogger(__name__)

_RESENDS = 2  # "resend" answers followed in one run before giving up until the next


class AuditCheckpointer:
    """Signs checkpoints of one node's audit log and has its parent witness them."""

    def __init__(self, client: FederationClient, parent: str | None) -> None:
        self.client = client
        self.parent = parent

    @property
    def code(self) -> str:
        return self.client.parts.code

    async def run_scheduled(self) -> None:
        """The scheduled job: checkpoint now; a failure is logged, the next run retries."""
        try:
            await self.checkpoint_now()
        except NodeError as exc:
            log.warning("audit checkpoint of %s failed: %s", self.code, exc)

    async def checkpoint_now(self) -> AuditCheckpointAck | None:
        """Sign a checkpoint of the log as it is (if it grew) and send it to the parent.

        Returns the parent's last answer (None at the province, or for an empty log).
        """
        audit = self.client.parts.audit
        await audit.flush()
        size, head = await audit.head()
        if size == 0:
            return None
        latest = await audit.latest_checkpoint()
        if latest is None or latest.size < size:
            latest = self._sign(size, head)
            await audit.save_checkpoint(latest)
        if self.parent is None:
            return None
        return await self._send_upto(latest)

    async def ask_parent(self) -> Checkpoint | None:
        """The latest checkpoint of ours the parent holds (a question, it changes nothing)."""
        if self.parent is None:
            return None
        return (await self._call(AuditCheckpointRequest(checkpoint=None))).witnessed

    def _sign(self, size: int, head: bytes) -> Checkpoint:
        signer = self.client.parts.signer  # read now: rotation replaces it
        unsigned = Checkpoint(self.code, size, head, now_ms(signer.clock), signer.key.key_id)
        return replace(unsigned, signature=signer.key.sign(unsigned.signing_input()))

    async def _send_upto(self, target: Checkpoint) -> AuditCheckpointAck:
        audit = self.client.parts.audit
        from_size = await audit.last_accepted()
        resends = 0
        while True:
            if target.size - from_size > MAX_SPAN:  # a step: an intermediate checkpoint
                step_size = from_size + MAX_SPAN
                step_head = await audit.chain_at(step_size)
                if step_head is None:
                    raise StorageError(f"audit entry {step_size} is missing")
                checkpoint = self._sign(step_size, step_head)
                await audit.save_checkpoint(checkpoint)
            else:
                checkpoint = target
            hashes = await audit.hashes_between(from_size, checkpoint.size)
            ack = await self._call(AuditCheckpointRequest(checkpoint, from_size, tuple(hashes)))
            if ack.status == "resend" and ack.witnessed is not None and resends < _RESENDS:
                resends += 1
                from_size = ack.witnessed.size
                continue
            await audit.witness_answer(checkpoint.size, self.parent or "", ack.status, ack.reason)
            if ack.status == "refused":
                log.error(
                    "parent %s refused audit checkpoint %d of %s: %s",
                    self.parent,
                    checkpoint.size,
                    self.code,
                    ack.reason,
                )
                await audit.append(
                    node_actor(self.parent or "", self.code),
                    Act.CHECKPOINT_REFUSED_BY_PARENT,
                    self.parent or "",
                    {"size": checkpoint.size, "reason": ack.reason},
                )
                return ack
            if ack.status != "accepted" or checkpoint is target:
                return ack
            from_size = checkpoint.size

    async def _call(self, request: AuditCheckpointRequest) -> AuditCheckpointAck:
        assert self.parent is not None
        p = self.client.parts
        reply = await self.client.call(AUDIT_CHECKPOINT, self.parent, p.codec.encode(request))
        return p.codec.decode(AuditCheckpointAck, reply.payload)
