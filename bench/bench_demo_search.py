"""Search latency over the demo catalogue: at the province, and from a village through the tree.

    python bench/bench_demo_search.py [repetitions]

Starts the demo network (one host, 16 nodes, deterministic sample records), waits until the
province holds every node's catalogue, then times for a few clerk-style queries:

- the province's catalogue store on its own (the baseline: no federation at all);
- the province's node service (signed call answered from its aggregated catalogue);
- the same query from a village, scoped to the province: forwarded hop by hop up four
  levels, every hop a signed, verified call between nodes of the host.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from _common import summary

from node.demo import DEMO_VILLAGE, load_samples, prepare
from node.host import Host
from node.records import SearchQuery
from node.simulate import converged, eventually, free_port

QUERIES = ["婚姻登记", "结婚登记", "王", "学籍 2015", "土地承包"]


async def timed(call: Callable[[], Awaitable[object]], reps: int) -> list[float]:
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


async def main(reps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        host = Host(prepare(Path(tmp), free_port(), free_port())[0])
        await host.start()
        try:
            await load_samples(host)

            await eventually(lambda: converged(host), timeout=120)
            catalogue = host.nodes["33"].parts.catalogue
            province, village = host.service("33"), host.service(DEMO_VILLAGE)
            entries = await catalogue.count()
            print(f"demo catalogue at the province: {entries} entries")
            store, direct, routed = [], [], []
            for text in QUERIES:
                query = SearchQuery(text=text, scope="33")
                page = await village.search.search(query)
                assert page.answered_by == "33", page.answered_by
                print(f"  {text!r}: {page.total} hits")
                for _ in range(3):  # warm caches and verified chains
                    await province.search.search(query)
                store += await timed(lambda q=query: catalogue.search(q), reps)
                direct += await timed(lambda q=query: province.search.search(q), reps)
                routed += await timed(lambda q=query: village.search.search(q), reps)
        finally:
            await host.stop()
    print(f"search over the demo catalogue ({len(QUERIES)} queries x {reps})")
    print(summary("province catalogue store (no federation)", store))
    print(summary("province node service (answered locally)", direct))
    print(summary("village, scope 33 (4 signed hops, in-process)", routed))
    ratio = statistics.median(routed) / statistics.median(store)
    print(f"village via the tree / store alone: {ratio:.1f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
