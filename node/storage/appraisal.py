"""The review lists of appraisal (鉴定): records due for opening and records due for disposal.

A scan (``scan_txn``) lists, in one pass over the records per list, every record held here
that is not open and whose formation date plus its category's opening period has passed
(the opening list), and every record kept for a limited period whose retention has run out
(the disposal list). A record is listed once per kind (``INSERT OR IGNORE`` on its key); a listed
record waits for an archivist's decision, recorded on its row with who took it, when and
why. Nothing here changes a record: opening and disposal are new versions that
``federation/services/appraisal.py`` writes in the same transaction as the decision.

The formation date is the record's ``date``; a record without one counts from the last day
of its year, so it is never listed early.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from node.storage.db import Database

OPENING, DISPOSAL = "opening", "disposal"
KINDS = (OPENING, DISPOSAL)
PENDING = "pending"
RETENTION_YEARS = {"30年": 30, "10年": 10}  # 永久 records are never disposed of
_FORMED = "coalesce(nullif(r.date, ''), r.year || '-12-31')"


@dataclass(frozen=True)
class ReviewItem:
    """One listed record, as the review page and the CLI show it."""

    record_id: str
    kind: str
    due: str  # yyyy-mm-dd: when it reached its opening or retention date
    archival_code: str
    title: str
    category: str
    year: int
    access: str
    retention: str
    status: str
    decided_by: str
    reason: str


def scan_txn(
    conn: sqlite3.Connection,
    today: str,
    opening_years: Mapping[str, int],
    listed_at: float,
) -> dict[str, int]:
    """List the records that became due by ``today``; how many were newly listed per kind.

    ``opening_years`` maps every category to its opening period in years.
    """
    # One pass over the records per kind: the period is a CASE on the category or retention.
    by_category = " ".join("WHEN ? THEN ?" for _ in opening_years)
    opening = conn.execute(
        "INSERT OR IGNORE INTO appraisal_reviews(record_id, kind, due, listed_at) "
        "SELECT record_id, 'opening', due, ? FROM (SELECT r.record_id, "
        f"date({_FORMED}, '+' || (CASE r.category {by_category} END) || ' years') AS due "
        "FROM records r WHERE r.deleted = 0 AND r.access != 'open') WHERE due <= ?",
        (listed_at, *[v for item in opening_years.items() for v in item], today),
    )
    by_retention = " ".join("WHEN ? THEN ?" for _ in RETENTION_YEARS)
    limited = ", ".join("?" for _ in RETENTION_YEARS)
    disposal = conn.execute(
        "INSERT OR IGNORE INTO appraisal_reviews(record_id, kind, due, listed_at) "
        "SELECT record_id, 'disposal', due, ? FROM (SELECT r.record_id, "
        f"date({_FORMED}, '+' || (CASE r.retention {by_retention} END) || ' years') AS due "
        f"FROM records r WHERE r.deleted = 0 AND r.retention IN ({limited})) "
        "WHERE due <= ?",
        (
            listed_at,
            *[v for item in RETENTION_YEARS.items() for v in item],
            *RETENTION_YEARS,
            today,
        ),
    )
    return {OPENING: opening.rowcount, DISPOSAL: disposal.rowcount}


# A listed record still needs a decision only while nothing overtook it: not disposed of,
# and (for opening) not opened meanwhile by an ingest of a new version.
_STILL_DUE = "r.deleted = 0 AND (a.kind = 'disposal' OR r.access != 'open')"
_ITEM = (
    "a.record_id, a.kind, a.due, r.archival_code, r.title, r.category, r.year, r.access, "
    "r.retention, a.status, a.decided_by, a.reason"
)


def pending_txn(
    conn: sqlite3.Connection, kind: str, limit: int, offset: int
) -> tuple[int, list[ReviewItem]]:
    """The records of ``kind`` awaiting a decision, oldest due first, and how many there are."""
    where = f"a.kind = ? AND a.status = 'pending' AND {_STILL_DUE}"
    total = conn.execute(
        "SELECT count(*) FROM appraisal_reviews a JOIN records r ON r.record_id = a.record_id "
        f"WHERE {where}",
        (kind,),
    ).fetchone()[0]
    rows = conn.execute(
        f"SELECT {_ITEM} FROM appraisal_reviews a JOIN records r ON r.record_id = a.record_id "
        f"WHERE {where} ORDER BY a.due, a.record_id LIMIT ? OFFSET ?",
        (kind, limit, offset),
    )
    return int(total), [ReviewItem(*row) for row in rows]


def items_txn(conn: sqlite3.Connection, kind: str, record_ids: Sequence[str]) -> list[ReviewItem]:
    """The listed rows of ``kind`` for ``record_ids`` (any status) that are still due, in the
    order asked (at most 500: the service's batch limit keeps the parameters few)."""
    marks = ", ".join("?" for _ in record_ids)
    rows = conn.execute(
        f"SELECT {_ITEM} FROM appraisal_reviews a JOIN records r ON r.record_id = a.record_id "
        f"WHERE a.kind = ? AND {_STILL_DUE} AND a.record_id IN ({marks})",
        (kind, *record_ids),
    )
    found = {row[0]: ReviewItem(*row) for row in rows}
    return [found[r] for r in record_ids if r in found]


def decide_txn(
    conn: sqlite3.Connection,
    kind: str,
    record_ids: Sequence[str],
    status: str,
    decided_by: str,
    reason: str,
    at: float,
) -> None:
    """Record a decision on pending rows (inside the decision's own write transaction)."""
    conn.executemany(
        "UPDATE appraisal_reviews SET status = ?, decided_at = ?, decided_by = ?, reason = ? "
        "WHERE kind = ? AND record_id = ? AND status = 'pending'",
        [(status, at, decided_by, reason, kind, r) for r in record_ids],
    )


class AppraisalStore:
    """The review lists of one node's own records."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def scan(
        self, today: str, opening_years: Mapping[str, int], listed_at: float
    ) -> dict[str, int]:
        return await self.db.write(lambda conn: scan_txn(conn, today, opening_years, listed_at))

    async def pending(self, kind: str, limit: int, offset: int) -> tuple[int, list[ReviewItem]]:
        return await self.db.read(lambda conn: pending_txn(conn, kind, limit, offset))

    async def items(self, kind: str, record_ids: Sequence[str]) -> list[ReviewItem]:
        return await self.db.read(lambda conn: items_txn(conn, kind, record_ids))

    async def write(self, txn: Callable[[sqlite3.Connection], None]) -> None:
        """Run a decision's ``txn`` (``decide_txn`` and its audit entries) in one transaction."""
        await self.db.write(txn)
