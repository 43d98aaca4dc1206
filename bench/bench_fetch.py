"""Fetch latency of a 1 MiB open record through 1 hop vs 4 hops (real gRPC, one host per node).

    python bench/bench_fetch.py [repetitions]

Prints medians and the 4-hop / 1-hop ratio (aim: <= 4.5x).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import summary

from node.simulate import Network, ingest, make_record, tree

NODES = tree("33", "3301", "330106", "330110", "330106001", "330106001001")
VILLAGE = "330106001001"


async def main(reps: int) -> None:
    content = os.urandom(1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        net = await Network.start(Path(tmp), NODES)
        try:
            await ingest(
                net.service("330106001"),
                [make_record("330106001", 1, title="一跳", content=content)],
            )
            await ingest(
                net.service("330110"), [make_record("330110", 1, title="四跳", content=content)]
            )
            village = net.service(VILLAGE)

            async def fetch(holder: str) -> float:
                start = time.perf_counter()
                fetched = await village.retrieval.fetch(holder, "T-HY-2015-0001")
                size = sum([len(c) async for c in fetched.chunks])
                assert size == len(content)
                return time.perf_counter() - start

            for holder in ("330106001", "330110"):  # warm channels and caches
                for _ in range(3):
                    await fetch(holder)
            one, four, local = [], [], []
            for _ in range(reps):  # interleaved, so machine noise hits both alike
                one.append(await fetch("330106001"))
                four.append(await fetch("330110"))
            holder_service = net.service("330110")
            for _ in range(reps):
                start = time.perf_counter()
                fetched = await holder_service.retrieval.fetch("330110", "T-HY-2015-0001")
                _ = [c async for c in fetched.chunks]
                local.append(time.perf_counter() - start)
        finally:
            await net.stop()
    print("fetch of a 1 MiB open record (separate gRPC listener per node, loopback)")
    print(summary("read at the holder itself (0 hops)", local))
    print(summary("village -> township (1 hop)", one))
    print(summary("village -> ... -> other county (4 hops)", four))
    ratio = statistics.median(four) / statistics.median(one)
    print(f"4 hops / 1 hop: {ratio:.2f}x (aim <= 4.5x)")
    mb_s = 1.0 / statistics.median(four)
    print(f"4-hop throughput: {mb_s:.0f} MiB/s")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
