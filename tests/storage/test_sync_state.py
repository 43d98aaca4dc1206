"""Sync state on disk: batch acknowledgements by id, per-link backoff, change times."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from node.errors import InvalidInput, StorageError
from node.records import SearchQuery
from node.storage.catalogue import KEEP_BATCH_ACKS, CatalogueStore
from node.storage.changelog import ChangeLog
from node.storage.db import Database
from node.storage.peers import PeerStateStore

from .factories import make_entry

CHILD = "330106001"


@pytest.mark.asyncio
async def test_a_batch_id_gets_its_stored_ack_after_a_reopen(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.db")
    await db.open()
    catalogue = CatalogueStore(db)
    entries = [make_entry("R1", CHILD), make_entry("R2", CHILD)]
    first = await catalogue.apply_batch(CHILD, 0, 2, entries, "b1")
    assert (first.cursor, first.applied, first.replayed) == (2, 2, False)
    await db.close()
    db = Database(tmp_path / "node.db")
    await db.open()
    catalogue = CatalogueStore(db)
    again = await catalogue.apply_batch(CHILD, 0, 2, entries, "b1")
    assert (again.cursor, again.applied, again.replayed) == (2, 2, True)
    assert await ChangeLog(db).head() == 2
    # the same id from another child is another batch
    other = await catalogue.apply_batch("330106002", 0, 1, [make_entry("R9", "330106002")], "b1")
    assert (other.applied, other.replayed) == (1, False)
    with pytest.raises(InvalidInput):
        await catalogue.apply_batch(CHILD, 2, 3, [], "x" * 200)
    await db.close()


@pytest.mark.asyncio
async def test_only_the_last_acks_are_kept(db: Database) -> None:
    catalogue = CatalogueStore(db)
    for seq in range(KEEP_BATCH_ACKS + 10):
        entry = make_entry(f"R{seq}", CHILD)
        await catalogue.apply_batch(CHILD, seq, seq + 1, [entry], f"b{seq}")
    kept = await db.read(
        lambda conn: conn.execute("SELECT count(*) FROM sync_batches").fetchone()[0]
    )
    assert kept == KEEP_BATCH_ACKS
    # a forgotten id falls back to the cursor rule: nothing applied, the cursor returned
    old = await catalogue.apply_batch(CHILD, 0, 1, [make_entry("R0", CHILD)], "b0")
    assert (old.cursor, old.applied, old.replayed) == (KEEP_BATCH_ACKS + 10, 0, False)
    links = await catalogue.child_links()
    assert [(link.child, link.cursor) for link in links] == [(CHILD, KEEP_BATCH_ACKS + 10)]


@pytest.mark.asyncio
async def test_backoff_state_is_kept_and_cleared(db: Database) -> None:
    peers = PeerStateStore(db)
    fresh = await peers.get("3301")
    assert (fresh.cursor, fresh.failures, fresh.next_attempt_at) == (0, 0, None)
    later = time.time() + 60
    await peers.record_failure("3301", "无法连接", 3, later)
    state = await peers.get("3301")
    assert (state.failures, state.next_attempt_at, state.last_error) == (3, later, "无法连接")
    assert state.last_error_at is not None and state.last_success_at is None
    await peers.set_cursor("3301", 7)
    await peers.clear_backoff("3301")
    state = await peers.get("3301")
    assert (state.cursor, state.failures, state.next_attempt_at) == (7, 0, None)
    assert state.last_success_at is not None
    assert state.last_error == "无法连接"  # still shown, with its time, after recovery


@pytest.mark.asyncio
async def test_backlog_gives_the_age_of_the_first_unacknowledged_change(db: Database) -> None:
    catalogue, log = CatalogueStore(db), ChangeLog(db)
    assert await log.backlog(0) == (0, None)
    before = time.time()
    await catalogue.apply([make_entry("R1"), make_entry("R2")])
    head, at = await log.backlog(0)
    assert head == 2 and at is not None and before <= at <= time.time()
    assert await log.backlog(2) == (2, None)


@pytest.mark.asyncio
async def test_a_cursor_moved_back_makes_the_stored_ack_stale(db: Database) -> None:
    catalogue = CatalogueStore(db)
    batch = [make_entry("R1", CHILD), make_entry("R2", CHILD)]
    assert (await catalogue.apply_batch(CHILD, 0, 2, batch, "b1")).applied == 2
    # a repair moves the child's cursor back to ask for everything again
    await db.write(lambda conn: conn.execute("UPDATE child_cursors SET cursor = 0"))
    again = await catalogue.apply_batch(CHILD, 0, 2, batch, "b1")
    # applied through the cursor rule (the entries are there already: no change), and the
    # fresh acknowledgement replaces the stale one
    assert (again.cursor, again.applied, again.replayed) == (2, 0, False)
    assert await catalogue.child_cursor(CHILD) == 2
    replay = await catalogue.apply_batch(CHILD, 0, 2, batch, "b1")
    assert (replay.applied, replay.replayed) == (0, True)


@pytest.mark.asyncio
async def test_a_batch_whose_ack_cannot_be_stored_leaves_nothing_applied(db: Database) -> None:
    # The acknowledgement is the last write of a push's transaction, after the entries, their
    # change-log rows and the cursor: if it fails, none of them may stay, or the child (told
    # nothing) resends a batch whose entries were already logged, or a crash loses the ack.
    catalogue, log = CatalogueStore(db), ChangeLog(db)
    await db.write(
        lambda conn: conn.execute(
            "CREATE TRIGGER lose_ack BEFORE INSERT ON sync_batches "
            "BEGIN SELECT RAISE(ABORT, 'disk full while storing the ack'); END"
        )
    )
    entries = [make_entry("R1", CHILD, title="王秀英结婚登记"), make_entry("R2", CHILD)]
    with pytest.raises(StorageError, match="disk full"):
        await catalogue.apply_batch(CHILD, 0, 2, entries, "b1")
    assert await catalogue.count() == 0
    assert await log.head() == 0
    assert await catalogue.child_cursor(CHILD) == 0
    assert await catalogue.child_links() == []
    assert (await catalogue.search(SearchQuery(text="王秀英"))).total == 0  # nor in the index
    # once the ack can be stored, the resent batch is applied, once
    await db.write(lambda conn: conn.execute("DROP TRIGGER lose_ack"))
    done = await catalogue.apply_batch(CHILD, 0, 2, entries, "b1")
    assert (done.cursor, done.applied, done.replayed) == (2, 2, False)
    assert await log.head() == 2
