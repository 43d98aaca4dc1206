"""Bulk catalogue sync: entries/s on one link, and a county's catalogue reaching the province.

    python bench/bench_sync.py [N] [BATCH]   # N entries per county (default 100000), batch size

A real network (province, city, two counties; one host and gRPC listener per node, all in
this one process, so child and parent share one core). Each county's catalogue is filled
with N synthetic entries of its subtree through ``CatalogueStore.apply`` (its own rate is
printed: what a parent pays per entry, full-text index and change log included), then:

1. one link: county 330106 pushes to the city while the city's own outbox is paused, and
   the city's acknowledged cursor is timed until it covers everything (entries/s);
2. through the city: county 330110 pushes with every outbox running, timed until the
   province holds all N of its entries.

Baseline, same entries, same process: plain ``sqlite3`` ``executemany`` into a table of the
same columns in one transaction (about 330,000 rows/s on this kind of machine), and the
store's own apply.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _search_corpus import make_entry

from node.config import SyncSettings
from node.federation.messages import PushBatch
from node.records import CatalogueEntry
from node.simulate import Network, tree
from node.storage import fts
from node.storage.entries import ENTRY_COLUMNS, row_values

CHUNK = 20_000
SUBTREES = {
    "330106": ["330106", "330106001", "330106001001", "330106001002", "330106002"],
    "330110": ["330110", "330110001", "330110001001", "330110002", "330110002002"],
}


def entries(county: str, n: int, seed: int) -> Iterator[list[CatalogueEntry]]:
    """``n`` entries (one in seven controlled) held in ``county``'s subtree, in chunks."""
    rng = random.Random(seed)
    holders = SUBTREES[county]
    for base in range(0, n, CHUNK):
        yield [
            dataclasses.replace(make_entry(rng, i), holder=holders[i % len(holders)])
            for i in range(base, min(n, base + CHUNK))
        ]


def raw_sqlite_rate(path: Path, n: int) -> float:
    """Rows/s of ``executemany`` of the same rows into a plain table, one transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"CREATE TABLE t ({', '.join(ENTRY_COLUMNS)})")
    rows = [row_values(e) for chunk in entries("330106", n, 7) for e in chunk]
    marks = ", ".join("?" for _ in ENTRY_COLUMNS)
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO t VALUES ({marks})", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def load(net: Network, county: str, n: int, seed: int) -> float:
    catalogue = net.node(county).parts.catalogue
    start = time.perf_counter()
    for chunk in entries(county, n, seed):
        for i in range(0, len(chunk), 2_000):
            await catalogue.apply(chunk[i : i + 2_000])
    return n / (time.perf_counter() - start)


async def stages(net: Network, county: str, n: int, batch_size: int) -> dict[str, float]:
    """Microseconds per entry of each step a pushed entry takes, on the county's log."""
    parts = net.node(county).parts
    costs = dict.fromkeys(("read", "encode", "decode", "tokenise"), 0.0)
    cursor, counted = 0, 0
    while counted < n:
        start = time.perf_counter()
        rows = await parts.changelog.entries_after(cursor, batch_size)
        costs["read"] += time.perf_counter() - start
        if not rows:
            break
        batch = PushBatch("x", cursor, rows[-1][0], tuple(e for _, e in rows))
        start = time.perf_counter()
        payload = parts.codec.encode(batch)
        costs["encode"] += time.perf_counter() - start
        start = time.perf_counter()
        decoded = parts.codec.decode(PushBatch, payload)
        costs["decode"] += time.perf_counter() - start
        start = time.perf_counter()
        for e in decoded.entries:
            fts.fts_values(
                e.title, e.creator, e.subjects, e.holder, e.category, e.year, e.access, e.retention
            )
        costs["tokenise"] += time.perf_counter() - start
        cursor, counted = rows[-1][0], counted + len(rows)
    return {stage: seconds * 1e6 / counted for stage, seconds in costs.items()}


async def until(check, poll_s: float = 0.05) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while not await check():
        await asyncio.sleep(poll_s)
    return time.perf_counter() - start


async def main(n: int, batch_size: int) -> None:
    sync = SyncSettings(
        interval_s=3600.0, call_timeout_s=60.0, fetch_timeout_s=60.0, batch_size=batch_size
    )
    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_sqlite_rate(Path(tmp) / "raw.db", min(n, 200_000))
        net = await Network.start(
            Path(tmp) / "net", tree("33", "3301", "330106", "330110"), sync=sync
        )
        try:
            city, province = net.node("3301"), net.node("33")
            for code in ("330106", "330110", "3301"):
                await net.node(code).pusher.stop()
            apply_rate = await load(net, "330106", n, 1)
            await load(net, "330110", n, 2)
            print(f"{n:,} entries per county, batch {batch_size}; loaded")
            per_entry = await stages(net, "330106", min(n, 100_000), batch_size)

            # 1. one link: county -> city, the city's outbox paused
            county = net.node("330106")
            head = await county.parts.changelog.head()
            await county.pusher.start()
            one_link = await until(
                lambda: _acknowledged(city.parts.catalogue.child_cursor("330106"), head)
            )
            assert await city.parts.catalogue.count("330106") == n

            # the city's backlog (that county) to the province, alone: the second link
            await city.pusher.start()
            city_head = await city.parts.changelog.head()
            second_link = await until(
                lambda: _acknowledged(province.parts.catalogue.child_cursor("3301"), city_head)
            )

            # 2. through the city, every outbox running
            other = net.node("330110")
            await other.pusher.start()
            through = await until(
                lambda: _count_is(province.parts.catalogue.count("330110"), n), poll_s=0.2
            )
        finally:
            await net.stop()
    print(f"baseline: sqlite3 executemany, plain table        {raw:>10,.0f} entries/s")
    print(f"baseline: CatalogueStore.apply (FTS + change log)  {apply_rate:>10,.0f} entries/s")
    print(
        f"one link county -> city (signed, gRPC)            {n / one_link:>10,.0f} entries/s"
        f"   {one_link:.1f} s   {n / one_link / raw:.3f}x raw, "
        f"{n / one_link / apply_rate:.2f}x apply   (aim >= 50,000/s)"
    )
    print(
        "per entry, in this process (us): "
        + ", ".join(f"{stage} {us:.1f}" for stage, us in per_entry.items())
        + f", whole apply at the parent {1e6 / apply_rate:.1f}"
    )
    print(f"second link city -> province, alone                {n / second_link:>10,.0f} entries/s")
    print(
        f"county -> city -> province, all outboxes running   {n / through:>10,.0f} entries/s"
        f"   {through:.1f} s for {n:,} entries"
    )


async def _acknowledged(cursor, head: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await cursor >= head)


async def _count_is(count, n: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await count == n)


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
            int(sys.argv[2]) if len(sys.argv) > 2 else 2_000,
        )
    )
