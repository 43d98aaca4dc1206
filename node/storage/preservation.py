"""Preservation's tables (migration ``0016_preservation``): fixity, and the lookups that ingest
and export make over the records a node holds.

- ``fixity_checks``: each stored content's last check (when, and whether it hashed to its
  name), so a fixity run takes the content checked longest ago first and a whole store is
  covered in turn, a slice per run;
- ``fixity_failures``: the records whose content failed a check, shown to the archivist until
  the content is repaired (``clear_failures``, after a check passes again).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from node.records import Record
from node.storage.db import Database
from node.storage.records import RECORD_COLUMNS, _record

_CHUNK = 500


@dataclass(frozen=True)
class Due:
    """Content due for a fixity check, and the records (id, file name) it belongs to."""

    sha256: str
    owners: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FixityFailure:
    record_id: str
    sha256: str
    name: str
    detected_at_ms: int


class PreservationStore:
    """Fixity bookkeeping and the record lookups of ingest and export."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def due(self, limit: int) -> list[Due]:
        """Up to ``limit`` stored contents, never checked first, then checked longest ago."""

        def txn(conn: sqlite3.Connection) -> list[Due]:
            rows = conn.execute(
                "SELECT f.sha256 FROM (SELECT DISTINCT sha256 FROM record_files) f "
                "LEFT JOIN fixity_checks c USING (sha256) "
                "ORDER BY coalesce(c.checked_at_ms, -1), f.sha256 LIMIT ?",
                (limit,),
            ).fetchall()
            found = []
            for (sha,) in rows:
                owners = conn.execute(
                    "SELECT r.record_id, json_extract(j.value, '$.name') FROM record_files f "
                    "JOIN records r USING (record_id), json_each(r.files) j "
                    "WHERE f.sha256 = ? AND json_extract(j.value, '$.sha256') = ?",
                    (sha, sha),
                ).fetchall()
                found.append(Due(sha, tuple((str(a), str(b)) for a, b in owners)))
            return found

        return await self.db.read(txn)

    async def record_checks(
        self, results: Sequence[tuple[Due, bool]], at_ms: int, also: object = None
    ) -> None:
        """Store each check's outcome; a failure marks every record owning the content, a
        pass clears earlier marks (the content was repaired). ``also`` runs in the same
        transaction (the audit log's entries)."""

        def txn(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO fixity_checks(sha256, checked_at_ms, ok) VALUES (?, ?, ?) "
                "ON CONFLICT(sha256) DO UPDATE SET checked_at_ms = excluded.checked_at_ms, "
                "ok = excluded.ok",
                [(due.sha256, at_ms, int(ok)) for due, ok in results],
            )
            for due, ok in results:
                if ok:
                    conn.execute("DELETE FROM fixity_failures WHERE sha256 = ?", (due.sha256,))
                    continue
                conn.executemany(
                    "INSERT OR IGNORE INTO fixity_failures(record_id, sha256, name, "
                    "detected_at_ms) VALUES (?, ?, ?, ?)",
                    [(record_id, due.sha256, name, at_ms) for record_id, name in due.owners],
                )
            if callable(also):
                also(conn)

        await self.db.write(txn)

    async def failures(self) -> list[FixityFailure]:
        def txn(conn: sqlite3.Connection) -> list[FixityFailure]:
            rows = conn.execute(
                "SELECT record_id, sha256, name, detected_at_ms FROM fixity_failures "
                "ORDER BY detected_at_ms DESC, record_id"
            )
            return [FixityFailure(*row) for row in rows]

        return await self.db.read(txn)

    async def checked(self) -> tuple[int, int]:
        """(contents checked at least once, contents stored)."""

        def txn(conn: sqlite3.Connection) -> tuple[int, int]:
            done = conn.execute("SELECT count(*) FROM fixity_checks").fetchone()[0]
            stored = conn.execute("SELECT count(DISTINCT sha256) FROM record_files").fetchone()[0]
            return int(done), int(stored)

        return await self.db.read(txn)

    async def records(self, record_ids: Iterable[str]) -> dict[str, Record]:
        """The stored records among ``record_ids``, by id."""
        wanted = list(dict.fromkeys(record_ids))
        columns = ", ".join(RECORD_COLUMNS)

        def txn(conn: sqlite3.Connection) -> dict[str, Record]:
            found: dict[str, Record] = {}
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" for _ in chunk)
                for row in conn.execute(
                    f"SELECT {columns} FROM records WHERE record_id IN ({marks})", chunk
                ):
                    record = _record(row)
                    found[record.record_id] = record
            return found

        return await self.db.read(txn)

    async def holders_of_codes(self, codes: Iterable[str]) -> dict[str, str]:
        """Which stored record (id) holds each of the 档号 ``codes`` (those stored)."""
        wanted = list(dict.fromkeys(codes))

        def txn(conn: sqlite3.Connection) -> dict[str, str]:
            found: dict[str, str] = {}
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" for _ in chunk)
                found.update(
                    conn.execute(
                        "SELECT archival_code, record_id FROM records "
                        f"WHERE archival_code IN ({marks}) AND deleted = 0",
                        chunk,
                    )
                )
            return found

        return await self.db.read(txn)

    async def series(self, prefix: str, limit: int) -> list[Record]:
        """Records whose 档号 starts with ``prefix`` (a series: the 档号 less its item), in 档号
        order; the ``·`` may be written ``.``."""
        columns = ", ".join(RECORD_COLUMNS)
        forms = {prefix, prefix.replace(".", "·")}

        def txn(conn: sqlite3.Connection) -> list[Record]:
            found: list[Record] = []
            for form in sorted(forms):
                rows = conn.execute(
                    f"SELECT {columns} FROM records WHERE substr(archival_code, 1, ?) = ? "
                    "AND deleted = 0 ORDER BY archival_code LIMIT ?",
                    (len(form), form, limit),
                )
                found += [_record(row) for row in rows]
            return found[:limit]

        return await self.db.read(txn)
