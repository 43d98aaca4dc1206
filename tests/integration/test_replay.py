"""Replays after a restart, and enrolment hijacks, on a real network (gRPC on loopback).

A call is captured as the bytes a node sealed with its own signer and sent to the
receiver's listener; the receiver's host is then stopped and a new one opened on the same
data folder, and the same bytes sent again. Before the nonces of state-changing calls were
kept in the database, a replayed renewal after a restart granted a new certificate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.crypto import SigningKey
from node.errors import AccessDenied, Overloaded
from node.federation.messages import (
    ENROL,
    RENEW,
    REPORT_TRUST,
    SEARCH,
    EnrolApplication,
    Envelope,
    RenewReply,
    RenewRequest,
    TrustReport,
)
from node.federation.trust.applicant import apply_for_enrolment
from node.federation.trust.events import encode_event
from node.federation.trust.limits import WindowLimiter
from node.host import Host
from node.records import SearchQuery
from node.rpc.codec import ProtobufCodec
from node.rpc.peers import call_address
from node.storage.trust import SeenNonces

from .network import Network, tree
from .raw import raw_call, raw_reply

NODES = tree("33", "3301", "330106")
CODEC = ProtobufCodec()


@pytest_asyncio.fixture
async def net(tmp_path: Path) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path, NODES)
    yield network
    await network.stop()


async def _restart(net: Network, code: str) -> Host:
    """Stop ``code``'s host and open a new one on the same data folder and port."""
    old = net.hosts[code]
    await old.stop()
    restarted = Host(old.settings)
    await restarted.start()
    for hosted in restarted.nodes:
        net.hosts[hosted] = restarted
    return restarted


def _sealed(net: Network, origin: str, method: str, to: str, payload: bytes) -> bytes:
    return CODEC.encode(net.node(origin).parts.signer.seal(method, to, payload))


def _serials(net: Network, code: str) -> list[int]:
    return sorted(c.serial for c in net.node("33").keeper.state.certificates.get(code, []))


@pytest.mark.asyncio
async def test_a_renewal_replayed_after_the_parent_restarts_grants_nothing(net: Network) -> None:
    captured = _sealed(net, "3301", RENEW, "33", CODEC.encode(RenewRequest()))
    reply = CODEC.decode(Envelope, await raw_reply(net, "33", RENEW, captured))
    granted = CODEC.decode(RenewReply, reply.payload).chain[0]
    assert granted.serial in _serials(net, "3301")
    logged = _serials(net, "3301")
    # resent before a restart: the stored answer, nothing granted again
    again = CODEC.decode(Envelope, await raw_reply(net, "33", RENEW, captured))
    assert CODEC.decode(RenewReply, again.payload).chain[0] == granted
    await _restart(net, "33")
    assert _serials(net, "3301") == logged
    status, details = await raw_call(net, "33", RENEW, captured)
    assert status == grpc.StatusCode.UNAUTHENTICATED and "replayed nonce" in details, details
    assert _serials(net, "3301") == logged  # no new certificate, no new serial
    # a renewal sealed afresh still works after the restart
    fresh = _sealed(net, "3301", RENEW, "33", CODEC.encode(RenewRequest()))
    reply = CODEC.decode(Envelope, await raw_reply(net, "33", RENEW, fresh))
    assert CODEC.decode(RenewReply, reply.payload).chain[0].serial > granted.serial


@pytest.mark.asyncio
async def test_a_report_replayed_after_the_registry_restarts_is_refused(net: Network) -> None:
    child = net.node("330106").parts.signer.chain[0]  # 3301 may report its child's certificate
    report = CODEC.encode(TrustReport(events=(encode_event(child),)))
    captured = _sealed(net, "3301", REPORT_TRUST, "33", report)
    status, _ = await raw_call(net, "33", REPORT_TRUST, captured)
    assert status == grpc.StatusCode.OK
    await _restart(net, "33")
    status, details = await raw_call(net, "33", REPORT_TRUST, captured)
    assert status == grpc.StatusCode.UNAUTHENTICATED and "replayed nonce" in details, details


@pytest.mark.asyncio
async def test_a_read_only_call_keeps_its_nonce_in_memory_only(net: Network) -> None:
    """No database write on the search path: a search replayed after a restart is answered
    (to the node that asked, signed for it; nothing changes), one replayed before is not."""
    query = CODEC.encode(SearchQuery(text="档案", scope="33", limit=1))
    captured = _sealed(net, "3301", SEARCH, "33", query)
    assert (await raw_call(net, "33", SEARCH, captured))[0] == grpc.StatusCode.OK
    await _restart(net, "33")
    assert await SeenNonces(net.node("33").db).count() == 0
    assert (await raw_call(net, "33", SEARCH, captured))[0] == grpc.StatusCode.OK


def _sender(net: Network, parent: str):  # type: ignore[no-untyped-def]
    address = f"127.0.0.1:{net.hosts[parent].grpc.port}"

    async def send(request: bytes) -> bytes:
        return await call_address(address, ENROL, request, 5.0)

    return send


@pytest.mark.asyncio
async def test_an_application_with_another_key_is_refused_over_the_wire(net: Network) -> None:
    send, root = _sender(net, "3301"), net.root.public_key
    applicant, squatter = SigningKey.generate(), SigningKey.generate()
    status = await apply_for_enrolment(
        applicant, EnrolApplication("330108", "余杭区档案馆", applicant.public_key, ""), root,
        CODEC, send,
    )  # fmt: skip
    assert status.status == "pending"
    with pytest.raises(AccessDenied, match=f"pinned to key {applicant.key_id}"):
        await apply_for_enrolment(
            squatter, EnrolApplication("330108", "冒名", squatter.public_key, ""), root,
            CODEC, send,
        )  # fmt: skip
    (pending,) = await net.service("3301").trust.applications("pending")
    assert pending.public_key == applicant.public_key
    chain = await net.service("3301").trust.approve(
        "330108", applicant.key_id, actor=console_actor("test")
    )
    assert chain[0].public_key == applicant.public_key


@pytest.mark.asyncio
async def test_applications_are_limited_per_transport_address(net: Network) -> None:
    enrolment = net.node("3301").keeper.enrolment
    enrolment.new_applications = WindowLimiter(2, 3600.0)
    send, root = _sender(net, "3301"), net.root.public_key
    for code in ("330108", "330109"):
        key = SigningKey.generate()
        await apply_for_enrolment(
            key, EnrolApplication(code, "区档案馆", key.public_key, ""), root, CODEC, send
        )
    # another code from the same address: counted against the address, not per code
    key = SigningKey.generate()
    with pytest.raises(Overloaded, match="ipv4:127.0.0.1"):
        await apply_for_enrolment(
            key, EnrolApplication("330110", "区档案馆", key.public_key, ""), root, CODEC, send
        )
    assert {a.code for a in await net.service("3301").trust.applications()} == {
        "330108",
        "330109",
    }
