"""CatalogueStore: version-ordered upserts, change log, children's batches, tombstones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.errors import InvalidInput, InvalidRecord, NotFound
from node.records import SearchQuery
from node.storage.catalogue import CatalogueStore, apply_entries_txn
from node.storage.changelog import ChangeLog
from node.storage.db import Database

from .factories import in_txn, make_entry, memory_db


@pytest.mark.asyncio
async def test_applying_the_same_entry_twice_changes_nothing(db: Database) -> None:
    catalogue, log = CatalogueStore(db), ChangeLog(db)
    entry = make_entry("R1")
    assert await catalogue.apply([entry]) == [1]
    assert await catalogue.apply([entry]) == []
    assert await log.head() == 1
    assert await catalogue.get("330106", "R1") == entry


@pytest.mark.asyncio
async def test_an_older_version_never_overwrites_a_newer(db: Database) -> None:
    catalogue = CatalogueStore(db)
    await catalogue.apply([make_entry("R1", version=3, title="第三版")])
    assert await catalogue.apply([make_entry("R1", version=2, title="第二版")]) == []
    assert (await catalogue.get("330106", "R1")).title == "第三版"
    assert (await catalogue.search(SearchQuery(text="第二版"))).total == 0
    assert await catalogue.apply([make_entry("R1", version=4, title="第四版")]) == [2]
    assert (await catalogue.search(SearchQuery(text="第三版"))).total == 0
    assert (await catalogue.search(SearchQuery(text="第四版"))).total == 1


@pytest.mark.asyncio
async def test_same_record_id_under_two_holders(db: Database) -> None:
    catalogue = CatalogueStore(db)
    await catalogue.apply([make_entry("R1", "330106"), make_entry("R1", "330110")])
    assert await catalogue.count() == 2
    assert await catalogue.count("330110") == 1
    with pytest.raises(NotFound, match="330111/R1"):
        await catalogue.get("330111", "R1")


@pytest.mark.asyncio
async def test_malformed_entries_are_refused(db: Database) -> None:
    with pytest.raises(InvalidRecord):
        await CatalogueStore(db).apply([make_entry("R1", version=0)])
    with pytest.raises(InvalidRecord):
        await CatalogueStore(db).apply_batch("330106", 0, 1, [make_entry("../R1")])


@given(
    versions=st.lists(st.integers(1, 8), min_size=1, max_size=25),
    other=st.lists(st.integers(1, 8), max_size=10),
)
@settings(max_examples=150, deadline=None)
def test_any_order_of_versions_ends_with_the_max(versions: list[int], other: list[int]) -> None:
    conn = memory_db()
    accepted = 0
    best: dict[str, int] = {}
    for record_id, version in [("A", v) for v in versions] + [("B", v) for v in other]:
        seqs = in_txn(conn, apply_entries_txn, [make_entry(record_id, version=version)])
        if version > best.get(record_id, 0):
            best[record_id] = version
            accepted += 1
            assert seqs == [accepted]
        else:
            assert seqs == []
    rows = conn.execute("SELECT record_id, version, title FROM catalogue ORDER BY record_id")
    assert {r[0]: r[1] for r in rows} == best
    seqs = [r[0] for r in conn.execute("SELECT seq FROM changes ORDER BY seq")]
    assert seqs == list(range(1, accepted + 1))
    # the index holds exactly the current titles
    for record_id, version in best.items():
        hits = conn.execute(
            "SELECT rowid FROM catalogue_fts WHERE catalogue_fts MATCH ?",
            (f'"{record_id.lower()}" AND "{version}"',),
        ).fetchall()
        assert len(hits) == 1
    assert conn.execute(
        "SELECT count(*) FROM catalogue_fts WHERE catalogue_fts MATCH '\"婚姻\"'"
    ).fetchone()[0] == len(best)
    conn.close()


@given(st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 5)), min_size=1, max_size=20))
@settings(max_examples=100, deadline=None)
def test_one_batch_with_repeated_keys(pairs: list[tuple[str, int]]) -> None:
    conn = memory_db()
    seqs = in_txn(conn, apply_entries_txn, [make_entry(r, version=v) for r, v in pairs])
    expected: dict[str, int] = {}
    accepted = 0
    for record_id, version in pairs:
        if version > expected.get(record_id, 0):
            expected[record_id] = version
            accepted += 1
    assert seqs == list(range(1, accepted + 1))
    assert dict(conn.execute("SELECT record_id, version FROM catalogue").fetchall()) == expected
    conn.execute("INSERT INTO catalogue_fts(catalogue_fts) VALUES ('integrity-check')")
    conn.close()


@pytest.mark.asyncio
async def test_apply_batch_cursor_rules(db: Database) -> None:
    catalogue, log = CatalogueStore(db), ChangeLog(db)
    child = "330106001"
    first = [make_entry("R1", child), make_entry("R2", child)]
    assert (await catalogue.apply_batch(child, 0, 2, first)).cursor == 2
    assert await log.head() == 2
    # retried batch: nothing applied, stored cursor returned
    assert (await catalogue.apply_batch(child, 0, 2, first)).cursor == 2
    assert await log.head() == 2
    # a gap: the child must resend from 2
    assert (await catalogue.apply_batch(child, 5, 7, [make_entry("R7", child)])).cursor == 2
    with pytest.raises(NotFound):
        await catalogue.get(child, "R7")
    # normal next batch
    assert (await catalogue.apply_batch(child, 2, 4, [make_entry("R3", child)])).cursor == 4
    # overlapping batch: entries already applied are no-ops, the cursor moves on
    overlap = [make_entry("R3", child), make_entry("R4", child)]
    assert (await catalogue.apply_batch(child, 3, 6, overlap)).cursor == 6
    assert await log.head() == 4
    assert await catalogue.child_cursor(child) == 6
    assert await catalogue.child_cursor("330106002") == 0
    with pytest.raises(InvalidInput):
        await catalogue.apply_batch(child, 6, 5, [])


@pytest.mark.asyncio
async def test_a_failing_batch_leaves_cursor_and_entries(db: Database) -> None:
    catalogue = CatalogueStore(db)

    with pytest.raises(InvalidRecord):
        await catalogue.apply_batch(
            "330106001", 0, 2, [make_entry("R1"), make_entry("R2", version=-1)]
        )
    assert await catalogue.child_cursor("330106001") == 0
    assert await catalogue.count() == 0


@pytest.mark.asyncio
async def test_tombstones_are_kept_but_never_found(db: Database) -> None:
    catalogue, log = CatalogueStore(db), ChangeLog(db)
    await catalogue.apply(
        [make_entry("R1", title="王秀英结婚登记"), make_entry("R2", title="王秀英离婚")]
    )
    assert (await catalogue.search(SearchQuery(text="王秀英"))).total == 2
    await catalogue.apply([make_entry("R1", version=2, title="王秀英结婚登记", deleted=True)])
    page = await catalogue.search(SearchQuery(text="王秀英"))
    assert [h.record_id for h in page.hits] == ["R2"] and page.total == 1
    assert (await catalogue.search(SearchQuery(text="王"))).total == 1
    assert (await catalogue.search(SearchQuery())).total == 1  # filters only
    assert await catalogue.count() == 1
    assert (await catalogue.get("330106", "R1")).deleted
    changes = await log.entries_after(0, 10)
    assert [(seq, e.record_id, e.deleted) for seq, e in changes] == [
        (2, "R2", False),
        (3, "R1", True),
    ]
    # a tombstone can be revived by a newer version
    await catalogue.apply([make_entry("R1", version=3, title="王秀英结婚登记（恢复）")])
    assert (await catalogue.search(SearchQuery(text="王秀英"))).total == 2


def test_upserts_never_scan_the_catalogue() -> None:
    """Every statement of an upsert uses an index: bulk applies stay linear."""
    conn = memory_db()
    in_txn(conn, apply_entries_txn, [make_entry(f"R{i}") for i in range(300)])
    conn.execute("ANALYZE")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    batch = [make_entry(f"R{i}", version=2) for i in range(0, 600, 2)]
    in_txn(conn, apply_entries_txn, batch)
    conn.set_trace_callback(None)
    selects = {s for s in statements if s.lstrip().upper().startswith("SELECT")}
    assert selects
    for sql in selects:
        plan = " | ".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "SCAN c" not in plan and "SCAN catalogue" not in plan, (sql[:120], plan)
    conn.close()


@pytest.mark.asyncio
async def test_optimize_index_keeps_results(db: Database) -> None:
    catalogue = CatalogueStore(db)
    for i in range(5):
        await catalogue.apply([make_entry(f"R{i}", title=f"王秀英档案{i}")])
    await catalogue.optimize_index()
    assert (await catalogue.search(SearchQuery(text="秀英档案"))).total == 5
