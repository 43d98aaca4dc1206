"""The certified copies this node issued (``copies.py``), kept by their verification code.

A holder keeps every copy it signs: its verify page finds one from the code printed on the
paper, and the request it answered can list its copies. The credential is kept as the exact
bytes that were signed and handed out, never re-serialised.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node.storage.db import Database


@dataclass(frozen=True)
class StoredCopy:
    code: str
    request_id: str
    record_id: str
    issued_at_ms: int
    credential: bytes


_COLUMNS = "code, request_id, record_id, issued_at_ms, credential"


def _copy(row: tuple[Any, ...]) -> StoredCopy:
    code, request_id, record_id, issued_at_ms, credential = row
    return StoredCopy(code, request_id, record_id, issued_at_ms, bytes(credential))


class CopyStore:
    """The ``copies`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(
        self, copy: StoredCopy, also: Callable[[sqlite3.Connection], None] | None = None
    ) -> None:
        """Keep ``copy``; ``also`` runs in the same transaction (the audit entry). A code
        already kept (a 60-bit collision, or the same copy again) is replaced only by the
        same bytes: ``sqlite3.IntegrityError`` otherwise."""

        def txn(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT credential FROM copies WHERE code = ?", (copy.code,))
            existing = row.fetchone()
            if existing is not None and bytes(existing[0]) != copy.credential:
                raise sqlite3.IntegrityError(f"verification code {copy.code} is taken")
            conn.execute(
                f"INSERT OR REPLACE INTO copies({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (copy.code, copy.request_id, copy.record_id, copy.issued_at_ms, copy.credential),
            )
            if also is not None:
                also(conn)

        await self.db.write(txn)

    async def get(self, code: str) -> StoredCopy | None:
        def txn(conn: sqlite3.Connection) -> StoredCopy | None:
            row = conn.execute(f"SELECT {_COLUMNS} FROM copies WHERE code = ?", (code,))
            found = row.fetchone()
            return _copy(found) if found else None

        return await self.db.read(txn)

    async def for_request(self, request_id: str) -> list[StoredCopy]:
        def txn(conn: sqlite3.Connection) -> list[StoredCopy]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM copies WHERE request_id = ? ORDER BY issued_at_ms",
                (request_id,),
            )
            return [_copy(row) for row in rows]

        return await self.db.read(txn)
