"""RecordStore: put/get, versions only go up, the catalogue and change log follow in one txn."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node.errors import InvalidRecord, NotFound
from node.records import Access, ContentFile, SearchQuery, redacted_title
from node.storage.catalogue import CatalogueStore
from node.storage.changelog import ChangeLog
from node.storage.db import Database
from node.storage.records import RecordStore

from .factories import make_record

SHA = "ab" * 32


@pytest.mark.asyncio
async def test_put_and_get_round_trip(db: Database) -> None:
    records = RecordStore(db)
    record = make_record(
        1,
        subject_index=("k1", "k2"),
        files=(ContentFile("扫描件.pdf", SHA, 1234, "application/pdf"),),
    )
    assert await records.put([record], "西湖区档案馆") == [1]
    assert await records.get("R1") == record
    assert await records.count() == 1
    entry = await CatalogueStore(db).get("330106", "R1")
    assert (entry.title, entry.holder_name, entry.content_sha256, entry.content_size) == (
        record.title, "西湖区档案馆", SHA, 1234,
    )  # fmt: skip


@pytest.mark.asyncio
async def test_get_unknown_record(db: Database) -> None:
    with pytest.raises(NotFound, match="没有档案 R404"):
        await RecordStore(db).get("R404")


@pytest.mark.asyncio
async def test_versions_only_go_up(db: Database) -> None:
    records = RecordStore(db)
    await records.put([make_record(1, version=3)], "")  # a new id may start above 1
    for stale in (1, 3):
        with pytest.raises(InvalidRecord, match="版本"):
            await records.put([make_record(2), make_record(1, version=stale, title="旧")], "")
    # the refused call stored nothing, not even its valid record R2
    with pytest.raises(NotFound):
        await records.get("R2")
    assert await ChangeLog(db).head() == 1
    assert await records.put([make_record(1, version=4, title="新题名")], "") == [2]
    assert (await records.get("R1")).title == "新题名"
    assert (await CatalogueStore(db).get("330106", "R1")).version == 4


@pytest.mark.asyncio
async def test_two_versions_in_one_call(db: Database) -> None:
    records = RecordStore(db)
    first = make_record(1)
    assert await records.put([first, first.next_version(title="第二版")], "") == [1, 2]
    assert (await records.get("R1")).version == 2
    with pytest.raises(InvalidRecord):
        await records.put([make_record(5, version=2), make_record(5, version=2)], "")


@pytest.mark.asyncio
async def test_access_levels_in_the_catalogue(db: Database) -> None:
    records, catalogue = RecordStore(db), CatalogueStore(db)
    closed = make_record(1, access=Access.CLOSED)
    controlled = make_record(2, access=Access.CONTROLLED)
    assert await records.put([closed, controlled], "") == [1]  # a closed v1 is not shared
    with pytest.raises(NotFound):
        await catalogue.get("330106", "R1")
    assert (await catalogue.get("330106", "R2")).title == redacted_title(controlled)
    assert (await catalogue.search(SearchQuery(text="结婚"))).total == 0  # title redacted
    # nor are its subjects' names: a name must not lead to a controlled record
    assert (await catalogue.search(SearchQuery(text="王秀英"))).total == 0

    shared = make_record(3)
    await records.put([shared], "")
    await records.put([shared.next_version(access=Access.CLOSED)], "")  # leaves the catalogues
    tombstone = await catalogue.get("330106", "R3")
    assert tombstone.deleted and tombstone.version == 2
    assert await catalogue.count() == 1
    assert (await ChangeLog(db).entries_after(0, 10))[-1][1] == tombstone


@pytest.mark.asyncio
async def test_bulk_ingest_is_one_transaction(db: Database) -> None:
    records = RecordStore(db)
    batch = [make_record(i, subjects=(f"王{i % 97}英",)) for i in range(1, 20_001)]
    seqs = await records.put(batch, "西湖区档案馆")  # its speed: bench/bench_search.py
    assert seqs == list(range(1, 20_001))
    assert await records.count() == 20_000
    page = await CatalogueStore(db).search(SearchQuery(text="王42英", limit=5))
    assert page.total == len([i for i in range(1, 20_001) if i % 97 == 42])
    updated = [replace(r, version=2) for r in batch[:1000]]
    assert len(await records.put(updated, "")) == 1000
