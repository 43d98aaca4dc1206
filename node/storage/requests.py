"""Utilisation requests and the durable outbox of their calls (the ``0012_requests`` tables).

A request is stored once per node that knows it: ``outgoing`` where it was filed,
``incoming`` at the holder (a node filing for its own record has one row of each role only
if the two differ; see ``federation/requests.py``). Every state change is a compare-and-set on
the state the caller saw, in one transaction with the outbox item that tells the other end
and the audit entry, so a crash leaves either all three or none.

The outbox (``request_outbox``) holds encoded calls, each to one destination node, with its
own attempt count and time of the next attempt: the call survives a restart and waits for a
link that is down, and one unreachable holder does not hold back calls to the others. An
item is deleted when the destination acknowledged it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from node.requests import (
    Delivered,
    FiledRequest,
    Relationship,
    Role,
    State,
    UtilisationRequest,
    change_from_text,
    change_to_text,
)
from node.storage.db import Database

TxnHook = Callable[[sqlite3.Connection], None]

_COLUMNS = (
    "request_id, holder, record_id, requesting_node, clerk, purpose, relationship, created_ms, "
    "role, state, reason, state_at_ms, holder_due_ms, receiver_due_ms, citizen_name, id_masked, "
    "rule, attorney_sha256, attorney_type, record_title, archival_code, content_sha256, "
    "content_name, content_type, content_size, change, copy_code"
)


@dataclass(frozen=True)
class OutboxItem:
    """One call waiting to be delivered."""

    id: int
    request_id: str
    destination: str
    method: str
    payload: bytes
    attempts: int
    next_attempt_ms: int
    last_error: str


@dataclass(frozen=True)
class Outgoing:
    """A call to put in the outbox with a change (``id`` is assigned by the store)."""

    request_id: str
    destination: str
    method: str
    payload: bytes


def _filed(row: Any) -> FiledRequest:
    request = UtilisationRequest(
        row[0], row[1], row[2], row[3], row[4], row[5], Relationship(row[6]), int(row[7])
    )
    content = Delivered(row[21], row[22], row[23], int(row[24])) if row[21] else None
    return FiledRequest(
        request=request,
        role=Role(row[8]),
        state=State(row[9]),
        reason=row[10],
        state_at_ms=int(row[11]),
        holder_due_ms=int(row[12]),
        receiver_due_ms=None if row[13] is None else int(row[13]),
        citizen_name=row[14],
        id_masked=row[15],
        rule=row[16],
        attorney_sha256=row[17],
        attorney_type=row[18],
        record_title=row[19],
        archival_code=row[20],
        content=content,
        change=change_from_text(row[25]),
        copy_code=row[26],
    )


def _values(f: FiledRequest) -> tuple[object, ...]:
    r = f.request
    c = f.content
    return (
        r.request_id, r.holder, r.record_id, r.requesting_node, r.clerk, r.purpose,
        r.relationship.value, r.created_ms, f.role.value, f.state.value, f.reason,
        f.state_at_ms, f.holder_due_ms, f.receiver_due_ms, f.citizen_name, f.id_masked, f.rule,
        f.attorney_sha256, f.attorney_type, f.record_title, f.archival_code,
        c.sha256 if c else "", c.name if c else "", c.media_type if c else "",
        c.size if c else 0, change_to_text(f.change) if f.change else "", f.copy_code,
    )  # fmt: skip


def _enqueue_txn(conn: sqlite3.Connection, items: Sequence[Outgoing], now_ms: int) -> None:
    conn.executemany(
        "INSERT INTO request_outbox(request_id, destination, method, payload, created_ms) "
        "VALUES (?, ?, ?, ?, ?)",
        [(i.request_id, i.destination, i.method, i.payload, now_ms) for i in items],
    )


class RequestStore:
    """The ``requests`` and ``request_outbox`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        filed: FiledRequest,
        *,
        sealed: bytes | None = None,
        outgoing: Sequence[Outgoing] = (),
        now_ms: int,
        also: TxnHook | None = None,
    ) -> bool:
        """Store a new request (with its outbox items and audit hook); False if a request
        with this id and role was stored before (nothing is written then)."""

        def txn(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT role FROM requests WHERE request_id = ?", (filed.request_id,)
            ).fetchone()
            if row is not None:
                return False
            marks = ", ".join("?" for _ in _COLUMNS.split(","))
            conn.execute(f"INSERT INTO requests({_COLUMNS}) VALUES ({marks})", _values(filed))
            if sealed is not None:
                conn.execute(
                    "UPDATE requests SET sealed = ? WHERE request_id = ?",
                    (sealed, filed.request_id),
                )
            _enqueue_txn(conn, outgoing, now_ms)
            if also is not None:
                also(conn)
            return True

        return await self.db.write(txn)

    async def get(self, request_id: str) -> FiledRequest | None:
        def txn(conn: sqlite3.Connection) -> FiledRequest | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM requests WHERE request_id = ?", (request_id,)
            ).fetchone()
            return _filed(row) if row else None

        return await self.db.read(txn)

    async def copy_document(self, request_id: str) -> bytes | None:
        """The certified copy delivered with a request's content, if any."""

        def txn(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(
                "SELECT copy_document FROM requests WHERE request_id = ?", (request_id,)
            ).fetchone()
            return bytes(row[0]) if row and row[0] is not None else None

        return await self.db.read(txn)

    async def sealed(self, request_id: str) -> bytes | None:
        def txn(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(
                "SELECT sealed FROM requests WHERE request_id = ?", (request_id,)
            ).fetchone()
            return bytes(row[0]) if row and row[0] is not None else None

        return await self.db.read(txn)

    async def replace(
        self,
        expected: State,
        updated: FiledRequest,
        *,
        outgoing: Sequence[Outgoing] = (),
        now_ms: int,
        also: TxnHook | None = None,
        copy_document: bytes | None = None,
    ) -> FiledRequest | None:
        """Write ``updated`` if the stored request is still in state ``expected`` (with the
        outbox items, the audit hook and the certified copy that came with the content); else
        write nothing and return the stored one."""

        def txn(conn: sqlite3.Connection) -> FiledRequest | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM requests WHERE request_id = ?", (updated.request_id,)
            ).fetchone()
            if row is None:
                return None
            current = _filed(row)
            if current.state != expected:
                return current
            sets = ", ".join(f"{c.strip()} = ?" for c in _COLUMNS.split(","))
            conn.execute(
                f"UPDATE requests SET {sets} WHERE request_id = ?",
                (*_values(updated), updated.request_id),
            )
            if updated.state.final:
                conn.execute(  # nothing sealed outlives the request's life
                    "UPDATE requests SET sealed = NULL WHERE request_id = ?",
                    (updated.request_id,),
                )
            if copy_document is not None:
                conn.execute(
                    "UPDATE requests SET copy_document = ? WHERE request_id = ?",
                    (copy_document, updated.request_id),
                )
            _enqueue_txn(conn, outgoing, now_ms)
            if also is not None:
                also(conn)
            return updated

        return await self.db.write(txn)

    async def listing(
        self,
        role: Role,
        states: Sequence[State] = (),
        *,
        now_ms: int,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[FiledRequest]]:
        """How many match, and one page of them: overdue first, then by deadline."""
        params: dict[str, object] = {"role": role.value}
        where = "role = :role"
        if states:
            names = [f"s{i}" for i in range(len(states))]
            where += f" AND state IN ({', '.join(':' + n for n in names)})"
            params.update({n: s.value for n, s in zip(names, states, strict=True)})
        # Overdue: past the deadline of whoever acts next (as FiledRequest.overdue says).
        overdue = (
            "CASE WHEN state = 'submitted' AND holder_due_ms < :now THEN 1 "
            "WHEN state = 'approved' AND receiver_due_ms < :now THEN 1 ELSE 0 END"
        )

        order = f"{overdue} DESC, state = 'submitted' DESC, holder_due_ms, created_ms"
        if tuple(states) == (State.SUBMITTED,):
            # Waiting requests by deadline are overdue first already, and the index
            # (role, state, holder_due_ms) gives them in that order: a queue of 10,000 costs
            # a page, not a sort (docs/performance.md).
            order = "holder_due_ms"

        def txn(conn: sqlite3.Connection) -> tuple[int, list[FiledRequest]]:
            total = conn.execute(f"SELECT count(*) FROM requests WHERE {where}", params)
            count = int(total.fetchone()[0])
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM requests WHERE {where} ORDER BY {order} "
                "LIMIT :limit OFFSET :offset",
                {**params, "now": now_ms, "limit": limit, "offset": offset},
            ).fetchall()
            return count, [_filed(r) for r in rows]

        return await self.db.read(txn)

    async def approved_before(self, role: Role, at_ms: int) -> list[FiledRequest]:
        """Approved requests whose approval was made before ``at_ms`` (to expire them)."""

        def txn(conn: sqlite3.Connection) -> list[FiledRequest]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM requests WHERE role = ? AND state = 'approved' "
                "AND state_at_ms < ? LIMIT 500",
                (role.value, at_ms),
            ).fetchall()
            return [_filed(r) for r in rows]

        return await self.db.read(txn)

    # -- the outbox --------------------------------------------------------------------------

    async def enqueue(self, items: Sequence[Outgoing], now_ms: int) -> None:
        await self.db.write(lambda conn: _enqueue_txn(conn, items, now_ms))

    async def due(self, now_ms: int, limit: int = 100) -> list[OutboxItem]:
        """Items whose next attempt is due, oldest first."""

        def txn(conn: sqlite3.Connection) -> list[OutboxItem]:
            rows = conn.execute(
                "SELECT id, request_id, destination, method, payload, attempts, "
                "next_attempt_ms, last_error FROM request_outbox WHERE next_attempt_ms <= ? "
                "ORDER BY id LIMIT ?",
                (now_ms, limit),
            ).fetchall()
            return [OutboxItem(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], r[6], r[7]) for r in rows]

        return await self.db.read(txn)

    async def pending(self) -> list[OutboxItem]:
        """Every item still waiting (for status pages and tests)."""
        return await self.due(2**62, limit=10_000)

    async def next_attempt_ms(self) -> int | None:
        def txn(conn: sqlite3.Connection) -> int | None:
            row = conn.execute("SELECT min(next_attempt_ms) FROM request_outbox").fetchone()
            return None if row[0] is None else int(row[0])

        return await self.db.read(txn)

    async def delivered(self, item_id: int) -> None:
        await self.db.write(
            lambda conn: conn.execute("DELETE FROM request_outbox WHERE id = ?", (item_id,))
        )

    async def failed(self, item_id: int, attempts: int, next_ms: int, error: str) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                "UPDATE request_outbox SET attempts = ?, next_attempt_ms = ?, last_error = ? "
                "WHERE id = ?",
                (attempts, next_ms, error[:500], item_id),
            )
        )

    async def retry_destination(self, via: Callable[[str], bool], now_ms: int) -> int:
        """Make every item whose destination ``via`` accepts due now (a link came back)."""

        def txn(conn: sqlite3.Connection) -> int:
            rows = conn.execute(
                "SELECT id, destination FROM request_outbox WHERE next_attempt_ms > ?", (now_ms,)
            ).fetchall()
            ids = [(now_ms, r[0]) for r in rows if via(r[1])]
            conn.executemany("UPDATE request_outbox SET next_attempt_ms = ? WHERE id = ?", ids)
            return len(ids)

        return await self.db.write(txn)
