"""The change log: a local, gap-free numbering of every catalogue change this node accepted.

Sync to the parent is "send everything after the cursor the parent acknowledged". Seqs are
assigned as max + 1 inside the single writer's transaction, so they never skip (a rolled
back transaction takes its seqs with it). A change points at (holder, record_id); reading
it returns the entry's CURRENT row, tombstones included, which is what the parent needs.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from node.errors import InvalidInput
from node.records import CatalogueEntry
from node.storage.db import Database
from node.storage.entries import SELECT_ENTRY, entry_from_row

MAX_SEQ = 2**63 - 1


def head_txn(conn: sqlite3.Connection) -> int:
    """The last seq (0 for an empty log); a rowid max, so O(log n)."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])


def append_changes_txn(
    conn: sqlite3.Connection, changes: Sequence[tuple[str, str, int]]
) -> list[int]:
    """Append ``(holder, record_id, version)`` changes inside a write transaction.

    Each change keeps the time it was accepted: a link's lag in seconds is the age of the
    first change its peer has not acknowledged.
    """
    if not changes:
        return []
    first = head_txn(conn) + 1
    seqs = list(range(first, first + len(changes)))
    now = time.time()
    conn.executemany(
        "INSERT INTO changes(seq, holder, record_id, version, at) VALUES (?, ?, ?, ?, ?)",
        [(seq, *change, now) for seq, change in zip(seqs, changes, strict=True)],
    )
    return seqs


def accepted_at_txn(conn: sqlite3.Connection, seq: int) -> float | None:
    """When change ``seq`` was accepted (None: no such change, or logged before times were)."""
    row = conn.execute("SELECT at FROM changes WHERE seq = ?", (seq,)).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def entries_after_txn(
    conn: sqlite3.Connection, cursor: int, limit: int, end: int = MAX_SEQ
) -> list[tuple[int, CatalogueEntry]]:
    """Up to ``limit`` changes after ``cursor`` (and not past ``end``) whose entry exists."""
    rows = conn.execute(
        f"SELECT ch.seq, {SELECT_ENTRY} FROM changes ch "
        "JOIN catalogue c ON c.holder = ch.holder AND c.record_id = ch.record_id "
        "WHERE ch.seq > ? AND ch.seq <= ? ORDER BY ch.seq LIMIT ?",
        (cursor, end, limit),
    ).fetchall()
    # The same entry changed twice in the window: send it once, at its last seq (the
    # window's last seq must survive, it becomes the batch's to_seq).
    last_seq = {(row[1], row[2]): row[0] for row in rows}
    return [
        (row[0], entry_from_row(row[1:])) for row in rows if last_seq[(row[1], row[2])] == row[0]
    ]


def batch_after_txn(
    conn: sqlite3.Connection, cursor: int, limit: int
) -> tuple[int, list[CatalogueEntry]]:
    """The next ``limit`` changes after ``cursor``: the last seq among them (``cursor`` if
    there are none) and the current entries they name.

    A change whose entry is gone (anti-entropy removed a row the child never had) is in the
    window with nothing to send, so the parent's cursor still passes it; otherwise a link
    whose last changes were removed would show lag for ever.
    """
    end = conn.execute(
        "SELECT max(seq) FROM (SELECT seq FROM changes WHERE seq > ? ORDER BY seq LIMIT ?)",
        (cursor, limit),
    ).fetchone()[0]
    if end is None:
        return cursor, []
    return int(end), [entry for _, entry in entries_after_txn(conn, cursor, limit, end)]


class ChangeLog:
    """Read side of the change log (changes are appended by the catalogue's upserts)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def head(self) -> int:
        """The seq of the last change, 0 if there is none."""
        return await self.db.read(head_txn)

    async def entries_after(self, cursor: int, limit: int) -> list[tuple[int, CatalogueEntry]]:
        """Up to ``limit`` changes after ``cursor`` as ``(seq, current entry)``, by seq.

        An entry changed more than once in the window appears once, at its highest seq.
        """
        if limit < 1:
            raise InvalidInput(f"limit 必须为正数: {limit}")
        return await self.db.read(lambda conn: entries_after_txn(conn, cursor, limit))

    async def batch_after(self, cursor: int, limit: int) -> tuple[int, list[CatalogueEntry]]:
        """What the next push after ``cursor`` carries: its last seq and its entries
        (``batch_after_txn``), read in one snapshot."""
        if limit < 1:
            raise InvalidInput(f"limit 必须为正数: {limit}")
        return await self.db.read(lambda conn: batch_after_txn(conn, cursor, limit))

    async def backlog(self, cursor: int) -> tuple[int, float | None]:
        """The head, and when the first change after ``cursor`` was accepted (None if none)."""

        def txn(conn: sqlite3.Connection) -> tuple[int, float | None]:
            head = head_txn(conn)
            return head, accepted_at_txn(conn, cursor + 1) if head > cursor else None

        return await self.db.read(txn)
