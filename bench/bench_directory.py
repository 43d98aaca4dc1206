"""The trust directory at province scale: logging, pulling and indexing N certificates.

    python bench/bench_directory.py [certificates]

A province with every township and village enrolled holds tens of thousands of certificates.
Measures, on a province and a city on loopback gRPC: the registry logging N certificate
events (one signed head per batch of 1,000), a city with an empty copy pulling all of them
page by page (verifying the head and the running hash), a restarted city rebuilding its
state from its database, and the revocation check a verifier makes per certificate.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import summary

from node.certificates import issue
from node.crypto import SigningKey
from node.federation.trust.events import Revocation, TrustState
from node.simulate import Network, tree


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        net = await Network.start(Path(tmp), tree("33", "3301"))
        registry, city = net.node("33").keeper, net.node("3301").keeper
        await asyncio.sleep(0.5)  # let the first announcement settle
        key = SigningKey.generate()
        now = int(time.time() * 1000)
        certificates = [
            issue(
                key,
                node_id=f"3301{1 + n // 999:02d}{1 + n % 999:03d}",
                name=f"测试街道档案室{n}",
                public_key=key.public_key,
                address="127.0.0.1:1",
                not_before_ms=now,
                not_after_ms=now + 86_400_000,
                serial=n + 1,
            )
            for n in range(count)
        ]
        start = time.perf_counter()
        for i in range(0, count, 1000):
            await registry.record(certificates[i : i + 1000])
        logged = time.perf_counter() - start
        while city.head.version < registry.head.version:  # announcements settle
            await asyncio.sleep(0.1)

        city.state = city.parts.gatekeeper.chains.state = TrustState()
        city.head = type(city.head)(0, city.state.chain_hash, 0)
        await city.store.db.write(lambda c: c.execute("DELETE FROM directory_events"))
        start = time.perf_counter()
        version = await city.refresh()
        pulled = time.perf_counter() - start
        assert version == registry.head.version

        city.state = city.parts.gatekeeper.chains.state = TrustState()
        start = time.perf_counter()
        await city.open()
        reopened = time.perf_counter() - start
        assert city.state.version == version

        state = city.state
        state.revoked[("330101001", 0)] = Revocation("330101001", 0, "3301", now, "")
        probes = certificates[:1000]
        checks = []
        for _ in range(20):
            t0 = time.perf_counter()
            for cert in probes:
                state.refusal(cert, now, live=True)
            checks.append((time.perf_counter() - t0) / len(probes))
        await net.stop()
    print(f"trust directory with {version} events ({count} added), province -> city on loopback")
    print(f"registry logs {count} certificates: {logged:.2f} s ({count / logged:,.0f}/s)")
    print(f"city pulls the whole directory: {pulled:.2f} s ({version / pulled:,.0f} events/s)")
    print(f"city rebuilds its state from node.db: {reopened:.2f} s")
    print(summary("revocation/retirement/ban check per certificate", checks))
    print(f"  (median {statistics.median(checks) * 1e6:.2f} µs)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30_000))
