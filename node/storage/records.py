"""The records a node holds itself, and their contribution to its own catalogue.

A put stores records and their catalogue entries (and so their change-log entries) in ONE
transaction: once ``put`` returns, the records, the entries and the changes that will carry
them up the tree are all on disk together, or none of them is. Versions only go up.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from node.errors import InvalidRecord, NotFound
from node.records import Access, ContentFile, Record, Retention, catalogue_entry
from node.storage.catalogue import apply_entries_txn
from node.storage.db import Database
from node.storage.entries import dump_json

RECORD_COLUMNS = (
    "record_id", "holder", "archival_code", "fonds", "category", "year", "retention",
    "title", "creator", "date", "access", "subjects", "subject_index", "files", "version",
    "deleted", "disposal", "doc_type", "secrecy",
)  # fmt: skip
_LOOKUP_CHUNK = 500
_UPSERT = (
    f"INSERT INTO records({', '.join(RECORD_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RECORD_COLUMNS)}) ON CONFLICT(record_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in RECORD_COLUMNS[1:])
)


def _values(record: Record) -> tuple[object, ...]:
    files = [
        {"name": f.name, "sha256": f.sha256, "size": f.size, "media_type": f.media_type}
        for f in record.files
    ]
    return (
        record.record_id, record.holder, record.archival_code, record.fonds, record.category,
        record.year, str(record.retention), record.title, record.creator, record.date,
        str(record.access), dump_json(list(record.subjects)),
        dump_json(list(record.subject_index)), dump_json(files),
        record.version, int(record.deleted), record.disposal, record.doc_type, record.secrecy,
    )  # fmt: skip


def _record(row: Any) -> Record:
    values = dict(zip(RECORD_COLUMNS, row, strict=True))
    return Record(
        holder=values["holder"],
        record_id=values["record_id"],
        archival_code=values["archival_code"],
        fonds=values["fonds"],
        category=values["category"],
        year=values["year"],
        retention=Retention(values["retention"]),
        title=values["title"],
        creator=values["creator"],
        date=values["date"],
        access=Access(values["access"]),
        subjects=tuple(json.loads(values["subjects"])),
        subject_index=tuple(json.loads(values["subject_index"])),
        files=tuple(ContentFile(**f) for f in json.loads(values["files"])),
        version=values["version"],
        deleted=bool(values["deleted"]),
        disposal=values["disposal"],
        doc_type=values["doc_type"],
        secrecy=values["secrecy"],
    )


def _stored_versions(conn: sqlite3.Connection, record_ids: Sequence[str]) -> dict[str, int]:
    versions: dict[str, int] = {}
    for start in range(0, len(record_ids), _LOOKUP_CHUNK):
        chunk = record_ids[start : start + _LOOKUP_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(
            f"SELECT record_id, version FROM records WHERE record_id IN ({marks})", chunk
        )
        versions.update(rows)
    return versions


def put_records_txn(
    conn: sqlite3.Connection, records: Sequence[Record], holder_name: str
) -> list[int]:
    """Store records and their catalogue entries inside a write transaction.

    Raises ``InvalidRecord`` (and the caller's transaction rolls back) if any record's
    version is not above the stored one.
    """
    versions = _stored_versions(conn, list(dict.fromkeys(r.record_id for r in records)))
    for record in records:
        stored = versions.get(record.record_id)
        if stored is not None and record.version <= stored:
            raise InvalidRecord(
                f"档案 {record.ref} 已存有版本 {stored}，新版本号须大于它（收到 {record.version}）"
            )
        versions[record.record_id] = record.version
    conn.executemany(_UPSERT, [_values(r) for r in records])
    # which records name which content (``record_files``, for the release check): a new
    # version's files replace its old ones
    conn.executemany(
        "DELETE FROM record_files WHERE record_id = ?", [(r.record_id,) for r in records]
    )
    conn.executemany(
        "INSERT OR IGNORE INTO record_files(sha256, record_id) VALUES (?, ?)",
        [(f.sha256, r.record_id) for r in records for f in r.files],
    )
    entries = [catalogue_entry(r, holder_name) for r in records]
    return apply_entries_txn(conn, [e for e in entries if e is not None])


class RecordStore:
    """The ``records`` table: this node's own holdings."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(
        self,
        records: Sequence[Record],
        holder_name: str,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> list[int]:
        """Store records (new, or new versions) and update the catalogue, in one transaction.

        Returns the change-log seqs created. Raises ``InvalidRecord`` if a record's version
        is not higher than the stored one; then nothing of the call is stored. ``also`` runs
        in the same transaction after the records are stored (the audit log's entries).
        """
        records = list(records)
        if not records:
            return []

        def txn(conn: sqlite3.Connection) -> list[int]:
            seqs = put_records_txn(conn, records, holder_name)
            if also is not None:
                also(conn)
            return seqs

        return await self.db.write(txn)

    async def get(self, record_id: str) -> Record:
        """The stored record; ``NotFound`` if this node holds no such record."""

        def txn(conn: sqlite3.Connection) -> Record | None:
            row = conn.execute(
                f"SELECT {', '.join(RECORD_COLUMNS)} FROM records WHERE record_id = ?",
                (record_id,),
            ).fetchone()
            return _record(row) if row else None

        record = await self.db.read(txn)
        if record is None:
            raise NotFound(f"本节点没有档案 {record_id}")
        return record

    async def get_many(self, record_ids: Sequence[str]) -> list[Record]:
        """The stored records among ``record_ids`` (those this node holds), in one read."""
        wanted = list(dict.fromkeys(record_ids))

        def txn(conn: sqlite3.Connection) -> list[Record]:
            found: list[Record] = []
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                rows = conn.execute(
                    f"SELECT {', '.join(RECORD_COLUMNS)} FROM records WHERE record_id IN ({marks})",
                    chunk,
                )
                found.extend(_record(row) for row in rows)
            return found

        return await self.db.read(txn)

    async def stored_files(self, record_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """The sha256 of every file of the stored version of each of ``record_ids`` (those
        this node holds), looked up in one read: what ingest lets a new version name without
        sending its content again."""
        wanted = list(dict.fromkeys(record_ids))

        def txn(conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
            found: dict[str, frozenset[str]] = {}
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                for record_id, files in conn.execute(
                    f"SELECT record_id, files FROM records WHERE record_id IN ({marks})", chunk
                ):
                    found[record_id] = frozenset(f["sha256"] for f in json.loads(files))
            return found

        return await self.db.read(txn)

    async def naming_content(self, sha256: str) -> list[Record]:
        """Every record of this node one of whose files has the content ``sha256`` (by the
        ``record_files`` index, kept with every put)."""
        columns = ", ".join(f"r.{name}" for name in RECORD_COLUMNS)

        def txn(conn: sqlite3.Connection) -> list[Record]:
            rows = conn.execute(
                f"SELECT {columns} FROM record_files f JOIN records r USING (record_id) "
                "WHERE f.sha256 = ?",
                (sha256,),
            )
            return [_record(row) for row in rows]

        return await self.db.read(txn)

    async def count(self) -> int:
        """How many records this node holds (deleted ones included)."""
        return await self.db.read(
            lambda conn: int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
        )
