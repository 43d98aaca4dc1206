"""The audit log store: a hash chain of entries, this node's signed checkpoints of it, and the
checkpoints of its children that it witnesses. Hashing rules are ``node/audit.py``'s.

Three ways in, for three kinds of act:

- ``hook(...)``: a write act (ingest) passes the returned function to its own store call, which
  runs it inside the act's transaction, so the act and its entry commit together or not at all.
- ``append(...)``: awaited, durable when it returns; for acts whose own writes happen elsewhere
  (the trust keeper's), appended right after them. The one call the accounts work uses for
  logins and account changes.
- ``note(...)``: a read on a hot path (search, fetch) queues the entry and returns at once; a
  background task writes every entry queued within ``FLUSH_DELAY_S`` in one transaction
  (group commit: one fsync for a burst, not one per search; measured in
  ``docs/performance.md``). The gap: entries queued but not yet committed (at most that
  delay plus one commit) are lost if the process is killed; a clean stop writes them
  (``flush``). Any write through ``hook`` or ``append`` writes the queue first, so seq order
  is the order acts were noted.

Seqs are max + 1 under the single writer (``db.py``), so they never skip; each row keeps its
entry hash and the chain hash after it, which verification recomputes.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from node.actors import Actor
from node.audit import (
    GENESIS,
    Act,
    AuditEntry,
    AuditPage,
    AuditQuery,
    AuditVerification,
    Checkpoint,
    WitnessMark,
    detail_text,
    entry_hash,
    extend,
    link,
    redact,
)
from node.storage.audit_verify import verify_txn
from node.storage.db import Database

log = logging.getLogger(__name__)

Draft = tuple[int, str, str, str, str]  # at_ms, actor label, act, subject, detail text
TxnHook = Callable[[sqlite3.Connection], None]


def chain_hooks(*hooks: TxnHook | None) -> TxnHook:
    """One hook that runs ``hooks`` (None ones skipped) in order in the same transaction."""

    def run(conn: sqlite3.Connection) -> None:
        for hook in hooks:
            if hook is not None:
                hook(conn)

    return run


FLUSH_DELAY_S = 0.05  # how long noted entries may wait to share one commit


def draft(
    actor: Actor, act: str, subject: str, detail: Mapping[str, Any] | None, at_ms: int
) -> Draft:
    return (at_ms, actor.label, str(act), str(redact(subject)), detail_text(detail))


def last_txn(conn: sqlite3.Connection) -> tuple[int, bytes]:
    row = conn.execute("SELECT seq, chain_hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), bytes(row[1])) if row else (0, GENESIS)


def append_txn(conn: sqlite3.Connection, drafts: Sequence[Draft]) -> int:
    """Append entries inside a write transaction; the seq of the last (the size)."""
    seq, head = last_txn(conn)
    rows = []
    for at_ms, actor, act, subject, detail in drafts:
        seq += 1
        entry = entry_hash(at_ms, actor, act, subject, detail)
        head = link(head, entry)
        rows.append((seq, at_ms, actor, act, subject, detail, entry, head))
    conn.executemany("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return seq


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(*row[:6])


def page_txn(conn: sqlite3.Connection, query: AuditQuery) -> AuditPage:
    """A page newest first: below ``before`` (or from the newest), or, with ``after``, the
    page just newer than ``after``; and whether older and newer entries match too."""
    where: list[str] = []
    args: list[object] = []
    if query.actor:
        where.append("instr(actor, ?) > 0")  # a part of the label: a name, or name@node
        args.append(query.actor)
    if query.act:
        where.append("act = ?")
        args.append(query.act)
    if query.subject:
        where.append("subject = ?")
        args.append(query.subject)
    filters = " AND ".join(where) or "1"

    def exists(bound: str, seq: int) -> bool:
        sql = f"SELECT 1 FROM audit_log WHERE {filters} AND seq {bound} ? LIMIT 1"
        return conn.execute(sql, (*args, seq)).fetchone() is not None

    columns = "SELECT seq, at_ms, actor, act, subject, detail FROM audit_log"
    if query.after:
        rows = conn.execute(
            f"{columns} WHERE {filters} AND seq > ? ORDER BY seq LIMIT ?",
            (*args, query.after, query.limit),
        ).fetchall()
        rows.reverse()
    else:
        bound = f" AND seq < {int(query.before)}" if query.before else ""
        rows = conn.execute(
            f"{columns} WHERE {filters}{bound} ORDER BY seq DESC LIMIT ?", (*args, query.limit)
        ).fetchall()
    entries = tuple(_entry(r) for r in rows)
    older = bool(entries) and exists("<", entries[-1].seq)
    newer = bool(entries) and exists(">", entries[0].seq)
    return AuditPage(
        entries,
        last_txn(conn)[0],
        entries[-1].seq if older else 0,
        entries[0].seq if newer else 0,
    )


def hashes_between_txn(conn: sqlite3.Connection, after: int, upto: int) -> list[bytes]:
    """The entry hashes of entries ``after + 1`` .. ``upto``, in order."""
    rows = conn.execute(
        "SELECT entry_hash FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq", (after, upto)
    )
    return [bytes(r[0]) for r in rows]


def chain_at_txn(conn: sqlite3.Connection, size: int) -> bytes | None:
    """The stored head after entry ``size`` (GENESIS at 0; None: no such entry)."""
    if size == 0:
        return GENESIS
    row = conn.execute("SELECT chain_hash FROM audit_log WHERE seq = ?", (size,)).fetchone()
    return bytes(row[0]) if row else None


def _checkpoint(node: str, row: Any) -> Checkpoint:
    return Checkpoint(node, int(row[0]), bytes(row[1]), int(row[2]), row[3], bytes(row[4]))


class AuditLog:
    """One node's audit log (``note``, ``append``, ``hook`` to add; reads for pages and checks)."""

    def __init__(
        self,
        db: Database,
        code: str,
        clock: Callable[[], float] = time.time,
        flush_delay_s: float = FLUSH_DELAY_S,
    ) -> None:
        self.db = db
        self.code = code
        self.clock = clock
        self.flush_delay_s = flush_delay_s
        self._queued: collections.deque[Draft] = collections.deque()
        self._flusher: asyncio.Task[None] | None = None

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- appending ---------------------------------------------------------------------------

    def note(
        self, actor: Actor, act: str, subject: str, detail: Mapping[str, Any] | None = None
    ) -> None:
        """Queue an entry and return at once; written by the next group commit."""
        self._queued.append(draft(actor, act, subject, detail, self._now_ms()))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def append(
        self, actor: Actor, act: str, subject: str, detail: Mapping[str, Any] | None = None
    ) -> int:
        """Append an entry and return its seq once it is on disk."""
        entry = draft(actor, act, subject, detail, self._now_ms())
        return await self.db.write(lambda conn: self._write_txn(conn, [entry]))

    def hook(self, entries: Sequence[tuple[Actor, str, str, Mapping[str, Any] | None]]) -> TxnHook:
        """A function for another store's write transaction that appends ``entries`` in it."""
        at_ms = self._now_ms()
        drafts = [
            draft(actor, act, subject, detail, at_ms) for actor, act, subject, detail in entries
        ]

        def txn(conn: sqlite3.Connection) -> None:
            self._write_txn(conn, drafts)

        return txn

    def _write_txn(self, conn: sqlite3.Connection, drafts: Sequence[Draft]) -> int:
        """Runs on the writer thread: the queue first (its entries were noted earlier)."""
        queued = []
        while self._queued:
            queued.append(self._queued.popleft())
        return append_txn(conn, [*queued, *drafts])

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.flush_delay_s)  # let a burst gather into one commit
        await self._flush_queue()

    async def _flush_queue(self) -> None:
        while self._queued:
            try:
                await self.db.write(lambda conn: self._write_txn(conn, []))
            except Exception:  # noqa: BLE001 - a background task: say so, never lose the loop
                log.exception("audit log %s: queued entries could not be written", self.code)
                return

    async def flush(self) -> None:
        """Write every queued entry now (the delayed task then finds nothing to do)."""
        if self._queued:
            await self._flush_queue()

    # -- reading -----------------------------------------------------------------------------

    async def head(self) -> tuple[int, bytes]:
        """(size, head hash) of the committed log."""
        return await self.db.read(last_txn)

    async def page(self, query: AuditQuery) -> AuditPage:
        return await self.db.read(lambda conn: page_txn(conn, query))

    async def hashes_between(self, after: int, upto: int) -> list[bytes]:
        return await self.db.read(lambda conn: hashes_between_txn(conn, after, upto))

    async def chain_at(self, size: int) -> bytes | None:
        return await self.db.read(lambda conn: chain_at_txn(conn, size))

    async def verify(self, marks: Sequence[WitnessMark]) -> AuditVerification:
        await self.flush()
        return await self.db.read(lambda conn: verify_txn(conn, marks))

    # -- this node's checkpoints -------------------------------------------------------------

    async def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        c = checkpoint
        await self.db.write(
            lambda conn: conn.execute(
                "INSERT OR IGNORE INTO audit_checkpoints(size, head, at_ms, key_id, signature) "
                "VALUES (?, ?, ?, ?, ?)",
                (c.size, c.head, c.at_ms, c.key_id, c.signature),
            )
        )

    async def checkpoints(self) -> list[tuple[Checkpoint, str, str, str]]:
        """Every own checkpoint, oldest first, with (witness, status, note)."""

        def txn(conn: sqlite3.Connection) -> list[tuple[Checkpoint, str, str, str]]:
            rows = conn.execute(
                "SELECT size, head, at_ms, key_id, signature, witness, witness_status, "
                "witness_note FROM audit_checkpoints ORDER BY size"
            )
            return [(_checkpoint(self.code, r), r[5], r[6], r[7]) for r in rows]

        return await self.db.read(txn)

    async def latest_checkpoint(self) -> Checkpoint | None:
        """This node's newest checkpoint (None before the first)."""

        def txn(conn: sqlite3.Connection) -> Checkpoint | None:
            row = conn.execute(
                "SELECT size, head, at_ms, key_id, signature FROM audit_checkpoints "
                "ORDER BY size DESC LIMIT 1"
            ).fetchone()
            return _checkpoint(self.code, row) if row else None

        return await self.db.read(txn)

    async def witness_answer(self, size: int, witness: str, status: str, note: str) -> None:
        """What ``witness`` answered to our checkpoint at ``size`` (accepted, refused)."""
        await self.db.write(
            lambda conn: conn.execute(
                "UPDATE audit_checkpoints SET witness = ?, witness_status = ?, witness_note = ?, "
                "witnessed_at_ms = ? WHERE size = ?",
                (witness, status, note, self._now_ms(), size),
            )
        )

    async def last_accepted(self) -> int:
        """The largest size of ours the parent accepted (0: none)."""
        return await self.db.read(
            lambda conn: int(
                conn.execute(
                    "SELECT coalesce(max(size), 0) FROM audit_checkpoints "
                    "WHERE witness_status = 'accepted'"
                ).fetchone()[0]
            )
        )

    # -- witnessing children -----------------------------------------------------------------

    async def witnessed(self, child: str) -> Checkpoint | None:
        """The latest checkpoint of ``child`` this node accepted."""
        return await self.db.read(lambda conn: witnessed_txn(conn, child))

    async def children_witnessed(self) -> list[tuple[Checkpoint, int]]:
        """Each child's latest accepted checkpoint and when it arrived (ms)."""

        def txn(conn: sqlite3.Connection) -> list[tuple[Checkpoint, int]]:
            rows = conn.execute(
                "SELECT child, size, head, at_ms, key_id, signature, received_at_ms "
                "FROM audit_witness w WHERE size = "
                "(SELECT max(size) FROM audit_witness WHERE child = w.child) ORDER BY child"
            )
            return [(_checkpoint(r[0], r[1:6]), int(r[6])) for r in rows]

        return await self.db.read(txn)

    async def witness(
        self, checkpoint: Checkpoint, from_size: int, hashes: Sequence[bytes], by: Actor
    ) -> tuple[str, Checkpoint | None, str]:
        """Accept ``checkpoint`` of a child if it extends the last one witnessed, else refuse
        it and log the refusal, in one transaction. Returns (status, witnessed now, reason):
        status ``accepted``, ``refused``, or ``resend`` (the child sent hashes from another
        size than the one witnessed here: it should resend from the witnessed size).
        """
        received = self._now_ms()

        def txn(conn: sqlite3.Connection) -> tuple[str, Checkpoint | None, str]:
            c = checkpoint
            last = witnessed_txn(conn, c.node)
            reason = ""
            if last is not None:
                if c.size < last.size:
                    reason = f"条数 {c.size} 少于已见证的 {last.size}：日志被截短"
                elif c.size == last.size:
                    if c.head != last.head:
                        reason = f"同为 {c.size} 条，链头与已见证的不同：日志被改写"
                elif from_size != last.size:
                    return "resend", last, f"请从已见证的第 {last.size} 条之后发送哈希"
                elif len(hashes) != c.size - last.size:
                    reason = f"应附 {c.size - last.size} 条哈希，收到 {len(hashes)} 条"
                elif extend(last.head, hashes) != c.head:
                    reason = f"不是已见证的第 {last.size} 条检查点的延续：日志被改写"
            if reason:
                detail = {
                    "size": c.size,
                    "head": c.head.hex(),
                    "witnessed_size": last.size if last else 0,
                    "witnessed_head": last.head.hex() if last else "",
                    "reason": reason,
                }
                drafts = [draft(by, Act.CHECKPOINT_REFUSED, c.node, detail, received)]
                self._write_txn(conn, drafts)
                return "refused", last, reason
            conn.execute(
                "INSERT OR IGNORE INTO audit_witness VALUES (?, ?, ?, ?, ?, ?, ?)",
                (c.node, c.size, c.head, c.at_ms, c.key_id, c.signature, received),
            )
            return "accepted", c, ""

        return await self.db.write(txn)


def witnessed_txn(conn: sqlite3.Connection, child: str) -> Checkpoint | None:
    row = conn.execute(
        "SELECT size, head, at_ms, key_id, signature FROM audit_witness "
        "WHERE child = ? ORDER BY size DESC LIMIT 1",
        (child,),
    ).fetchone()
    return _checkpoint(child, row) if row else None
