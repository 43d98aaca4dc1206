"""Digests of catalogue key ranges, for anti-entropy between a node and its parent.

A key is ``(holder, record_id)``, ordered as the catalogue's unique index orders it; a range
is ``[lo, hi)`` over keys. An entry's digest covers its key, version and tombstone flag
(read from the covering index ``catalogue_versions`` alone, so a compare never touches the
table), or, ``deep``, every stored column, so that a field changed without a new version is
found too. A range's digest hashes its entries' digests in key order, with the count beside
it. Both sides compute digests from their own rows, so equal digests mean rows equal in
what was digested.

The parent answers a differing range with either the digest of each of its entries in it
(when there are few) or split keys drawn from its own keys, with its count and digest of
each sub-range (about ``count / fanout`` entries each), like the next level of a Merkle tree.
``repair_txn`` then applies the child's corrections only where the parent's row is still
the one it described (compare-and-set), so a push that raced the comparison is never
overwritten with an older view.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from node.digests import (
    EntryDigest,
    Key,
    KeyRange,
    RangeDigest,
    RangeView,
    RepairCounts,
)
from node.records import CatalogueEntry, validate_entry
from node.storage.catalogue import apply_entries_txn, remove_entries_txn
from node.storage.db import Database
from node.storage.entries import SELECT_ENTRY, entry_from_row, row_values

DIGEST_BYTES = 16
# The shallow digest's columns: read from the covering index ``catalogue_versions`` alone.
VERSION_COLUMNS = ("holder", "record_id", "version", "deleted")
_VERSION_SELECT = ", ".join(f"c.{name}" for name in VERSION_COLUMNS)
_RANGE_WHERE = "(c.holder, c.record_id) >= (?, ?) AND (c.holder, c.record_id) < (?, ?)"


def entry_digest(row: Sequence[object]) -> bytes:
    """Digest of one entry's column values as stored: ``ENTRY_COLUMNS`` (deep) or
    ``VERSION_COLUMNS``. A value's text is what SQLite and ``str`` both give."""
    text = "\x1f".join(map(str, row))
    return hashlib.blake2b(text.encode(), digest_size=DIGEST_BYTES).digest()


def digest_of(entry: CatalogueEntry, deep: bool) -> bytes:
    """The digest ``entry`` has once stored."""
    if deep:
        return entry_digest(row_values(entry))
    return entry_digest((entry.holder, entry.record_id, entry.version, int(entry.deleted)))


def _columns(deep: bool) -> str:
    return SELECT_ENTRY if deep else _VERSION_SELECT


def _rows(
    conn: sqlite3.Connection,
    key_range: KeyRange,
    deep: bool,
    after: Key | None = None,
    limit: int = -1,
) -> Iterator[tuple[object, ...]]:
    """The range's rows by key (the digest's columns); only those past ``after`` if given."""
    lo_op, lo = (">", after) if after is not None else (">=", key_range.lo)
    return conn.execute(
        f"SELECT {_columns(deep)} FROM catalogue c WHERE (c.holder, c.record_id) {lo_op} (?, ?) "
        "AND (c.holder, c.record_id) >= (?, ?) AND (c.holder, c.record_id) < (?, ?) "
        "ORDER BY c.holder, c.record_id LIMIT ?",
        (*lo, *key_range.params(), limit),
    )


def _count(conn: sqlite3.Connection, key_range: KeyRange) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM catalogue c WHERE {_RANGE_WHERE}", key_range.params()
    ).fetchone()
    return int(row[0])


def combine(digests: Iterable[bytes]) -> bytes:
    """A range's digest from its entries' digests, in key order."""
    combined = hashlib.blake2b(digest_size=DIGEST_BYTES)
    for digest in digests:
        combined.update(digest)
    return combined.digest()


def scan_txn(
    conn: sqlite3.Connection,
    key_range: KeyRange,
    deep: bool,
    after: Key | None = None,
    limit: int = -1,
) -> list[tuple[Key, bytes]]:
    """The range's keys (past ``after``, at most ``limit``) with their entries' digests."""
    rows = _rows(conn, key_range, deep, after, limit)
    return [((str(row[0]), str(row[1])), entry_digest(row)) for row in rows]


def summary_txn(conn: sqlite3.Connection, key_range: KeyRange, deep: bool) -> tuple[int, bytes]:
    """The range's count and digest, streamed (nothing held per entry)."""
    combined = hashlib.blake2b(digest_size=DIGEST_BYTES)
    count = 0
    for row in _rows(conn, key_range, deep):
        combined.update(entry_digest(row))
        count += 1
    return count, combined.digest()


