"""The audit log as archivists and operators use it: a filtered page of entries, a full check
of the chain and the checkpoints, and where this node's checkpoints and its children's stand.

Appending is internal: the services that act append (``AuditLog.note``/``append``/``hook``),
and ``audited`` here wraps an administrative act so its entry says whether it was done or
refused. ``verify`` asks the parent what it witnessed of this node, so a log rewritten since
(truncated and re-extended with forged entries, hashes and all) is caught even if the local
checkpoint rows were rewritten with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from node.actors import Actor
from node.audit import (
    AuditFinding,
    AuditPage,
    AuditQuery,
    AuditVerification,
    Checkpoint,
    WitnessMark,
)
from node.errors import NodeError
from node.federation.audit_checkpoints import AuditCheckpointer
from node.federation.parts import NodeParts
from node.storage.audit import AuditLog

T = TypeVar("T")


async def audited(
    audit: AuditLog,
    actor: Actor,
    act: str,
    subject: str,
    detail: Mapping[str, Any],
    work: Awaitable[T],
) -> T:
    """Await ``work`` (an act whose own writes are not in the log's transaction), then append
    its entry, durable before the caller hears back; a refused act is logged as refused."""
    try:
        result = await work
    except NodeError as exc:
        await audit.append(actor, act, subject, {**detail, "refused": type(exc).__name__})
        raise
    await audit.append(actor, act, subject, dict(detail))
    return result


@dataclass(frozen=True)
class OwnCheckpoint:
    size: int
    head: str  # hex
    at_ms: int
    key_id: str
    witness: str  # the parent that answered, "" if none yet
    status: str  # accepted, refused, "" (not sent: the province, or not yet)
    note: str


@dataclass(frozen=True)
class ChildCheckpoint:
    child: str
    size: int
    head: str  # hex
    at_ms: int
    received_at_ms: int


@dataclass(frozen=True)
class CheckpointStatus:
    code: str
    size: int  # entries in the log now
    head: str  # hex
    own: tuple[OwnCheckpoint, ...]  # newest first
    children: tuple[ChildCheckpoint, ...]  # the latest witnessed of each child


@dataclass(frozen=True)
class AuditReport:
    """The result of ``verify``: the check of the chain and of every checkpoint."""

    code: str
    ok: bool
    size: int
    head: str  # hex, as recomputed
    checkpoints_checked: int
    finding: AuditFinding | None
    parent: str  # the witnessing parent, "" at the province
    parent_witnessed: int  # the size the parent vouches for (0: none, or not reached)
    parent_note: str  # zh-CN: what the parent said, or why it was not asked


@runtime_checkable
class AuditService(Protocol):
    async def entries(self, query: AuditQuery) -> AuditPage:
        """A page of the log, newest first, filtered by person, act and record."""
        ...

    async def verify(self) -> AuditReport:
        """Check the whole log and every checkpoint of it; name the first bad entry."""
        ...

    async def checkpoints(self) -> CheckpointStatus:
        """This node's signed checkpoints and the witness's answers; children's checkpoints."""
        ...


class NodeAudit:
    """``AuditService`` over this node's audit log and its checkpointer."""

    def __init__(self, parts: NodeParts, checkpointer: AuditCheckpointer) -> None:
        self.parts = parts
        self.checkpointer = checkpointer

    async def entries(self, query: AuditQuery) -> AuditPage:
        await self.parts.audit.flush()  # what was just noted is shown
        return await self.parts.audit.page(query)

    async def verify(self) -> AuditReport:
        audit = self.parts.audit
        marks: list[WitnessMark] = []
        bad_signature: Checkpoint | None = None
        public_key = self.parts.signer.chain[0].public_key
        for checkpoint, witness, status, _ in await audit.checkpoints():
            if checkpoint.key_id == self.parts.signer.key.key_id and not checkpoint.signed_by(
                public_key
            ):
                bad_signature = bad_signature or checkpoint
                continue
            marks.append(WitnessMark(checkpoint.size, checkpoint.head, "self"))
            if status == "accepted":
                marks.append(WitnessMark(checkpoint.size, checkpoint.head, witness))
        parent = self.checkpointer.parent or ""
        witnessed, note = 0, "本节点是省级节点，没有上级见证。"
        if parent:
            try:
                seen = await self.checkpointer.ask_parent()
            except NodeError as exc:
                note = f"未能向上级 {parent} 核对（{exc}）：仅按本地保存的检查点核对。"
            else:
                if seen is None:
                    note = f"上级 {parent} 尚未见证本节点的检查点。"
                else:
                    witnessed = seen.size
                    note = f"上级 {parent} 已见证至第 {seen.size} 条。"
                    marks.append(WitnessMark(seen.size, seen.head, parent))
        result: AuditVerification = await audit.verify(marks)
        finding = result.finding
        if finding is None and bad_signature is not None:
            finding = AuditFinding(
                bad_signature.size,
                "checkpoint",
                f"第 {bad_signature.size} 条处的本地检查点签名无效：检查点表被改动过。",
                bad_signature.size,
            )
        return AuditReport(
            code=self.parts.code,
            ok=finding is None,
            size=result.size,
            head=result.head.hex(),
            checkpoints_checked=result.checkpoints_checked,
            finding=finding,
            parent=parent,
            parent_witnessed=witnessed,
            parent_note=note,
        )

    async def checkpoints(self) -> CheckpointStatus:
        audit = self.parts.audit
        await audit.flush()
        size, head = await audit.head()
        own = tuple(
            OwnCheckpoint(c.size, c.head.hex(), c.at_ms, c.key_id, witness, status, note)
            for c, witness, status, note in reversed(await audit.checkpoints())
        )
        children = tuple(
            ChildCheckpoint(c.node, c.size, c.head.hex(), c.at_ms, received)
            for c, received in await audit.children_witnessed()
        )
        return CheckpointStatus(self.parts.code, size, head.hex(), own, children)
