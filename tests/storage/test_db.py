"""Database: threads, transactions, error mapping, migrations, many instances per process."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from node.errors import InvalidInput, InvalidRecord, NotFound, StorageError
from node.records import SearchQuery
from node.storage import fts
from node.storage.catalogue import CatalogueStore
from node.storage.db import Database
from node.storage.migrations import MIGRATIONS, applied, migrate

from .factories import make_entry


@pytest.mark.asyncio
async def test_open_creates_file_in_wal_mode(tmp_path: Path) -> None:
    db = Database(tmp_path / "a" / "b" / "node.db")
    await db.open()
    try:
        assert db.path.is_file()
        assert await db.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        assert await db.write(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == 2
        names = await db.read(applied)
        assert names == [name for name, _ in MIGRATIONS]
    finally:
        await db.close()


@pytest.mark.asyncio
async def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    for _ in range(3):
        db = Database(path)
        await db.open()
        rows = await db.read(lambda c: c.execute("SELECT name FROM _migrations").fetchall())
        await db.close()
        assert rows == [(name,) for name, _ in MIGRATIONS]
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn) == []
    conn.close()


def test_a_failing_migration_step_leaves_nothing(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "node.db", isolation_level=None)
    migrate(conn)

    def broken(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrate(conn, [*MIGRATIONS, ("9999_broken", broken)])
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables
    assert applied(conn) == [name for name, _ in MIGRATIONS]
    conn.close()


@pytest.mark.asyncio
async def test_failed_write_rolls_back_and_node_errors_pass_unchanged(db: Database) -> None:
    def insert_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO peer_cursors(peer, cursor) VALUES ('33', 5)")
        raise InvalidRecord("bad record")

    with pytest.raises(InvalidRecord, match="bad record"):
        await db.write(insert_then_fail)
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM peer_cursors").fetchone()) == (
        0,
    )


@pytest.mark.asyncio
async def test_sqlite_errors_become_storage_errors(db: Database) -> None:
    def insert_then_break(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO peer_cursors(peer, cursor) VALUES ('33', 5)")
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(StorageError, match="no_such_table") as caught:
        await db.write(insert_then_break)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM peer_cursors").fetchone()) == (
        0,
    )
    with pytest.raises(StorageError):
        await db.read(lambda c: c.execute("SELECT nothing FROM nowhere").fetchall())
    # the writer still works afterwards
    await db.write(lambda c: c.execute("INSERT INTO peer_cursors(peer, cursor) VALUES ('33', 1)"))


@pytest.mark.asyncio
async def test_reads_cannot_write(db: Database) -> None:
    with pytest.raises(StorageError):
        await db.read(lambda c: c.execute("INSERT INTO peer_cursors(peer, cursor) VALUES ('x', 1)"))


@pytest.mark.asyncio
async def test_not_open(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.db")
    with pytest.raises(StorageError):
        await db.read(lambda c: 1)
    await db.open()
    await db.close()
    await db.close()  # twice is fine
    with pytest.raises(StorageError):
        await db.write(lambda c: 1)


@pytest.mark.asyncio
async def test_open_fails_cleanly_on_a_directory(tmp_path: Path) -> None:
    before = threading.active_count()
    db = Database(tmp_path)  # a directory, not a file
    with pytest.raises(StorageError):
        await db.open()
    assert not db.is_open
    assert threading.active_count() == before


@pytest.mark.asyncio
async def test_many_databases_in_one_process(tmp_path: Path) -> None:
    def ours() -> int:  # other tests' threads (resolvers, executors) may come and go
        return sum(1 for t in threading.enumerate() if str(tmp_path) in t.name)

    dbs = [Database(tmp_path / f"n{i}" / "node.db") for i in range(30)]
    await asyncio.gather(*(db.open() for db in dbs))
    assert ours() == 30 * 3

    async def work(i: int, db: Database) -> int:
        await db.write(
            lambda c: c.execute("INSERT INTO peer_cursors(peer, cursor) VALUES (?, ?)", (str(i), i))
        )
        return (await db.read(lambda c: c.execute("SELECT cursor FROM peer_cursors").fetchone()))[0]

    assert await asyncio.gather(*(work(i, db) for i, db in enumerate(dbs))) == list(range(30))
    await asyncio.gather(*(db.close() for db in dbs))
    assert ours() == 0


@pytest.mark.asyncio
async def test_writes_are_serialised(db: Database) -> None:
    def bump(conn: sqlite3.Connection) -> int:
        value = conn.execute("SELECT coalesce(max(cursor), 0) FROM peer_cursors").fetchone()[0]
        conn.execute(
            "INSERT INTO peer_cursors(peer, cursor) VALUES (?, ?)", (f"p{value}", value + 1)
        )
        return int(value + 1)

    results = await asyncio.gather(*(db.write(bump) for _ in range(50)))
    assert sorted(results) == list(range(1, 51))


@pytest.mark.asyncio
async def test_a_read_sees_one_snapshot(db: Database) -> None:
    started, release = threading.Event(), threading.Event()

    def two_reads(conn: sqlite3.Connection) -> tuple[int, int]:
        first = conn.execute("SELECT count(*) FROM peer_cursors").fetchone()[0]
        started.set()
        release.wait(5)
        return first, conn.execute("SELECT count(*) FROM peer_cursors").fetchone()[0]

    reading = asyncio.ensure_future(db.read(two_reads))
    await asyncio.to_thread(started.wait, 5)
    await db.write(lambda c: c.execute("INSERT INTO peer_cursors(peer, cursor) VALUES ('a', 1)"))
    release.set()
    assert await reading == (0, 0)


@pytest.mark.asyncio
async def test_index_is_rebuilt_for_a_new_tokenizer_version(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.db")
    await db.open()
    catalogue = CatalogueStore(db)
    await catalogue.apply(
        [make_entry("R1", title="王秀英结婚登记"), make_entry("R2", title="李明")]
    )
    await db.write(
        lambda c: c.execute("UPDATE _meta SET value = 'old' WHERE key = 'fts_tokenizer'")
    )
    # an index built by another tokenizer: here, emptied
    await db.write(
        lambda c: c.execute(f"INSERT INTO {fts.FTS_TABLE}({fts.FTS_TABLE}) VALUES ('delete-all')")
    )
    await db.close()
    await db.open()
    try:
        page = await catalogue.search(SearchQuery(text="秀英"))
        assert [hit.record_id for hit in page.hits] == ["R1"]
        version = await db.read(lambda c: c.execute("SELECT value FROM _meta").fetchone()[0])
        assert version == fts.TOKENIZER_VERSION
        await catalogue.apply([make_entry("R1", version=2, title="改名")])  # deletes old tokens
        assert (await catalogue.search(SearchQuery(text="秀英"))).total == 0
        with pytest.raises(NotFound):
            await catalogue.get("330106", "R9")
    finally:
        await db.close()


@pytest.mark.asyncio
async def test_text_sqlite_cannot_bind_is_invalid_input(db: Database) -> None:
    with pytest.raises(InvalidInput):
        await CatalogueStore(db).apply([make_entry("R1", title="王\ud800")])
    assert await CatalogueStore(db).count() == 0


def test_record_files_are_filled_and_hidden_hashes_scrubbed_on_upgrade(tmp_path: Path) -> None:
    """0010 indexes the content of records already held, and clears the hash and size that
    entries of records which are not open used to carry (the catalogue no longer shows them)."""
    conn = sqlite3.connect(tmp_path / "node.db", isolation_level=None)
    before = [step for step in MIGRATIONS if step[0] < "0010"]
    migrate(conn, before)
    files = '[{"name": "a.pdf", "sha256": "' + "ab" * 32 + '", "size": 3, "media_type": "x"}]'
    conn.execute(
        "INSERT INTO records VALUES ('R1', '330106', 'J001-HY·2015-Y-0001', 'J001', '婚姻登记', "
        f"2015, '永久', 't', 'c', '2015-05-20', 'controlled', '[]', '[]', '{files}', 1, 0)"
    )
    for record_id, access in (("R1", "controlled"), ("R2", "open")):
        conn.execute(
            "INSERT INTO catalogue(holder, record_id, version, archival_code, category, year, "
            "retention, title, creator, access, holder_name, subjects, subject_index, "
            "content_sha256, content_size, deleted) VALUES ('330106', ?, 1, 'x', '婚姻登记', "
            "2015, '永久', 't', 'c', ?, 'h', '[]', '[]', ?, 3, 0)",
            (record_id, access, "cd" * 32),
        )
    assert migrate(conn)[0] == "0010_record_files"  # later steps follow it
    assert conn.execute("SELECT sha256, record_id FROM record_files").fetchall() == [
        ("ab" * 32, "R1")
    ]
    hashes = dict(
        conn.execute("SELECT record_id, content_sha256 || ':' || content_size FROM catalogue")
    )
    assert hashes == {"R1": ":0", "R2": "cd" * 32 + ":3"}
