"""What an OAI-PMH feed reads of the catalogue: harvestable entries in datestamp order.

A row is in the feed once it was ever open at this node (``shown``, migration 0014); its
datestamp is ``stamp``, the UTC second its current version was accepted here. The feed is
ordered by ``(stamp, id)``, a total order that a resumption token can resume after without
state on the server: a row changed during a harvest moves past the harvest's ``until`` and
is seen by the next incremental harvest, never skipped.

A set is a division code: the rows whose holder code starts with it. Codes are digits, so
"starts with" is the range ``[code, code + ":")`` on the holder, which the index serves.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from node.records import CatalogueEntry
from node.storage.db import Database
from node.storage.entries import SELECT_ENTRY, entry_from_row


@dataclass(frozen=True)
class FeedItem:
    """One row of the feed: its position (``stamp``, ``id``) and the entry as stored."""

    id: int
    stamp: int
    entry: CatalogueEntry


@dataclass(frozen=True)
class FeedWindow:
    """Which rows a list request covers: a set (division code prefix, "" = all) and a
    datestamp range ``[since, until]`` in UTC seconds, both inclusive."""

    prefix: str = ""
    since: int = 0
    until: int = 2**62


def _where(window: FeedWindow) -> tuple[str, list[object]]:
    clauses = ["c.shown = 1", "c.stamp >= ?", "c.stamp <= ?"]
    params: list[object] = [window.since, window.until]
    if window.prefix:
        # ':' sorts right after '9': every code that starts with the prefix is in range
        clauses += ["c.holder >= ?", "c.holder < ?"]
        params += [window.prefix, window.prefix + ":"]
    return " AND ".join(clauses), params


def page_txn(
    conn: sqlite3.Connection, window: FeedWindow, after: tuple[int, int], limit: int
) -> list[FeedItem]:
    """Up to ``limit`` rows of ``window`` after position ``after`` = (stamp, id).

    Two seeks, not ``(stamp, id) > (?, ?)``: SQLite uses only the row value's first column
    for the range, so a page deep inside one second's rows (a bulk ingest stamps thousands
    alike) would re-read that second from its start, and a harvest would be quadratic.
    """
    where, params = _where(window)
    select = f"SELECT c.id, c.stamp, {SELECT_ENTRY} FROM catalogue c INDEXED BY catalogue_oai "
    rows = conn.execute(
        f"{select} WHERE {where} AND c.stamp = ? AND c.id > ? ORDER BY c.id LIMIT ?",
        [*params, after[0], after[1], limit],
    ).fetchall()
    if len(rows) < limit:
        rows += conn.execute(
            f"{select} WHERE {where} AND c.stamp > ? ORDER BY c.stamp, c.id LIMIT ?",
            [*params, after[0], limit - len(rows)],
        ).fetchall()
    return [FeedItem(row[0], row[1], entry_from_row(row[2:])) for row in rows]


def count_txn(conn: sqlite3.Connection, window: FeedWindow) -> int:
    where, params = _where(window)
    return int(
        conn.execute(f"SELECT count(*) FROM catalogue c WHERE {where}", params).fetchone()[0]
    )


class OaiFeed:
    """Reads of the feed over one node's catalogue (no writes: ingest and sync stamp rows)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(self, window: FeedWindow, after: tuple[int, int], limit: int) -> list[FeedItem]:
        return await self.db.read(lambda conn: page_txn(conn, window, after, limit))

    async def count(self, window: FeedWindow) -> int:
        """How many rows ``window`` holds now (a harvest's ``completeListSize``)."""
        return await self.db.read(lambda conn: count_txn(conn, window))

    async def earliest(self) -> int | None:
        """The earliest datestamp in the feed (None: nothing was ever open here)."""

        def txn(conn: sqlite3.Connection) -> int | None:
            row = conn.execute("SELECT min(stamp) FROM catalogue WHERE shown = 1").fetchone()
            return None if row[0] is None else int(row[0])

        return await self.db.read(txn)

    async def item(self, holder: str, record_id: str) -> FeedItem | None:
        """The row of one record, if it is in the feed (ever open here)."""

        def txn(conn: sqlite3.Connection) -> FeedItem | None:
            row = conn.execute(
                f"SELECT c.id, c.stamp, {SELECT_ENTRY} FROM catalogue c "
                "WHERE c.holder = ? AND c.record_id = ? AND c.shown = 1",
                (holder, record_id),
            ).fetchone()
            return FeedItem(row[0], row[1], entry_from_row(row[2:])) if row else None

        return await self.db.read(txn)

    async def holders(self) -> list[tuple[str, str]]:
        """Every holder with a row in the feed and its name, in code order (the sets)."""

        def txn(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute(
                "SELECT holder, max(holder_name) FROM catalogue WHERE shown = 1 GROUP BY holder"
            )
            return sorted((row[0], row[1] or "") for row in rows)

        return await self.db.read(txn)
