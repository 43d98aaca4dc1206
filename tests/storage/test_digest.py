"""Range digests and compare-and-set repairs of the catalogue (``storage/digest.py``)."""

from __future__ import annotations

import dataclasses

import pytest

from node.digests import EntryDigest, KeyRange, subtree_range
from node.errors import InvalidRecord
from node.records import SearchQuery
from node.storage.catalogue import CatalogueStore
from node.storage.changelog import ChangeLog
from node.storage.db import Database
from node.storage.digest import CatalogueDigests, combine, digest_of, entry_digest
from node.storage.entries import row_values

from .factories import make_entry

COUNTY = "330106"


def test_subtree_range_holds_exactly_the_codes_under_it() -> None:
    whole = subtree_range(COUNTY)
    for inside in (COUNTY, "330106001", "330106001001"):
        assert whole.contains((inside, "R1")) and whole.contains((inside, ""))
    for outside in ("3301", "330107", "330105999", "33010"):
        assert not whole.contains((outside, "R1"))
    assert KeyRange((COUNTY, "R2"), (COUNTY, "R5")).within(whole)
    assert not KeyRange((COUNTY, "R2"), ("330107", "")).within(whole)
    assert not KeyRange((COUNTY, "R5"), (COUNTY, "R5")).within(whole)  # empty


def test_the_digest_covers_version_and_tombstone_and_deep_every_field() -> None:
    entry = make_entry("R1")
    assert digest_of(entry, True) == entry_digest(row_values(entry))
    for deep in (False, True):
        base = digest_of(entry, deep)
        for changed in (
            dataclasses.replace(entry, version=2),
            dataclasses.replace(entry, deleted=True),
            dataclasses.replace(entry, record_id="R2"),
        ):
            assert digest_of(changed, deep) != base
        assert digest_of(dataclasses.replace(entry), deep) == base
    for same_version in (
        dataclasses.replace(entry, title=entry.title + "。"),
        dataclasses.replace(entry, holder_name="别的馆"),
    ):
        assert digest_of(same_version, False) == digest_of(entry, False)
        assert digest_of(same_version, True) != digest_of(entry, True)


@pytest.mark.asyncio
async def test_stored_rows_digest_as_their_entries_do(db: Database) -> None:
    entries = [make_entry("R1"), make_entry("R2", version=3, deleted=True)]
    await CatalogueStore(db).apply(entries)
    for deep in (False, True):
        pairs = await CatalogueDigests(db).scan(subtree_range(COUNTY), deep=deep)
        assert [d for _, d in pairs] == [digest_of(e, deep) for e in entries]


@pytest.mark.asyncio
async def test_views_cut_a_big_range_into_parts_that_add_up(db: Database) -> None:
    store, digests = CatalogueStore(db), CatalogueDigests(db)
    await store.apply([make_entry(f"R{n:04d}") for n in range(1, 301)])
    whole = subtree_range(COUNTY)
    pairs = await digests.scan(whole)
    ((summary, view),) = await digests.views([whole], leaf=64, fanout=4096)
    assert (summary.count, summary.digest) == (300, combine(d for _, d in pairs))
    assert not view.listed and len(view.splits) == 4 and len(view.parts) == 5
    subs = view.sub_ranges()
    assert subs[0].lo == whole.lo and subs[-1].hi == whole.hi
    for sub, (count, digest) in zip(subs, view.parts, strict=True):
        inside = [(k, d) for k, d in pairs if sub.contains(k)]
        assert 0 < count <= 64 and (count, digest) == (len(inside), combine(d for _, d in inside))
    ((_, small),) = await digests.views([subs[0]], leaf=64, fanout=4096)
    assert small.listed and [e.key for e in small.entries] == [k for k, _ in pairs[:60]]


@pytest.mark.asyncio
async def test_repair_is_compare_and_set_and_keeps_the_index_and_log(db: Database) -> None:
    store, digests, log = CatalogueStore(db), CatalogueDigests(db), ChangeLog(db)
    r1, r2, r3 = make_entry("R1", version=5), make_entry("R2"), make_entry("R3")
    await store.apply([r1, r2, r3])
    head = await log.head()
    stale = make_entry("R1", version=3, title="婚姻登记档案 更正")  # lower than the stored 5
    new = make_entry("R4")
    counts = await digests.repair(
        [
            (stale, digest_of(r1, False)),  # replaced although its version is lower
            (new, b""),  # added
            (make_entry("R2", version=2), b"\x00" * 16),  # described wrongly: skipped
            (r3, digest_of(r3, False)),  # already equal
        ],
        [
            EntryDigest(COUNTY, "R3", digest_of(r3, False)),
            EntryDigest(COUNTY, "R9", b"\x01" * 16),
        ],
    )
    # R3 was both "already equal" and named for removal as compared: removed
    assert dataclasses.astuple(counts) == (2, 1, 1, 2)
    assert await store.get(COUNTY, "R1") == stale
    assert await store.get(COUNTY, "R4") == new
    assert (await store.get(COUNTY, "R2")).version == 1
    assert [k for k, _ in await digests.scan(subtree_range(COUNTY))] == [
        (COUNTY, "R1"), (COUNTY, "R2"), (COUNTY, "R4"),
    ]  # fmt: skip
    assert await log.head() == head + 2  # written entries travel up; removals do not
    page = await store.search(SearchQuery(text="更正", scope=COUNTY))
    assert [e.record_id for e in page.hits] == ["R1"]
    page = await store.search(SearchQuery(text="婚姻登记", scope=COUNTY, limit=50))
    assert sorted(e.record_id for e in page.hits) == ["R1", "R2", "R4"]


@pytest.mark.asyncio
async def test_a_malformed_repair_entry_writes_nothing(db: Database) -> None:
    store, digests = CatalogueStore(db), CatalogueDigests(db)
    with pytest.raises(InvalidRecord):
        await digests.repair([(make_entry("R1"), b""), (make_entry("R2", version=0), b"")], [])
    assert await store.count(COUNTY) == 0
