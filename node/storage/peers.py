"""Per-link delivery state: the cursor each peer acknowledged, the last error, the backoff.

The cursor is persisted and moved only on acknowledgement, so after a crash or restart the
outbox resumes from what the peer really has. It may move backwards: a parent that lost
data answers with a lower cursor and the child resends from there.

The backoff (consecutive failures and when to try next) is persisted too, so a node that
restarts while its parent is down keeps waiting instead of hammering it from the first step.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from node.storage.db import Database

_COLUMNS = (
    "peer, cursor, updated_at, last_error, failures, next_attempt_at, last_error_at, "
    "last_success_at"
)


@dataclass(frozen=True)
class PeerState:
    """What this node knows about delivery to one peer."""

    peer: str
    cursor: int
    updated_at: float  # unix time of the last change to this row
    last_error: str | None
    failures: int = 0  # consecutive failed attempts; 0 when the link works
    next_attempt_at: float | None = None  # unix time the backoff ends (None: no backoff)
    last_error_at: float | None = None
    last_success_at: float | None = None  # unix time of the last acknowledgement


def _state(row: tuple[object, ...]) -> PeerState:
    return PeerState(*row)  # type: ignore[arg-type]


class PeerStateStore:
    """The ``peer_cursors`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, peer: str) -> PeerState:
        """The state of the link to ``peer`` (a fresh one if it was never used)."""

        def txn(conn: sqlite3.Connection) -> PeerState:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM peer_cursors WHERE peer = ?", (peer,)
            ).fetchone()
            return _state(row) if row else PeerState(peer, 0, 0.0, None)

        return await self.db.read(txn)

    async def get_cursor(self, peer: str) -> int:
        """The last seq ``peer`` acknowledged, 0 if it never did."""
        return (await self.get(peer)).cursor

    async def set_cursor(self, peer: str, cursor: int) -> None:
        """Record that ``peer`` acknowledged everything up to ``cursor``: the link works."""

        def txn(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.execute(
                "INSERT INTO peer_cursors(peer, cursor, updated_at, last_success_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(peer) DO UPDATE SET cursor = excluded.cursor, "
                "updated_at = excluded.updated_at, last_success_at = excluded.last_success_at",
                (peer, int(cursor), now, now),
            )

        await self.db.write(txn)

    async def record_failure(
        self, peer: str, message: str, failures: int, next_attempt_at: float
    ) -> None:
        """An attempt failed: keep the error, the failure count and when to try next."""
        await self._upsert(
            peer,
            last_error=message,
            last_error_at=time.time(),
            failures=failures,
            next_attempt_at=next_attempt_at,
        )

    async def clear_backoff(self, peer: str) -> None:
        """The peer is reachable again: no failures, try at once (the last error stays shown)."""
        await self._upsert(peer, failures=0, next_attempt_at=None)

    async def _upsert(self, peer: str, **values: object) -> None:
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values)

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO peer_cursors(peer, cursor, updated_at, {names}) "
                f"VALUES (?, 0, ?, {marks}) ON CONFLICT(peer) DO UPDATE SET "
                f"updated_at = excluded.updated_at, {updates}",
                (peer, time.time(), *values.values()),
            )

        await self.db.write(txn)

    async def all(self) -> list[PeerState]:
        """Every peer's state, by peer."""

        def txn(conn: sqlite3.Connection) -> list[PeerState]:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM peer_cursors ORDER BY peer")
            return [_state(row) for row in rows]

        return await self.db.read(txn)
