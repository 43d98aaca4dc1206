"""Propagation of single new records from a village to the province (four hops): p50, p99.

    python bench/bench_propagation.py [N]   # N records one after another (default 200)

A real chain village -> township -> county -> city -> province, one host and gRPC listener
per node (all in this process), default ``[sync]`` settings except a one-hour timer, so
every record travels by push on change. Each record is ingested at the village and timed
until the province's catalogue holds it (the province's change hook wakes the check, no
polling). Baseline, same process: the village's own ingest (what the clerk waits for).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import pct, summary

from node.config import SyncSettings
from node.errors import NotFound
from node.simulate import Network, ingest, make_record, tree

VILLAGE = "330106001001"
CHAIN = ("33", "3301", "330106", "330106001", VILLAGE)


async def main(n: int) -> None:
    sync = SyncSettings(interval_s=3600.0)
    with tempfile.TemporaryDirectory() as tmp:
        net = await Network.start(Path(tmp), tree(*CHAIN), sync=sync)
        try:
            province = net.node("33")
            arrived = asyncio.Event()
            province.catalogue_listeners.append(arrived.set)
            catalogue = province.parts.catalogue
            village = net.service(VILLAGE)

            async def held(record_id: str) -> bool:
                try:
                    await catalogue.get(VILLAGE, record_id)
                    return True
                except NotFound:
                    return False

            latencies, ingests = [], []
            for i in range(n + 5):  # the first five warm channels and caches
                record, data = make_record(VILLAGE, i + 1, title=f"金鱼井社区户口迁移登记{i}")
                arrived.clear()
                start = time.perf_counter()
                await ingest(village, [(record, data)])
                ingested = time.perf_counter()
                while not await held(record.record_id):
                    await arrived.wait()
                    arrived.clear()
                if i >= 5:
                    latencies.append(time.perf_counter() - start)
                    ingests.append(ingested - start)
        finally:
            await net.stop()
    print(f"{n} single records, village -> township -> county -> city -> province (4 hops)")
    print(summary("ingest at the village (baseline)", ingests))
    print(summary("ingest until held by the province", latencies))
    p50, p99 = statistics.median(latencies), pct(latencies, 0.99)
    print(f"aims: p50 <= 1 s ({p50:.3f} s), p99 <= 3 s ({p99:.3f} s)")
    print(f"p50 / ingest p50: {p50 / statistics.median(ingests):.1f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
