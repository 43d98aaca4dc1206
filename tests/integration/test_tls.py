"""TLS between hosts on loopback, pinned by the node certificates (issue 9, item 7).

Every node runs in a host of its own with ``tls=True``, as daemons on separate machines do:
real gRPC over TLS, real SQLite files. Failure modes: a listener presenting a TLS certificate
other than the one its node certificate pins (an impostor at the neighbour's address) gets no
call; a plaintext client gets nothing from a TLS listener; a TLS host will not dial a
neighbour whose certificate pins no TLS certificate; a node whose ``tls.crt`` no longer
matches its certificate has the parent renew it with the new pin.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from grpc import aio

from node import tlscert
from node.errors import PeerUnavailable
from node.federation.addresses import Endpoint
from node.federation.dispatch import Dispatcher
from node.federation.trust.files import tls_cert_path, tls_key_path
from node.host import Host
from node.records import SearchQuery
from node.rpc.codec import ProtobufCodec
from node.rpc.peers import PeerTransport
from node.rpc.server import GrpcServer
from node.rpc.tls import presented_certificate

from .network import Network, converged, eventually, free_port, ingest, make_record, tree

pytestmark = pytest.mark.asyncio(loop_scope="function")
HEALTH = "/grpc.health.v1.Health/Check"


async def _search_total(net: Network, at: str, scope: str) -> int:
    return (await net.service(at).search.search(SearchQuery(text="结婚", scope=scope))).total


async def test_hosts_talk_over_pinned_tls(tmp_path: Path) -> None:
    net = await Network.start(tmp_path, tree("33", "3301", "330106"), tls=True)
    try:
        await ingest(net.service("330106"), [make_record("330106", 1, title="张伟结婚登记")])
        await eventually(lambda: converged(net.hosts["3301"]))
        await eventually(lambda: _search_total_is(net, "33", "33", 1))
        # a search from the county over the province's scope crosses two TLS hops and back
        assert await _search_total(net, "330106", "33") == 1
        # every listener presents exactly the certificate its node certificate pins
        for code in ("33", "3301", "330106"):
            leaf = net.node(code).parts.signer.chain[0]
            assert len(leaf.tls_sha256) == 32
            der = await presented_certificate(code, leaf.address)
            assert tlscert.der_fingerprint(der) == leaf.tls_sha256
    finally:
        await net.stop()


async def _search_total_is(net: Network, at: str, scope: str, want: int) -> bool:
    return await _search_total(net, at, scope) == want


async def test_a_listener_presenting_another_tls_certificate_gets_no_call(
    tmp_path: Path,
) -> None:
    net = await Network.start(tmp_path, tree("33", "3301"), tls=True)
    impostor = Dispatcher(ProtobufCodec())
    # a listener at another address with a TLS certificate of its own for the province's name
    server = GrpcServer(impostor, f"127.0.0.1:{free_port()}", tls=[tlscert.generate("33")])
    await server.start()
    try:
        city = net.hosts["3301"]
        assert await _search_total(net, "3301", "33") == 0  # the real province answers
        await city.transport.close()  # drop the pooled channel to the real one
        city.addresses.set("33", f"127.0.0.1:{server.port}")
        with pytest.raises(PeerUnavailable, match="pins"):
            await _search_total(net, "3301", "33")
        assert impostor.refusals.recent() == []  # no call reached it, not even refused
    finally:
        await server.stop(0)
        await net.stop()


async def test_a_plaintext_client_gets_nothing_from_a_tls_listener(tmp_path: Path) -> None:
    net = await Network.start(tmp_path, tree("33"), tls=True)
    try:
        address = net.node("33").parts.signer.chain[0].address
        async with aio.insecure_channel(address) as channel:
            with pytest.raises(aio.AioRpcError) as caught:
                await channel.unary_unary(HEALTH)(b"", timeout=5)
        assert caught.value.code().name == "UNAVAILABLE"
        # our own transport, told the node serves no TLS, fails the same clear way
        plain = PeerTransport(Dispatcher(ProtobufCodec()), lambda code: Endpoint(address))
        try:
            with pytest.raises(PeerUnavailable):
                await plain.unary("33", HEALTH, b"", timeout=5)
        finally:
            await plain.close()
    finally:
        await net.stop()


async def test_a_tls_host_never_dials_a_neighbour_in_clear() -> None:
    transport = PeerTransport(
        Dispatcher(ProtobufCodec()), lambda code: Endpoint("127.0.0.1:1"), require_tls=True
    )
    with pytest.raises(PeerUnavailable, match="in clear"):
        await transport.unary("33", HEALTH, b"", timeout=1)


async def test_a_plaintext_network_still_works_without_tls_files(tmp_path: Path) -> None:
    net = await Network.start(tmp_path, tree("33", "3301"))
    try:
        assert net.node("3301").parts.signer.chain[0].tls_sha256 == b""
        assert not tls_cert_path(tmp_path / "3301").exists()
        assert await _search_total(net, "3301", "33") == 0
    finally:
        await net.stop()


@pytest.mark.slow
async def test_a_replaced_tls_certificate_is_pinned_by_renewal(tmp_path: Path) -> None:
    net = await Network.start(tmp_path, tree("33", "3301"), tls=True)
    try:
        city = net.hosts["3301"]
        settings = city.settings
        old_pin = net.node("3301").parts.signer.chain[0].tls_sha256
        await city.stop()
        fresh = tlscert.generate("3301")
        tlscert.save(fresh, tls_key_path(tmp_path / "3301"), tls_cert_path(tmp_path / "3301"))
        restarted = Host(settings)  # starts although its certificate pins the old one
        net.hosts["3301"] = restarted
        await restarted.start()

        async def pinned() -> bool:
            return restarted.nodes["3301"].parts.signer.chain[0].tls_sha256 == fresh.sha256

        await eventually(pinned)
        assert fresh.sha256 != old_pin
        # the province reaches the city at its new certificate once it knows the new chain
        province = net.hosts["33"]
        province.addresses.learn(restarted.nodes["3301"].parts.signer.chain)
        assert await province.transport.unary("3301", HEALTH, b"", timeout=5) is not None
    finally:
        await net.stop()
