"""TLS against plaintext for a 4-hop search between hosts (issue 9, item 7).

    python bench/bench_tls.py [repetitions]

Two networks of five nodes (province, city, county, township, village), each node in a
host of its own with its own gRPC listener on loopback, as daemons on separate machines run:
one plaintext, one with ``tls=True`` (every listener presents its pinned self-signed TLS
certificate, every hop dials over TLS and checks the pin). Both hold the same records and
run in this process at once; their calls are interleaved, alternating which goes first, so
the ratio compares like with like under the same load. Timed:

- a village search scoped to the province, warm (pooled channels, verified chains): four
  signed hops up, the province's answer back down the same four;
- the first call on cold channels (every pooled channel dropped, one sample in ten), which
  with TLS includes the pin check's extra handshake and gRPC's own at each hop.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import summary

from node.records import SearchQuery
from node.simulate import Network, eventually, ingest, make_record, tree

CODES = ("33", "3301", "330106", "330106001", "330106001001")
VILLAGE = CODES[-1]
QUERY = SearchQuery(text="结婚", scope="33")


async def _total(net: Network) -> int:
    return (await net.service(VILLAGE).search.search(QUERY)).total


async def _start(tmp: Path, tls: bool) -> Network:
    net = await Network.start(tmp, tree(*CODES), tls=tls)
    items = [make_record("330106", i, title=f"张伟、陈静结婚登记档案{i}") for i in range(20)]
    await ingest(net.service("330106"), items)

    async def synced() -> bool:
        return await _total(net) == len(items)

    await eventually(synced, timeout=60)
    for _ in range(5):
        await _total(net)
    return net


async def _timed(net: Network, cold: bool) -> float:
    if cold:
        for code in CODES[1:]:  # drop every pooled channel: the next call dials anew
            await net.hosts[code].transport.close()
    start = time.perf_counter()
    await _total(net)
    return time.perf_counter() - start


async def main(reps: int) -> None:
    samples: dict[tuple[bool, bool], list[float]] = {
        (tls, cold): [] for tls in (False, True) for cold in (False, True)
    }
    with tempfile.TemporaryDirectory() as tmp:
        nets = {tls: await _start(Path(tmp) / str(tls), tls) for tls in (False, True)}
        try:
            # interleaved, alternating which goes first, so load from elsewhere hits both
            for i in range(reps):
                for cold in (False, True):
                    if cold and i % 10:
                        continue
                    for tls in (False, True) if i % 2 else (True, False):
                        samples[(tls, cold)].append(await _timed(nets[tls], cold))
        finally:
            for net in nets.values():
                await net.stop()
    print(f"village search scoped to the province, 4 hops between hosts on loopback (x{reps})")
    print(summary("plaintext, warm channels", samples[(False, False)]))
    print(summary("TLS (pinned), warm channels", samples[(True, False)]))
    print(summary("plaintext, cold channels (first call)", samples[(False, True)]))
    print(summary("TLS (pinned), cold channels (first call)", samples[(True, True)]))
    ratios = [
        statistics.median(samples[(True, cold)]) / statistics.median(samples[(False, cold)])
        for cold in (False, True)
    ]
    print(f"TLS / plaintext (medians): warm {ratios[0]:.2f}x, cold {ratios[1]:.2f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
