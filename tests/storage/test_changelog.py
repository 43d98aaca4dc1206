"""ChangeLog: gap-free head, entries after a cursor as current rows, index use."""

from __future__ import annotations

import pytest

from node.errors import InvalidInput
from node.storage.catalogue import CatalogueStore, apply_entries_txn, remove_entries_txn
from node.storage.changelog import ChangeLog
from node.storage.db import Database

from .factories import in_txn, make_entry, memory_db


@pytest.mark.asyncio
async def test_empty_log(db: Database) -> None:
    log = ChangeLog(db)
    assert await log.head() == 0
    assert await log.entries_after(0, 100) == []
    with pytest.raises(InvalidInput):
        await log.entries_after(0, 0)


@pytest.mark.asyncio
async def test_entries_after_returns_current_rows_once_at_their_last_seq(db: Database) -> None:
    catalogue, log = CatalogueStore(db), ChangeLog(db)
    await catalogue.apply([make_entry("R1"), make_entry("R2")])  # seqs 1, 2
    await catalogue.apply([make_entry("R1", version=2)])  # seq 3
    await catalogue.apply([make_entry("R3")])  # seq 4
    assert await log.head() == 4
    rows = await log.entries_after(0, 10)
    assert [(seq, e.record_id, e.version) for seq, e in rows] == [
        (2, "R2", 1),
        (3, "R1", 2),
        (4, "R3", 1),
    ]
    # a window that ends before R1's second change still sends R1's current version
    rows = await log.entries_after(0, 2)
    assert [(seq, e.record_id, e.version) for seq, e in rows] == [(1, "R1", 2), (2, "R2", 1)]
    rows = await log.entries_after(2, 1)
    assert [(seq, e.record_id) for seq, e in rows] == [(3, "R1")]
    assert await log.entries_after(4, 10) == []


@pytest.mark.asyncio
async def test_a_batch_passes_changes_whose_entry_is_gone(db: Database) -> None:
    """Anti-entropy may remove a row with changes still unpushed: the batch's window ends past
    them (so the parent's cursor reaches the head) with only the entries that exist."""
    catalogue, log = CatalogueStore(db), ChangeLog(db)
    await catalogue.apply([make_entry("R1"), make_entry("R2"), make_entry("R3")])  # 1, 2, 3
    await db.write(lambda conn: remove_entries_txn(conn, [("330106", "R3")]))
    assert await log.batch_after(0, 10) == (3, [make_entry("R1"), make_entry("R2")])
    assert await log.batch_after(0, 1) == (1, [make_entry("R1")])
    assert await log.batch_after(2, 10) == (3, [])  # nothing to send, but the window moves
    assert await log.batch_after(3, 10) == (3, [])  # at the head: no batch
    with pytest.raises(InvalidInput):
        await log.batch_after(0, 0)


def test_entries_after_uses_indexes_not_scans() -> None:
    conn = memory_db()
    in_txn(conn, apply_entries_txn, [make_entry(f"R{i}") for i in range(200)])
    conn.execute("ANALYZE")
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT ch.seq, c.title FROM changes ch "
        "JOIN catalogue c ON c.holder = ch.holder AND c.record_id = ch.record_id "
        "WHERE ch.seq > ? ORDER BY ch.seq LIMIT ?",
        (10, 5),
    ).fetchall()
    details = " | ".join(row[-1] for row in plan)
    assert "SEARCH ch USING INTEGER PRIMARY KEY" in details, details
    assert "SEARCH c USING INDEX" in details, details
    assert "SCAN" not in details, details
    conn.close()
