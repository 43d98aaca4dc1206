"""Anti-entropy between real nodes (one process each, gRPC on loopback, SQLite files).

The city's copy of a county's subtree is damaged directly in the city's SQLite file; one
repair run makes it equal, row for row, to the county's own catalogue, sending only the
entries that differ. An intact pair sends nothing; a child cannot compare or repair outside
its subtree, nor send oversized requests.
"""

from __future__ import annotations

import dataclasses
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.digests import EntryDigest, KeyRange, RangeDigest, subtree_range
from node.errors import AccessDenied, InvalidInput, NodeError, NotFound
from node.federation import antientropy
from node.federation.antientropy import MAX_RANGES, MAX_REPAIR
from node.federation.messages import COMPARE, REPAIR, CompareRequest, RepairRequest
from node.host import Host
from node.records import SearchQuery
from node.storage.digest import DIGEST_BYTES, digest_of
from node.storage.entries import ENTRY_COLUMNS

from .network import Network, converged, eventually, ingest, make_record, tree

COUNTY, CITY = "330106", "3301"


def rows(db: Path, scope: str) -> list[tuple[object, ...]]:
    """Every catalogue row held under ``scope``, all columns but the local id, by key."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM catalogue WHERE holder LIKE ? "
            "ORDER BY holder, record_id",
            (scope + "%",),
        ).fetchall()


@pytest_asyncio.fixture
async def net(tmp_path: Path) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path, tree("33", CITY, COUNTY, "330106001"))
    county = network.node(COUNTY)
    items = [make_record(COUNTY, i, title=f"王秀英、李建国结婚登记{i}") for i in range(1, 301)]
    await ingest(network.service(COUNTY), items)
    await ingest(network.service("330106001"), [make_record("330106001", 1, title="学籍档案")])
    # some records at version 2, and a tombstone, so stale versions and tombstones exist
    records = [record for record, _ in items]
    await county.parts.records.put(
        [r.next_version(title=r.title + "（更正）") for r in records[:20]]
        + [r.next_version(deleted=True) for r in records[20:22]],
        county.parts.name,
    )
    county.pusher.wake()

    async def settled() -> bool:
        return all(
            [await converged(h) for h in {id(h): h for h in network.hosts.values()}.values()]
        ) and (
            await network.node(CITY).parts.catalogue.count(COUNTY)
            == await county.parts.catalogue.count(COUNTY)
            == await network.node("33").parts.catalogue.count(COUNTY)
        )

    await eventually(settled)
    yield network
    await network.stop()


def damage(db: Path) -> int:
    """Damage the city's copy of the county's subtree; return how many of the county's
    entries now differ there (besides one row added that the county never had)."""
    with sqlite3.connect(db) as conn:
        keys = [
            row[0]
            for row in conn.execute(
                "SELECT record_id FROM catalogue WHERE holder = ? ORDER BY record_id", (COUNTY,)
            )
        ]
        lost = keys[100:105]
        conn.executemany(
            "DELETE FROM catalogue WHERE holder = ? AND record_id = ?",
            [(COUNTY, k) for k in lost],
        )
        versioned = [
            row[0]
            for row in conn.execute(
                "SELECT record_id FROM catalogue WHERE holder = ? AND version = 2 AND deleted = 0 "
                "ORDER BY record_id LIMIT 4",
                (COUNTY,),
            )
        ]
        conn.executemany(  # stale: back to the first version
            "UPDATE catalogue SET version = 1 WHERE holder = ? AND record_id = ?",
            [(COUNTY, k) for k in versioned[:3]],
        )
        conn.execute(  # a version from nowhere, newer than the child's
            "UPDATE catalogue SET version = 9 WHERE holder = ? AND record_id = ?",
            (COUNTY, versioned[3]),
        )
        tombstone = conn.execute(
            "SELECT record_id FROM catalogue WHERE holder = ? AND deleted = 1 LIMIT 1", (COUNTY,)
        ).fetchone()[0]
        conn.execute(
            "UPDATE catalogue SET deleted = 0 WHERE holder = ? AND record_id = ?",
            (COUNTY, tombstone),
        )
        conn.execute(
            "UPDATE catalogue SET deleted = 1 WHERE holder = ? AND record_id = ?",
            (COUNTY, keys[200]),
        )
        columns = ", ".join(ENTRY_COLUMNS)
        conn.execute(  # a row the county never had, in the township's part of the range
            f"INSERT INTO catalogue({columns}) SELECT "
            + columns.replace("record_id", "'GHOST-0001'")
            + " FROM catalogue WHERE holder = '330106001' LIMIT 1"
        )
    return len(lost) + 3 + 1 + 2


@pytest.mark.asyncio
@pytest.mark.parametrize("snapshot", [True, False], ids=["in-memory", "paged"])
async def test_repair_makes_the_parents_copy_equal_sending_only_what_differs(
    net: Network, tmp_path: Path, snapshot: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not snapshot:  # as for a subtree too big to keep its digests in memory
        monkeypatch.setattr(antientropy, "SNAPSHOT_ENTRIES", 0)
        monkeypatch.setattr(antientropy, "MAX_REPAIR", 3)
    city_db, county_db = tmp_path / CITY / "node.db", tmp_path / COUNTY / "node.db"
    assert rows(city_db, COUNTY) == rows(county_db, COUNTY)
    differing = damage(city_db)
    assert rows(city_db, COUNTY) != rows(county_db, COUNTY)

    report = await net.service(COUNTY).sync.repair_catalogue(actor=console_actor("test"))

    assert rows(city_db, COUNTY) == rows(county_db, COUNTY)
    assert report.sent == differing  # every differing entry the county holds, no other
    assert report.removals == 1  # the row it never had
    assert (report.counts.written, report.counts.removed) == (differing, 1)
    assert report.counts.skipped == report.counts.unchanged == 0
    assert report.rounds >= 2 and not report.intact
    # the repaired city is intact with the province, whose copy was never damaged
    assert (await net.service(CITY).sync.repair_catalogue(actor=console_actor("test"))).intact
    assert rows(tmp_path / "33" / "node.db", COUNTY) == rows(county_db, COUNTY)
    # a field changed without a new version: only a deep comparison finds it
    with sqlite3.connect(city_db) as conn:
        conn.execute(
            "UPDATE catalogue SET title = '篡改' WHERE holder = ? AND id % 50 = 7", (COUNTY,)
        )
        edited = conn.execute("SELECT changes()").fetchone()[0]
    assert (
        edited > 0
        and (await net.service(COUNTY).sync.repair_catalogue(actor=console_actor("test"))).intact
    )
    deep = await net.service(COUNTY).sync.repair_catalogue(deep=True, actor=console_actor("test"))
    assert deep.deep and (deep.sent, deep.removals, deep.counts.written) == (edited, 0, edited)
    assert rows(city_db, COUNTY) == rows(county_db, COUNTY)


@pytest.mark.asyncio
async def test_an_intact_pair_sends_nothing(net: Network) -> None:
    report = await net.service(COUNTY).sync.repair_catalogue(actor=console_actor("test"))
    assert report.intact and (report.ranges, report.rounds) == (1, 1)
    assert report.sent == report.removals == 0
    assert dataclasses.astuple(report.counts) == (0, 0, 0, 0)
    # every node with a parent has the scheduled job, jittered; the province has none
    host = net.hosts[COUNTY]
    job = host.scheduler.get_job(f"anti-entropy:{COUNTY}")
    interval = host.settings.sync.anti_entropy_interval_s
    assert job is not None and job.trigger.interval.total_seconds() == interval
    assert job.trigger.jitter == interval / 10
    assert net.hosts["33"].scheduler.get_job("anti-entropy:33") is None
    # a township's repair compares its own subtree only, and the scheduled run does the same
    scheduled = await net.node("330106001").repairer.run_scheduled()
    assert scheduled is not None and scheduled.intact
    # while changes are queued for the parent, the scheduled run leaves them to the push
    county = net.node(COUNTY)
    await county.pusher.stop()
    await ingest(net.service(COUNTY), [make_record(COUNTY, 999, title="新进馆档案")])
    assert await county.repairer.run_scheduled() is None
    assert not (await county.repairer.repair()).intact  # on demand it runs, and repairs


@pytest.mark.asyncio
async def test_a_child_cannot_compare_or_repair_outside_its_subtree(
    net: Network, tmp_path: Path
) -> None:
    county = net.node(COUNTY)
    client, codec = county.repairer.client, county.parts.codec
    before = rows(tmp_path / CITY / "node.db", "")

    async def refused(method: str, destination: str, payload: bytes) -> NodeError:
        with pytest.raises(NodeError) as caught:
            await client.call(method, destination, payload)
        return caught.value

    def compare(*ranges: KeyRange) -> bytes:
        return codec.encode(
            CompareRequest(tuple(RangeDigest(r, 0, bytes(DIGEST_BYTES)) for r in ranges))
        )

    sibling = subtree_range("330108")
    error = await refused(COMPARE, CITY, compare(sibling))
    assert isinstance(error, AccessDenied) and "own subtree" in str(error)
    wider = KeyRange((COUNTY, ""), ("330107", ""))  # starts inside, ends in a sibling's
    assert isinstance(await refused(COMPARE, CITY, compare(wider)), AccessDenied)
    city_entry = (await net.node(CITY).parts.catalogue.search(SearchQuery(scope=CITY))).hits[0]
    city_entry = dataclasses.replace(city_entry, holder=CITY, version=99)
    error = await refused(REPAIR, CITY, codec.encode(RepairRequest(((city_entry, b""),), ())))
    assert isinstance(error, AccessDenied) and "own subtree" in str(error)
    # only a direct child may compare with a node: the county is the province's grandchild
    error = await refused(COMPARE, "33", compare(subtree_range(COUNTY)))
    assert isinstance(error, AccessDenied) and "not a child" in str(error)
    # overlapping ranges (the same subtree asked twice) and oversized requests
    whole = subtree_range(COUNTY)
    assert isinstance(await refused(COMPARE, CITY, compare(whole, whole)), InvalidInput)
    many = [KeyRange((COUNTY, f"A{i:05d}"), (COUNTY, f"A{i:05d}-")) for i in range(MAX_RANGES + 1)]
    assert isinstance(await refused(COMPARE, CITY, compare(*many)), InvalidInput)
    own = dataclasses.replace(city_entry, holder=COUNTY)
    flood = tuple((dataclasses.replace(own, record_id=f"F{i}"), b"") for i in range(MAX_REPAIR + 1))
    assert isinstance(
        await refused(REPAIR, CITY, codec.encode(RepairRequest(flood, ()))), InvalidInput
    )
    assert rows(tmp_path / CITY / "node.db", "") == before


@pytest.mark.asyncio
async def test_a_key_named_for_removal_that_arrived_meanwhile_is_sent_instead(
    net: Network,
) -> None:
    """The child compared without a key, then received it (and pushed it up) before its
    repair went out: it must not ask the parent to remove what it now holds."""
    county, city = net.node(COUNTY), net.node(CITY)
    entry = (await county.parts.catalogue.search(SearchQuery(scope=COUNTY, limit=1))).hits[0]
    held = await city.parts.catalogue.get(entry.holder, entry.record_id)
    report = antientropy.RepairReport(CITY)
    repairs = antientropy._RepairBuffer(county.repairer, report)
    repairs.removals.append(EntryDigest(entry.holder, entry.record_id, digest_of(held, False)))
    await repairs.flush()
    assert (report.sent, report.removals, report.counts.unchanged) == (1, 0, 1)
    assert await city.parts.catalogue.get(entry.holder, entry.record_id) == held


def keyed(db: Path, columns: tuple[str, ...]) -> dict[tuple[str, str], tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            f"SELECT holder, record_id, {', '.join(columns)} FROM catalogue WHERE holder LIKE ?",
            (COUNTY + "%",),
        )
        return {(row[0], row[1]): row[2:] for row in rows}


@pytest.mark.asyncio
async def test_random_damage_is_repaired_exactly(net: Network, tmp_path: Path) -> None:
    """Seeded random damage of every kind, repeatedly: each run sends exactly the entries
    that differ (counted independently, from both files) and leaves the copies equal."""
    city_db, county_db = tmp_path / CITY / "node.db", tmp_path / COUNTY / "node.db"
    county = net.service(COUNTY)
    for seed in range(8):
        rng = random.Random(seed)
        deep = seed % 2 == 1
        with sqlite3.connect(city_db) as conn:
            keys = conn.execute(
                "SELECT holder, record_id FROM catalogue WHERE holder LIKE ?", (COUNTY + "%",)
            ).fetchall()
            for holder, record_id in rng.sample(keys, rng.randint(1, 25)):
                where = (holder, record_id)
                kind = rng.choice(["delete", "version", "tombstone", "ghost"] + ["title"] * deep)
                if kind == "delete":
                    conn.execute("DELETE FROM catalogue WHERE holder = ? AND record_id = ?", where)
                elif kind == "version":
                    conn.execute(
                        "UPDATE catalogue SET version = max(1, version + ?) "
                        "WHERE holder = ? AND record_id = ?",
                        (rng.choice([-1, 1, 5]), *where),
                    )
                elif kind == "tombstone":
                    conn.execute(
                        "UPDATE catalogue SET deleted = 1 - deleted "
                        "WHERE holder = ? AND record_id = ?",
                        where,
                    )
                elif kind == "title":
                    conn.execute(
                        "UPDATE catalogue SET title = title || '!' "
                        "WHERE holder = ? AND record_id = ?",
                        where,
                    )
                else:
                    columns = ", ".join(ENTRY_COLUMNS)
                    ghost = columns.replace("record_id", f"'G{seed}-' || record_id")
                    conn.execute(
                        f"INSERT OR IGNORE INTO catalogue({columns}) SELECT {ghost} "
                        "FROM catalogue WHERE holder = ? AND record_id = ?",
                        where,
                    )
        compared = ENTRY_COLUMNS[2:] if deep else ("version", "deleted")
        theirs, mine = keyed(city_db, compared), keyed(county_db, compared)
        differing = sum(1 for key, row in mine.items() if theirs.get(key) != row)
        extra = len(set(theirs) - set(mine))

        report = await county.sync.repair_catalogue(deep=deep, actor=console_actor("test"))

        assert (report.sent, report.removals) == (differing, extra), (seed, report)
        assert rows(city_db, COUNTY) == rows(county_db, COUNTY), seed


@pytest.mark.asyncio
async def test_a_removed_entry_with_an_unpushed_change_leaves_no_lag(net: Network) -> None:
    """The city logged an entry the county never had and could not push it yet (its parent
    was down); anti-entropy removes the entry. Once the province is back, the city's push
    still passes that change: its link ends with nothing pending, not with lag for ever."""
    city = net.node(CITY)
    await net.hosts["33"].stop()
    held = (await city.parts.catalogue.search(SearchQuery(scope=COUNTY, limit=1))).hits[0]
    entry = await city.parts.catalogue.get(held.holder, held.record_id)
    await city.parts.catalogue.apply([dataclasses.replace(entry, record_id="NEVER-HELD")])
    report = await net.service(COUNTY).sync.repair_catalogue(actor=console_actor("test"))
    assert report.removals == 1
    with pytest.raises(NotFound):
        await city.parts.catalogue.get(COUNTY, "NEVER-HELD")

    province = Host(net.hosts["33"].settings)
    await province.start()
    net.hosts["33"] = province
    await net.service(CITY).sync.retry_sync(actor=console_actor("test"))

    async def caught_up() -> bool:
        link = (await net.service(CITY).sync.sync_status()).links[0]
        return link.lag == 0 and link.cursor == await city.parts.changelog.head()

    await eventually(caught_up)
    with pytest.raises(NotFound):
        await province.nodes["33"].parts.catalogue.get(COUNTY, "NEVER-HELD")
