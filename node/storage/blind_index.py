"""The identity index's tables: index keys, the holder's sealed subject numbers, and which
catalogue entries carry which blind-index value.

Nothing here is readable without the node's at-rest key: the keys and the numbers are stored
as the sealed bytes ``federation/blind_index.py`` hands over (this layer never sees either
in clear). ``subject_index`` maps a blind-index value to the catalogue rows that carry it;
``storage/catalogue.py`` keeps it in step with every upsert, repair and removal, in the same
transaction, and a search by identity number joins it (``storage/search.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from node.storage.db import Database

_CHUNK = 500


def index_rows_txn(
    conn: sqlite3.Connection,
    replaced: Iterable[int],
    rows: Iterable[tuple[str, int]],
) -> None:
    """Drop the index rows of catalogue rows ``replaced`` and add ``rows`` (value, row id)."""
    conn.executemany("DELETE FROM subject_index WHERE entry_id = ?", [(i,) for i in replaced])
    conn.executemany(
        "INSERT OR IGNORE INTO subject_index(value, entry_id) VALUES (?, ?)", list(rows)
    )


def put_subjects_txn(conn: sqlite3.Connection, sealed: Sequence[tuple[str, bytes]]) -> None:
    """Store each record's sealed subject numbers (replacing what was stored)."""
    conn.executemany(
        "INSERT INTO subject_ids(record_id, sealed) VALUES (?, ?) "
        "ON CONFLICT(record_id) DO UPDATE SET sealed = excluded.sealed",
        list(sealed),
    )


class BlindIndexStore:
    """The ``index_keys`` and ``subject_ids`` tables of one node."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def keys(self) -> list[tuple[int, int, bytes]]:
        """Every stored key as (version, created ms, sealed bytes), oldest first."""
        return await self.db.read(
            lambda conn: [
                (int(v), int(c), bytes(s))
                for v, c, s in conn.execute(
                    "SELECT version, created_ms, sealed FROM index_keys ORDER BY version"
                )
            ]
        )

    async def put_keys(self, keys: Sequence[tuple[int, int, bytes]]) -> None:
        """Store keys (version, created ms, sealed), replacing a stored copy of a version
        (one that could not be opened any more, after ``rest.key`` was replaced)."""
        await self.db.write(
            lambda conn: conn.executemany(
                "INSERT OR REPLACE INTO index_keys(version, created_ms, sealed) VALUES (?, ?, ?)",
                list(keys),
            )
        )

    async def subjects(self, record_ids: Sequence[str]) -> dict[str, bytes]:
        """The sealed subject numbers of those of ``record_ids`` that have any."""
        wanted = list(dict.fromkeys(record_ids))

        def txn(conn: sqlite3.Connection) -> dict[str, bytes]:
            found: dict[str, bytes] = {}
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" for _ in chunk)
                rows = conn.execute(
                    f"SELECT record_id, sealed FROM subject_ids WHERE record_id IN ({marks})",
                    chunk,
                )
                found.update((r, bytes(s)) for r, s in rows)
            return found

        return await self.db.read(txn)

    async def indexed_records(self) -> list[str]:
        """Every record of this node that has sealed subject numbers."""
        return await self.db.read(
            lambda conn: [
                r for (r,) in conn.execute("SELECT record_id FROM subject_ids ORDER BY record_id")
            ]
        )
