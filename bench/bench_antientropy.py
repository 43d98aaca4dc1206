"""Anti-entropy over a 100,000-entry subtree: an intact compare, and a repair of 1 % damage.

    python bench/bench_antientropy.py [entries] [repetitions]

A county (child) and its city (parent), each its own host with real gRPC on loopback, both
holding the same county-subtree catalogue (loaded directly, pushers stopped so nothing else
runs). Both digest kinds: over key, version and tombstone flag (from the covering index, the
scheduled default) and deep (every field). Baselines in the same process: digesting the
whole subtree locally on one side, and re-sending every entry to the parent through the
same RPC (what a repair without digests would cost).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import summary

from node.digests import subtree_range
from node.federation.antientropy import MAX_REPAIR
from node.federation.messages import REPAIR, RepairRequest
from node.records import CATEGORIES, Access, CatalogueEntry, Retention
from node.simulate import Network, tree

COUNTY, CITY = "330106", "3301"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英"


def entries(n: int) -> list[CatalogueEntry]:
    rng = random.Random(7)
    holders = [COUNTY] + [f"{COUNTY}{t:03d}" for t in range(1, 21)]
    out = []
    for i in range(n):
        category = rng.choice(list(CATEGORIES))
        year = rng.randint(1960, 2023)
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        out.append(
            CatalogueEntry(
                holder=holders[i % len(holders)],
                record_id=f"{CATEGORIES[category]}-{year}-Y-{i:07d}",
                version=1,
                archival_code=f"J001-{CATEGORIES[category]}·{year}-Y-{i % 10000:04d}",
                category=category,
                year=year,
                retention=Retention.PERMANENT,
                title=f"{person}{category}档案",
                creator="西湖区民政局",
                access=Access.OPEN,
                holder_name="西湖区档案馆",
                subjects=(person,),
            )
        )
    return out


def damage(db: Path, fraction: float, seed: int) -> tuple[int, int]:
    """Damage ``fraction`` of the parent's rows: 40 % deleted, 40 % stale or bogus versions,
    20 % rows the child never had. Returns (rows the child must resend, rows to remove)."""
    rng = random.Random(seed)
    with sqlite3.connect(db) as conn:
        keys = conn.execute(
            "SELECT holder, record_id FROM catalogue WHERE holder LIKE ?", (COUNTY + "%",)
        ).fetchall()
        picked = rng.sample(keys, int(len(keys) * fraction))
        lost, changed, ghosts = (
            picked[: len(picked) * 2 // 5],
            picked[len(picked) * 2 // 5 : len(picked) * 4 // 5],
            picked[len(picked) * 4 // 5 :],
        )
        conn.executemany("DELETE FROM catalogue WHERE holder = ? AND record_id = ?", lost)
        conn.executemany(
            "UPDATE catalogue SET version = version + 7 WHERE holder = ? AND record_id = ?",
            changed,
        )
        columns = [r[1] for r in conn.execute("PRAGMA table_info(catalogue)") if r[1] != "id"]
        select = ", ".join("record_id || '-X'" if c == "record_id" else c for c in columns)
        conn.executemany(
            f"INSERT INTO catalogue({', '.join(columns)}) SELECT {select} FROM catalogue "
            "WHERE holder = ? AND record_id = ?",
            ghosts,
        )
    return len(lost) + len(changed), len(ghosts)


async def main(n: int, reps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        net = await Network.start(Path(tmp), tree("33", CITY, COUNTY))
        try:
            for code in ("33", CITY, COUNTY):
                pusher = net.node(code).pusher
                if pusher is not None:
                    await pusher.stop()
            load = entries(n)
            for code in (CITY, COUNTY):
                catalogue = net.node(code).parts.catalogue
                for start in range(0, n, 5000):
                    await catalogue.apply(load[start : start + 5000])
            county = net.node(COUNTY)
            repairer = county.repairer
            print(f"{n} entries in the county's subtree, held by the county and the city")

            local: dict[bool, list[float]] = {False: [], True: []}
            intact: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(reps):
                for deep in (False, True):
                    t = time.perf_counter()
                    await repairer.digests.scan(subtree_range(COUNTY), deep=deep)
                    local[deep].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    report = await repairer.repair(deep=deep)
                    intact[deep].append(time.perf_counter() - t)
                    assert report.intact and report.sent == 0
            resend = []
            for _ in range(max(1, reps // 2)):
                t = time.perf_counter()
                sent = 0
                pairs = await repairer.digests.scan(subtree_range(COUNTY))
                for start in range(0, len(pairs), MAX_REPAIR):
                    chunk = pairs[start : start + MAX_REPAIR]
                    found = await repairer.digests.entries([key for key, _ in chunk])
                    digests = [digest for _, digest in chunk]
                    request = RepairRequest(tuple(zip(found, digests, strict=True)), ())
                    await repairer.client.call(REPAIR, CITY, county.parts.codec.encode(request))
                    sent += len(request.entries)
                resend.append(time.perf_counter() - t)
                assert sent == n

            repaired: dict[bool, list[float]] = {False: [], True: []}
            rounds, sent_counts = [], []
            city_db = Path(tmp) / CITY / "node.db"
            for rep in range(reps):
                for deep in (False, True):
                    to_send, to_remove = damage(city_db, 0.01, rep * 2 + deep)
                    t = time.perf_counter()
                    report = await repairer.repair(deep=deep)
                    repaired[deep].append(time.perf_counter() - t)
                    assert (report.sent, report.removals) == (to_send, to_remove), report
                    assert (await repairer.repair(deep=True)).intact
                    rounds.append(report.rounds)
                    sent_counts.append(report.sent + report.removals)

            for deep, how in ((False, "versions"), (True, "deep")):
                print(summary(f"local digest of the subtree, {how}", local[deep]))
                print(summary(f"compare, intact, {how} (1 call)", intact[deep]))
                print(summary(f"repair 1 % damage, {how}", repaired[deep]))
            print(summary("re-send every entry (no digests)", resend))
            print(
                f"1 % damage: {sent_counts[0]} entries sent or removed, "
                f"{statistics.median(rounds):g} rounds"
            )
            m = statistics.median
            print(f"intact compare, versions / deep: {m(intact[False]) / m(intact[True]):.2f}x")
            print(
                "intact compare, versions / local deep digest: "
                f"{m(intact[False]) / m(local[True]):.2f}x"
            )
            for deep, how in ((False, "versions"), (True, "deep")):
                print(
                    f"repair 1 %, {how} / re-send everything: {m(repaired[deep]) / m(resend):.2f}x"
                )
        finally:
            await net.stop()


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
            int(sys.argv[2]) if len(sys.argv) > 2 else 5,
        )
    )
