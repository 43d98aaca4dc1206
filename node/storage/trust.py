"""What a node keeps of the trust tree: the directory log, enrolment applications (each pinned
to the key it was made with), its ban list, the trust events it still has to report to the
root registry, and the nonces of recent state-changing calls (``SeenNonces``).

Directory events and the head are stored as the bytes and JSON they arrived as; parsing and
checking them is ``federation/trust/events.py``'s job.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from node.certificates import Application
from node.storage.db import Database


class TrustStore:
    """The ``directory_events``, ``directory_head``, ``enrolments``, ``bans`` and
    ``trust_outbox`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the directory --------------------------------------------------------------------

    async def load_directory(self) -> tuple[list[bytes], dict[str, object] | None]:
        """Every event in log order, and the stored head (None before the first)."""

        def txn(conn: sqlite3.Connection) -> tuple[list[bytes], dict[str, object] | None]:
            events = [
                bytes(row[0])
                for row in conn.execute("SELECT body FROM directory_events ORDER BY version")
            ]
            row = conn.execute("SELECT body FROM directory_head WHERE id = 1").fetchone()
            return events, (json.loads(row[0]) if row else None)

        return await self.db.read(txn)

    async def append_directory(
        self, first_version: int, events: Sequence[bytes], head: dict[str, object]
    ) -> None:
        """Add ``events`` (numbered from ``first_version``) and the head they lead to, at once."""

        def txn(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO directory_events(version, body) VALUES (?, ?)",
                [(first_version + i, event) for i, event in enumerate(events)],
            )
            conn.execute(
                "INSERT INTO directory_head(id, body) VALUES (1, ?) "
                "ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                (json.dumps(head),),
            )

        await self.db.write(txn)

    async def events_after(self, version: int, limit: int) -> list[bytes]:
        def txn(conn: sqlite3.Connection) -> list[bytes]:
            rows = conn.execute(
                "SELECT body FROM directory_events WHERE version > ? ORDER BY version LIMIT ?",
                (version, limit),
            )
            return [bytes(row[0]) for row in rows]

        return await self.db.read(txn)

    # -- enrolment applications -----------------------------------------------------------

    async def apply(
        self,
        code: str,
        name: str,
        public_key: bytes,
        address: str,
        *,
        may_replace_approved: bool = False,
    ) -> Application:
        """Record an application and return what is stored for ``code`` afterwards.

        The stored key is pinned: a repeat with the same key keeps its status; another key
        replaces the application only when it was rejected (or, with
        ``may_replace_approved``, approved for a certificate that no longer counts).
        Otherwise nothing changes and the caller sees the stored key differs. Decided in
        the one write transaction, so two applications racing for one code cannot both win.
        """

        def txn(conn: sqlite3.Connection) -> Application:
            row = _application(conn, code)
            replaceable = row is not None and (
                row.status == "rejected" or (row.status == "approved" and may_replace_approved)
            )
            if row is None or (row.public_key != public_key and replaceable):
                conn.execute(
                    "INSERT INTO enrolments(code, name, public_key, address, requested_at, "
                    "status, decided_at, chain_json, note) "
                    "VALUES (?, ?, ?, ?, ?, 'pending', NULL, '', '') "
                    "ON CONFLICT(code) DO UPDATE SET name = excluded.name, "
                    "public_key = excluded.public_key, address = excluded.address, "
                    "requested_at = excluded.requested_at, status = 'pending', "
                    "decided_at = NULL, chain_json = '', note = ''",
                    (code, name, public_key, address, time.time()),
                )
            found = _application(conn, code)
            assert found is not None
            return found

        return await self.db.write(txn)

    async def decide(
        self, code: str, public_key: bytes, status: str, chain_json: str = "", note: str = ""
    ) -> bool:
        """Decide ``code``'s pending application for ``public_key``; False (nothing written)
        if it is no longer pending for that key."""

        def txn(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE enrolments SET status = ?, decided_at = ?, chain_json = ?, note = ? "
                "WHERE code = ? AND public_key = ? AND status = 'pending'",
                (status, time.time(), chain_json, note, code, public_key),
            )
            return bool(cursor.rowcount)

        return await self.db.write(txn)

    async def application(self, code: str) -> Application | None:
        return await self.db.read(lambda conn: _application(conn, code))

    async def applications(self, status: str | None = None) -> list[Application]:
        def txn(conn: sqlite3.Connection) -> list[Application]:
            sql = f"SELECT {_APPLICATION_COLUMNS} FROM enrolments"
            rows = (
                conn.execute(sql + " WHERE status = ? ORDER BY requested_at", (status,))
                if status
                else conn.execute(sql + " ORDER BY requested_at")
            )
            return [_row_to_application(row) for row in rows]

        return await self.db.read(txn)

    async def count_pending(self) -> int:
        return await self.db.read(
            lambda conn: int(
                conn.execute("SELECT count(*) FROM enrolments WHERE status = 'pending'").fetchone()[
                    0
                ]
            )
        )

    # -- the local ban list ---------------------------------------------------------------

    async def ban(self, key_id: str, reason: str) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO bans(key_id, reason, at) VALUES (?, ?, ?)",
                (key_id, reason, time.time()),
            )
        )

    async def unban(self, key_id: str) -> bool:
        cursor = await self.db.write(
            lambda conn: conn.execute("DELETE FROM bans WHERE key_id = ?", (key_id,))
        )
        return bool(cursor.rowcount)

    async def bans(self) -> dict[str, str]:
        return await self.db.read(
            lambda conn: {k: r for k, r in conn.execute("SELECT key_id, reason FROM bans")}
        )

    # -- events waiting to be reported to the root registry -------------------------------

    async def queue_report(self, event: bytes) -> None:
        await self.db.write(
            lambda conn: conn.execute("INSERT INTO trust_outbox(body) VALUES (?)", (event,))
        )

    async def pending_reports(self, limit: int = 500) -> list[tuple[int, bytes]]:
        def txn(conn: sqlite3.Connection) -> list[tuple[int, bytes]]:
            rows = conn.execute("SELECT id, body FROM trust_outbox ORDER BY id LIMIT ?", (limit,))
            return [(int(i), bytes(b)) for i, b in rows]

        return await self.db.read(txn)

    async def reported(self, up_to_id: int) -> None:
        await self.db.write(
            lambda conn: conn.execute("DELETE FROM trust_outbox WHERE id <= ?", (up_to_id,))
        )


class SeenNonces:
    """The ``seen_nonces`` table: nonces of state-changing calls, kept until they expire.

    The in-memory nonce cache (``federation/trust/verify.py``) forgets everything when the
    node restarts, while a captured call stays within the skew bound for two minutes; a
    state-changing call's nonce is therefore also claimed here, in one write, before the
    call takes effect. Expired rows are pruned by the same write (an index on the expiry
    keeps that cheap), so the table holds only the last few minutes of such calls.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, origin: str, nonce: bytes, expires_ms: int, now_ms: int) -> bool:
        """Record ``(origin, nonce)`` until ``expires_ms``; False if it is already recorded."""

        def txn(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM seen_nonces WHERE expires_ms <= ?", (now_ms,))
            cursor = conn.execute(
                "INSERT OR IGNORE INTO seen_nonces(origin, nonce, expires_ms) VALUES (?, ?, ?)",
                (origin, nonce, expires_ms),
            )
            return bool(cursor.rowcount)

        return await self.db.write(txn)

    async def release(self, origin: str, nonce: bytes) -> None:
        """Forget a nonce whose call applied nothing, so its identical retry may run."""
        await self.db.write(
            lambda conn: conn.execute(
                "DELETE FROM seen_nonces WHERE origin = ? AND nonce = ?", (origin, nonce)
            )
        )

    async def count(self) -> int:
        return await self.db.read(
            lambda conn: int(conn.execute("SELECT count(*) FROM seen_nonces").fetchone()[0])
        )


_APPLICATION_COLUMNS = (
    "code, name, public_key, address, requested_at, status, decided_at, chain_json, note"
)


def _application(conn: sqlite3.Connection, code: str) -> Application | None:
    row = conn.execute(
        f"SELECT {_APPLICATION_COLUMNS} FROM enrolments WHERE code = ?", (code,)
    ).fetchone()
    return _row_to_application(row) if row else None


def _row_to_application(row: tuple[Any, ...]) -> Application:
    code, name, public_key, address, requested_at, status, decided_at, chain_json, note = row
    return Application(
        code, name, bytes(public_key), address, requested_at, status, decided_at, chain_json, note
    )
