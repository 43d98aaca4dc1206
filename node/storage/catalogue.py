"""The aggregated catalogue of a node's subtree: upserts, children's pushes, lookups, search.

An entry is keyed by (holder, record_id) and replaced only by a higher version, so applying
the same entry twice, or an older one after a newer, changes nothing and logs nothing.
Every accepted change is appended to the change log and mirrored into the full-text index.
Tombstones (``deleted``) stay as rows, so they travel up on sync, but leave the index.

A child's push is applied in one transaction together with the child's new cursor and the
acknowledgement stored under the batch's id, so a resent batch (same id) gets the stored
acknowledgement, also after a restart, and a retried window of sequence numbers is
recognised by the cursor: either way it is applied at most once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from node.errors import InvalidInput, NotFound
from node.records import Access, CatalogueEntry, SearchPage, SearchQuery, validate_entry
from node.storage import fts
from node.storage.blind_index import index_rows_txn
from node.storage.changelog import append_changes_txn
from node.storage.db import Database
from node.storage.entries import ENTRY_COLUMNS, SELECT_ENTRY, entry_from_row, row_values
from node.storage.search import count_txn, search_txn

_LOOKUP_CHUNK = 400  # (holder, record_id) pairs per query: 800 parameters
KEEP_BATCH_ACKS = 256  # acknowledgements kept per child; older batches are behind its cursor
MAX_BATCH_ID_CHARS = 128


@dataclass(frozen=True)
class BatchApplied:
    """The outcome of a child's push: the cursor to acknowledge, and the changes it made.

    ``replayed``: the batch id was seen before and this is the acknowledgement stored then.
    """

    cursor: int
    applied: int
    replayed: bool = False


@dataclass(frozen=True)
class ChildLink:
    """What this node acknowledged to one child, and when its last batch was applied."""

    child: str
    cursor: int
    updated_at: float


@dataclass
class _Stored:
    """What is on disk for one key at the start of a transaction."""

    id: int
    version: int
    live_tokens: tuple[str, str, str, str] | None  # the indexed values; None: a tombstone


def _load_stored(
    conn: sqlite3.Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], _Stored]:
    stored: dict[tuple[str, str], _Stored] = {}
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start : start + _LOOKUP_CHUNK]
        values = ", ".join("(?, ?)" for _ in chunk)
        # A join, not ``(holder, record_id) IN (VALUES ...)``: SQLite 3.40 scans the whole
        # index for the IN form, which made bulk upserts quadratic.
        rows = conn.execute(
            "SELECT c.holder, c.record_id, c.id, c.version, c.deleted, c.title, c.creator, "
            f"c.subjects, c.category, c.year, c.access, c.retention FROM (VALUES {values}) AS k "
            "JOIN catalogue c ON c.holder = k.column1 AND c.record_id = k.column2",
            [part for key in chunk for part in key],
        )
        for holder, record_id, rowid, version, deleted, title, creator, *rest in rows:
            subjects, category, year, access, retention = rest
            tokens = (
                None
                if deleted
                else fts.fts_values(
                    title, creator, json.loads(subjects), holder, category, year, access, retention
                )
            )
            stored[(holder, record_id)] = _Stored(rowid, version, tokens)
    return stored


def apply_entries_txn(conn: sqlite3.Connection, entries: Iterable[CatalogueEntry]) -> list[int]:
    """Upsert entries inside the caller's write transaction; return the change seqs created.

    An entry is accepted if its key is new or its version is higher than the stored one.
    """
    entries = list(entries)
    if not entries:
        return []
    keys = list(dict.fromkeys((e.holder, e.record_id) for e in entries))
    stored = _load_stored(conn, keys)
    next_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM catalogue").fetchone()[0]
    final: dict[tuple[str, str], CatalogueEntry] = {}
    versions = {key: s.version for key, s in stored.items()}
    accepted: list[CatalogueEntry] = []
    for entry in entries:
        key = (entry.holder, entry.record_id)
        if key in versions and entry.version <= versions[key]:
            continue
        versions[key] = entry.version
        final[key] = entry
        accepted.append(entry)
    inserts, updates, fts_deletes, fts_inserts = [], [], [], []
    replaced: list[int] = []
    index_rows: list[tuple[str, int]] = []  # blind-index values of live entries
    # The OAI datestamp of every accepted version (whole UTC seconds), and whether the entry
    # is open now: ``shown`` is only ever raised, so a harvested record stays in the feed.
    stamp = int(time.time())
    for key, entry in final.items():
        before = stored.get(key)
        open_now = int(entry.access == Access.OPEN and not entry.deleted)
        if before is None:
            rowid, next_id = next_id, next_id + 1
            inserts.append((rowid, *row_values(entry), stamp, open_now))
        else:
            rowid = before.id
            updates.append((*row_values(entry), stamp, open_now, rowid))
            replaced.append(rowid)
            if before.live_tokens is not None:
                fts_deletes.append((rowid, *before.live_tokens))
        if not entry.deleted:
            index_rows.extend((value, rowid) for value in entry.subject_index)
            values = fts.fts_values(
                entry.title,
                entry.creator,
                entry.subjects,
                entry.holder,
                entry.category,
                entry.year,
                entry.access.value,
                entry.retention.value,
            )
            fts_inserts.append((rowid, *values))
    placeholders = ", ".join("?" for _ in ENTRY_COLUMNS)
    conn.executemany(
        f"INSERT INTO catalogue(id, {', '.join(ENTRY_COLUMNS)}, stamp, shown) "
        f"VALUES (?, {placeholders}, ?, ?)",
        inserts,
    )
    assignments = ", ".join(f"{name} = ?" for name in ENTRY_COLUMNS)
    conn.executemany(
        f"UPDATE catalogue SET {assignments}, stamp = ?, shown = max(shown, ?) WHERE id = ?",
        updates,
    )
    fts.delete_rows(conn, fts_deletes)
    fts.insert_rows(conn, fts_inserts)
    index_rows_txn(conn, replaced, index_rows)
    return append_changes_txn(conn, [(e.holder, e.record_id, e.version) for e in accepted])


def _remember_batch(
    conn: sqlite3.Connection, origin: str, batch_id: str, cursor: int, applied: int, now: float
) -> None:
    """Store a batch's acknowledgement and forget the child's older ones beyond the last few."""
    conn.execute(
        "INSERT OR REPLACE INTO sync_batches(origin, batch_id, cursor, applied, at) "
        "VALUES (?, ?, ?, ?, ?)",
        (origin, batch_id, cursor, applied, now),
    )
    conn.execute(
        "DELETE FROM sync_batches WHERE origin = ? AND id <= (SELECT id FROM sync_batches "
        "WHERE origin = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (origin, origin, KEEP_BATCH_ACKS),
    )


def remove_entries_txn(conn: sqlite3.Connection, keys: Sequence[tuple[str, str]]) -> int:
    """Delete entries and their index rows outright (anti-entropy: keys the child never had).

    Nothing is logged: there is no entry left to send up; the parent's own anti-entropy
    with its parent removes the key there. Returns how many rows were deleted.
    """
    stored = _load_stored(conn, list(dict.fromkeys(keys)))
    fts.delete_rows(
        conn, [(s.id, *s.live_tokens) for s in stored.values() if s.live_tokens is not None]
    )
    conn.executemany("DELETE FROM catalogue WHERE id = ?", [(s.id,) for s in stored.values()])
    index_rows_txn(conn, [s.id for s in stored.values()], ())
    return len(stored)


def _child_cursor(conn: sqlite3.Connection, child: str) -> int:
    row = conn.execute("SELECT cursor FROM child_cursors WHERE child = ?", (child,)).fetchone()
    return int(row[0]) if row else 0


class CatalogueStore:
    """The catalogue table, its full-text index and the children's push cursors."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def apply(self, entries: Sequence[CatalogueEntry]) -> list[int]:
        """Upsert entries in one transaction; return the change seqs created."""
        entries = list(entries)
        for entry in entries:
            validate_entry(entry)
        return await self.db.write(lambda conn: apply_entries_txn(conn, entries))

    async def apply_batch(
        self,
        origin: str,
        from_seq: int,
        to_seq: int,
        entries: Sequence[CatalogueEntry],
        batch_id: str = "",
    ) -> BatchApplied:
        """Apply a child's push of its changes ``(from_seq, to_seq]``; return the new cursor.

        A ``batch_id`` already applied gets the acknowledgement stored for it, and nothing is
        applied again (unless the child's cursor was moved back below it since). Else, if
        ``from_seq`` is past the stored cursor (a gap) or ``to_seq`` is not past it (a
        retried window), nothing is applied and the stored cursor is returned, so the child
        resends from there. Otherwise all entries, the cursor ``to_seq`` and the
        acknowledgement under ``batch_id`` are stored in one transaction; ``applied`` counts
        the entries that changed the catalogue.
        """
        if from_seq < 0 or to_seq < from_seq:
            raise InvalidInput(f"推送批次的序号无效: {from_seq}..{to_seq}")
        if len(batch_id) > MAX_BATCH_ID_CHARS:
            raise InvalidInput(f"推送批次标识过长（最多 {MAX_BATCH_ID_CHARS} 字符）")
        entries = list(entries)
        for entry in entries:
            validate_entry(entry)

        def txn(conn: sqlite3.Connection) -> BatchApplied:
            stored = _child_cursor(conn, origin)
            if batch_id:
                seen = conn.execute(
                    "SELECT cursor, applied FROM sync_batches WHERE origin = ? AND batch_id = ?",
                    (origin, batch_id),
                ).fetchone()
                # An acknowledgement past the child's cursor is stale: the cursor was moved
                # back since (a repair asks for a resend), so the batch is applied again.
                if seen is not None and seen[0] <= stored:
                    return BatchApplied(int(seen[0]), int(seen[1]), replayed=True)
            if from_seq > stored or to_seq <= stored:
                return BatchApplied(stored, 0)
            changes = apply_entries_txn(conn, entries)
            now = time.time()
            conn.execute(
                "INSERT INTO child_cursors(child, cursor, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(child) DO UPDATE SET cursor = excluded.cursor, "
                "updated_at = excluded.updated_at",
                (origin, to_seq, now),
            )
            if batch_id:
                _remember_batch(conn, origin, batch_id, to_seq, len(changes), now)
            return BatchApplied(to_seq, len(changes))

        return await self.db.write(txn)

    async def child_links(self) -> list[ChildLink]:
        """Every child that ever pushed here: its acknowledged cursor and last batch time."""

        def txn(conn: sqlite3.Connection) -> list[ChildLink]:
            rows = conn.execute(
                "SELECT child, cursor, coalesce(updated_at, 0) FROM child_cursors ORDER BY child"
            )
            return [ChildLink(*row) for row in rows]

        return await self.db.read(txn)

    async def child_cursor(self, child: str) -> int:
        """The last seq acknowledged to ``child`` (0 if it never pushed)."""
        return await self.db.read(lambda conn: _child_cursor(conn, child))

    async def get(self, holder: str, record_id: str) -> CatalogueEntry:
        """The stored entry (possibly a tombstone); ``NotFound`` if there is none."""

        def txn(conn: sqlite3.Connection) -> CatalogueEntry | None:
            row = conn.execute(
                f"SELECT {SELECT_ENTRY} FROM catalogue c WHERE holder = ? AND record_id = ?",
                (holder, record_id),
            ).fetchone()
            return entry_from_row(row) if row else None

        entry = await self.db.read(txn)
        if entry is None:
            raise NotFound(f"目录中没有档案 {holder}/{record_id}")
        return entry

    async def optimize_index(self) -> None:
        """Merge the full-text index into one segment (for a maintenance job, after bulk loads)."""
        await self.db.write(fts.optimize)

    async def count(self, scope: str = "") -> int:
        """Live (not deleted) entries held under the division code prefix ``scope``."""
        return await self.db.read(lambda conn: count_txn(conn, scope))

    async def search(self, query: SearchQuery) -> SearchPage:
        """One page of live entries matching ``query``; ``InvalidQuery`` if it is unusable."""
        return await self.db.read(lambda conn: search_txn(conn, query))