def view_range_txn(
    conn: sqlite3.Connection, key_range: KeyRange, leaf: int, fanout: int, deep: bool
) -> tuple[RangeDigest, RangeView]:
    """The range's digest, and how to look closer if it differs (see the module docstring)."""
    count = _count(conn, key_range)
    listed = count <= leaf
    pieces = 1 if listed else max(2, min(fanout, math.ceil(count / leaf)))
    cuts = {i * count // pieces for i in range(1, pieces)}
    whole = hashlib.blake2b(digest_size=DIGEST_BYTES)
    piece = hashlib.blake2b(digest_size=DIGEST_BYTES)
    entries: list[EntryDigest] = []
    splits: list[Key] = []
    parts: list[tuple[int, bytes]] = []
    seen = in_piece = 0
    for row in _rows(conn, key_range, deep):
        key = (str(row[0]), str(row[1]))  # both column lists start with holder, record_id
        digest = entry_digest(row)
        whole.update(digest)
        if listed:
            entries.append(EntryDigest(*key, digest))
        elif seen in cuts:
            splits.append(key)
            parts.append((in_piece, piece.digest()))
            piece, in_piece = hashlib.blake2b(digest_size=DIGEST_BYTES), 0
        piece.update(digest)
        in_piece += 1
        seen += 1
    if not listed:
        parts.append((in_piece, piece.digest()))
    summary = RangeDigest(key_range, seen, whole.digest())
    return summary, RangeView(key_range, seen, listed, tuple(entries), tuple(splits), tuple(parts))


def entries_txn(conn: sqlite3.Connection, keys: Sequence[Key]) -> list[CatalogueEntry]:
    """The stored entries of ``keys`` (those that exist), in the order asked."""
    found = []
    for holder, record_id in keys:
        row = conn.execute(
            f"SELECT {SELECT_ENTRY} FROM catalogue c WHERE c.holder = ? AND c.record_id = ?",
            (holder, record_id),
        ).fetchone()
        if row is not None:
            found.append(entry_from_row(row))
    return found


def _current_digests(conn: sqlite3.Connection, keys: Sequence[Key], deep: bool) -> dict[Key, bytes]:
    found: dict[Key, bytes] = {}
    for holder, record_id in keys:
        row = conn.execute(
            f"SELECT {_columns(deep)} FROM catalogue c WHERE c.holder = ? AND c.record_id = ?",
            (holder, record_id),
        ).fetchone()
        if row is not None:
            found[(holder, record_id)] = entry_digest(row)
    return found


def repair_txn(
    conn: sqlite3.Connection,
    entries: Sequence[tuple[CatalogueEntry, bytes]],
    removals: Sequence[EntryDigest],
    deep: bool,
) -> RepairCounts:
    """Make rows equal to the child's copies, where they are still what was compared.

    ``entries`` pairs the child's entry with the digest the parent described for that key
    (``b""``: it had none); ``removals`` name keys the child does not hold, with the digest
    the parent described. A written entry is logged as a change, so it travels up; a
    replaced row may carry a lower version than before (the parent's copy was damaged), so
    the version rule of ordinary upserts is bypassed by resetting the stored version first.
    """
    current = _current_digests(conn, [(e.holder, e.record_id) for e, _ in entries], deep)
    current.update(_current_digests(conn, [r.key for r in removals], deep))
    to_write: list[CatalogueEntry] = []
    unchanged = skipped = 0
    for entry, expected in entries:
        now = current.get((entry.holder, entry.record_id), b"")
        if now == digest_of(entry, deep):
            unchanged += 1
        elif now != expected:
            skipped += 1
        else:
            to_write.append(entry)
    conn.executemany(
        "UPDATE catalogue SET version = 0 WHERE holder = ? AND record_id = ?",
        [(e.holder, e.record_id) for e in to_write],
    )
    written = len(apply_entries_txn(conn, to_write))
    to_remove = [r.key for r in removals if current.get(r.key, b"") == r.digest and r.digest]
    removed = remove_entries_txn(conn, to_remove)
    return RepairCounts(
        written=written,
        removed=removed,
        unchanged=unchanged,
        skipped=skipped + len(removals) - len(to_remove),
    )


class CatalogueDigests:
    """Range digests over one node's catalogue, and compare-and-set repairs of it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def count(self, key_range: KeyRange) -> int:
        return await self.db.read(lambda conn: _count(conn, key_range))

    async def scan(
        self,
        key_range: KeyRange,
        after: Key | None = None,
        limit: int = -1,
        *,
        deep: bool = False,
    ) -> list[tuple[Key, bytes]]:
        """The range's keys past ``after`` (at most ``limit``) with their digests, by key."""
        return await self.db.read(lambda conn: scan_txn(conn, key_range, deep, after, limit))

    async def summary(self, key_range: KeyRange, *, deep: bool = False) -> tuple[int, bytes]:
        """The range's count and digest."""
        return await self.db.read(lambda conn: summary_txn(conn, key_range, deep))

    async def views(
        self, ranges: Sequence[KeyRange], leaf: int, fanout: int, *, deep: bool = False
    ) -> list[tuple[RangeDigest, RangeView]]:
        """Each range's digest and its closer view, all from one snapshot."""
        return await self.db.read(
            lambda conn: [view_range_txn(conn, r, leaf, fanout, deep) for r in ranges]
        )

    async def entries(self, keys: Sequence[Key]) -> list[CatalogueEntry]:
        """The current entries of ``keys`` (tombstones included; missing keys left out)."""
        return await self.db.read(lambda conn: entries_txn(conn, keys))

    async def repair(
        self,
        entries: Sequence[tuple[CatalogueEntry, bytes]],
        removals: Sequence[EntryDigest],
        *,
        deep: bool = False,
    ) -> RepairCounts:
        """``repair_txn`` in one write transaction; ``InvalidRecord`` for a malformed entry."""
        for entry, _ in entries:
            validate_entry(entry)
        return await self.db.write(lambda conn: repair_txn(conn, entries, removals, deep))
