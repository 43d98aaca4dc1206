"""The cost of signed calls: a signed federation search vs the same call unsigned, on loopback.

    python bench/bench_signing.py [calls]

Both calls run the same search over the same catalogue and the same protobuf codec; the signed
one adds the envelope (sign, chain check from cache, verify, nonce) on the way out and on the
signed reply. Also prints Gatekeeper.verify alone, with a cached and a cold chain, and what
keeping a call's nonce in the database (``SeenNonces.claim``, done only for state-changing
calls) would add to each signed search if search did it too.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc
from _common import summary
from grpc import aio

from node.federation.messages import SEARCH
from node.federation.trust.verify import ChainVerifier, Gatekeeper
from node.records import SearchPage, SearchQuery
from node.rpc.interceptors import ErrorToStatusInterceptor
from node.rpc.peers import CHANNEL_OPTIONS
from node.rpc.server import SERVER_OPTIONS
from node.simulate import Network, ingest, make_record, tree
from node.storage.trust import SeenNonces

NODES = tree("33", "3301")
QUERY = SearchQuery(text="秀英", scope="33", limit=5)


async def main(calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        net = await Network.start(Path(tmp), NODES)
        province, city = net.node("33"), net.node("3301")
        await ingest(
            net.service("33"), [make_record("33", i, title=f"王秀英档案{i}") for i in range(1, 30)]
        )
        codec = province.parts.codec

        async def unsigned_search(request: bytes, context: object) -> bytes:
            page = await province.parts.catalogue.search(codec.decode(SearchQuery, request))
            return codec.encode(page)

        # the same server stack (interceptor, options) and channel options as the signed call
        server = aio.server(interceptors=[ErrorToStatusInterceptor()], options=SERVER_OPTIONS)
        server.add_generic_rpc_handlers(
            [
                grpc.method_handlers_generic_handler(
                    "bench.Unsigned",
                    {"Search": grpc.unary_unary_rpc_method_handler(unsigned_search)},
                )
            ]
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        channel = aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
        unsigned_call = channel.unary_unary("/bench.Unsigned/Search")
        client = city.client
        payload = codec.encode(QUERY)

        async def signed() -> float:
            start = time.perf_counter()
            reply = await client.call(SEARCH, "33", payload)
            assert codec.decode(SearchPage, reply.payload).total == 29
            return time.perf_counter() - start

        async def plain() -> float:
            start = time.perf_counter()
            reply = await unsigned_call(payload, timeout=5)
            assert codec.decode(SearchPage, reply).total == 29
            return time.perf_counter() - start

        for _ in range(50):
            await signed()
            await plain()
        signed_s, plain_s = [], []
        for _ in range(calls):
            signed_s.append(await signed())
            plain_s.append(await plain())
        await channel.close()
        await server.stop(0)

        envelope = city.parts.signer.seal(SEARCH, "33", payload)
        root_key = net.root.public_key
        warm = Gatekeeper(ChainVerifier(root_key))
        cold_s, warm_s = [], []
        for _ in range(300):
            fresh = city.parts.signer.seal(SEARCH, "33", payload)
            start = time.perf_counter()
            Gatekeeper(ChainVerifier(root_key)).verify(fresh, SEARCH)
            cold_s.append(time.perf_counter() - start)
            fresh = city.parts.signer.seal(SEARCH, "33", payload)
            start = time.perf_counter()
            warm.verify(fresh, SEARCH)
            warm_s.append(time.perf_counter() - start)
        nonces, claim_s = SeenNonces(province.db), []
        for index in range(300):
            now = int(time.time() * 1000)
            start = time.perf_counter()
            assert await nonces.claim("3301", index.to_bytes(16, "big"), now + 240_000, now)
            claim_s.append(time.perf_counter() - start)
        sign_s = []
        for _ in range(300):
            start = time.perf_counter()
            city.parts.signer.seal(SEARCH, "33", payload)
            sign_s.append(time.perf_counter() - start)
        await net.stop()
    assert envelope.chain
    print(
        "signed vs unsigned search call, 5 hits, loopback gRPC (client and server in one process)"
    )
    print(summary("unsigned call", plain_s))
    print(summary("signed call + signed reply", signed_s))
    ratio = statistics.median(signed_s) / statistics.median(plain_s)
    print(f"signed / unsigned: {ratio:.2f}x latency (aim <= 1.25x)")
    print(summary("seal (sign) one envelope", sign_s))
    print(summary(f"verify, chain of {len(envelope.chain)} cached", warm_s))
    print(summary(f"verify, chain of {len(envelope.chain)} cold", cold_s))
    print(summary("durable nonce claim (one db write)", claim_s))
    share = statistics.median(claim_s) / statistics.median(signed_s)
    print(f"a durable nonce on every search would add {share:.0%} of a signed call")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
