"""Per-link delivery state: the cursor each peer acknowledged, and the last error.

The cursor is persisted and moved only on acknowledgement, so after a crash or restart the
outbox resumes from what the peer really has. It may move backwards: a parent that lost
data answers with a lower cursor and the child resends from there.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from node.storage.db import Database


@dataclass(frozen=True)
class PeerState:
    """What this node knows about delivery to one peer."""

    peer: str
    cursor: int
    updated_at: float  # unix time of the last change to this row
    last_error: str | None


class PeerStateStore:
    """The ``peer_cursors`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_cursor(self, peer: str) -> int:
        """The last seq ``peer`` acknowledged, 0 if it never did."""

        def txn(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT cursor FROM peer_cursors WHERE peer = ?", (peer,)).fetchone()
            return int(row[0]) if row else 0

        return await self.db.read(txn)

    async def set_cursor(self, peer: str, cursor: int) -> None:
        """Record that ``peer`` acknowledged everything up to ``cursor``."""

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO peer_cursors(peer, cursor, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(peer) DO UPDATE SET cursor = excluded.cursor, "
                "updated_at = excluded.updated_at",
                (peer, int(cursor), time.time()),
            )

        await self.db.write(txn)

    async def set_error(self, peer: str, message: str | None) -> None:
        """Record the last delivery error for ``peer`` (None: the link works again)."""

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO peer_cursors(peer, cursor, updated_at, last_error) "
                "VALUES (?, 0, ?, ?) ON CONFLICT(peer) DO UPDATE SET "
                "last_error = excluded.last_error, updated_at = excluded.updated_at",
                (peer, time.time(), message),
            )

        await self.db.write(txn)

    async def all(self) -> list[PeerState]:
        """Every peer's state, by peer."""

        def txn(conn: sqlite3.Connection) -> list[PeerState]:
            rows = conn.execute(
                "SELECT peer, cursor, updated_at, last_error FROM peer_cursors ORDER BY peer"
            )
            return [PeerState(*row) for row in rows]

        return await self.db.read(txn)
