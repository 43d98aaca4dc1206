"""The adversarial battery (issue 3): every way a call can be forged, bent or replayed.

Real gRPC on loopback, one host per node. Each case sends exactly the bytes an attacker
would to the city (3301), whose county 330106 is a real child allowed to push, and asserts
the exact status code, that nothing reached the catalogue, that the call was not counted as
accepted (its transaction is not among those the node answered), and that the refusal is in
the operator's audit. Background sync keeps running meanwhile, as it would under attack.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.certificates import issue
from node.crypto import SigningKey
from node.errors import NodeError
from node.federation.envelope import Signer, signed_tuple
from node.federation.messages import PUSH, SEARCH, Envelope, PushAck, PushBatch
from node.records import MAX_BATCH_ENTRIES, SearchQuery, catalogue_entry
from node.rpc.codec import ProtobufCodec

from .network import Network, make_record, tree
from .raw import raw_call, raw_reply

NODES = tree("33", "3301", "330106", "330110", "330106001", "330106001001")
CITY, COUNTY = "3301", "330106"
CODEC = ProtobufCodec()
DAY_MS = 24 * 3600 * 1000
OK = grpc.StatusCode.OK
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT
RESOURCE_EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("adversarial"), NODES)
    yield network
    await network.stop()


pytestmark = pytest.mark.asyncio(loop_scope="module")


def _batch(holder: str = COUNTY, n: int = 1, title: str = "伪造的目录条目") -> bytes:
    entries = []
    for i in range(n):
        record, _ = make_record(holder, 900 + i, title=title)
        entry = catalogue_entry(record, "伪造")
        assert entry is not None
        entries.append(entry)
    return CODEC.encode(PushBatch(f"attack-{os.urandom(4).hex()}", 0, 10**6, tuple(entries)))


def _now() -> int:
    return int(time.time() * 1000)


def _resigned(env: Envelope, key: SigningKey, method: str = PUSH) -> Envelope:
    return replace(env, signature=key.sign(signed_tuple(method, env)))


async def _refused(
    net: Network,
    request: bytes,
    status: grpc.StatusCode,
    *,
    to: str = CITY,
    method: str = PUSH,
    audited: bool = True,
) -> str:
    """Send ``request`` to ``to``; assert ``status``, nothing applied, the refusal audited."""
    node = net.node(to)
    try:
        envelope: Envelope | None = CODEC.decode(Envelope, request)
    except NodeError:
        envelope = None  # not even an envelope: there is no transaction to look for
    txid = (envelope.origin, envelope.transaction_id) if envelope else None
    entries = await node.parts.catalogue.count()
    answered = node.server.recent_accepted.count(txid)
    audit = net.node(to).refusals
    refusals = sum(n for (code, _), n in audit.counts.items() if code in (to, ""))
    code, details = await raw_call(net, to, method, request)
    assert code == status, details
    assert await node.parts.catalogue.count() == entries
    assert node.server.recent_accepted.count(txid) == answered
    assert (await node.parts.catalogue.search(SearchQuery(text="伪造"))).total == 0
    if audited:  # background calls may be refused meanwhile too (a banned key's pushes)
        assert any(r.reason == details for r in audit.recent(to, 20))
    else:
        assert sum(n for (code, _), n in audit.counts.items() if code in (to, "")) == refusals
    return details


# -- signatures and certificates --------------------------------------------------------------


async def test_forged_signature(net: Network) -> None:
    env = net.node(COUNTY).parts.signer.seal(PUSH, CITY, _batch())
    flipped = bytes([env.signature[0] ^ 1]) + env.signature[1:]
    details = await _refused(net, CODEC.encode(replace(env, signature=flipped)), UNAUTHENTICATED)
    assert "signature" in details


async def test_valid_signature_by_a_key_not_in_the_certificate(net: Network) -> None:
    county = net.node(COUNTY).parts.signer
    other = SigningKey.generate()
    env = _resigned(county.seal(PUSH, CITY, _batch()), other)
    await _refused(net, CODEC.encode(env), UNAUTHENTICATED)


def _chain_for_county(net: Network, issuer: SigningKey, key: SigningKey, **overrides: object):  # type: ignore[no-untyped-def]
    now = _now()
    cert = issue(
        issuer,
        node_id=COUNTY,
        name="冒名区档案馆",
        public_key=key.public_key,
        address="",
        not_before_ms=now - 60_000,
        not_after_ms=now + DAY_MS,
        serial=now,
    )
    if overrides:
        cert = replace(cert, **overrides)  # type: ignore[arg-type]
        cert = replace(cert, signature=issuer.sign(cert.signing_bytes()))
    return (cert, *net.node(CITY).parts.signer.chain)


@pytest.mark.parametrize("issuer", ["sibling", "grandchild", "self"])
async def test_certificate_not_signed_by_the_parent(net: Network, issuer: str) -> None:
    attacker = SigningKey.generate()
    key = {
        "sibling": net.node("330110").parts.signer.key,
        "grandchild": net.node("330106001").parts.signer.key,
        "self": attacker,
    }[issuer]
    signer = Signer(COUNTY, attacker, _chain_for_county(net, key, attacker))
    details = await _refused(net, CODEC.encode(signer.seal(PUSH, CITY, _batch())), UNAUTHENTICATED)
    assert "not signed by its issuer" in details


async def test_chain_longer_than_five(net: Network) -> None:
    county = net.node(COUNTY).parts.signer
    province = county.chain[-1]
    long_chain = (*county.chain, province, province, province)
    env = replace(county, chain=long_chain).seal(PUSH, CITY, _batch())
    details = await _refused(net, CODEC.encode(env), UNAUTHENTICATED)
    assert "links" in details


async def test_code_outside_the_parents_namespace(net: Network) -> None:
    attacker = SigningKey.generate()
    city_key = net.node(CITY).parts.signer.key
    chain = _chain_for_county(net, city_key, attacker, node_id="330206")
    env = Signer("330206", attacker, chain).seal(PUSH, CITY, _batch("330206"))
    details = await _refused(net, CODEC.encode(env), UNAUTHENTICATED)
    assert "as parent" in details


async def test_wrong_level(net: Network) -> None:
    attacker = SigningKey.generate()
    chain = _chain_for_county(net, net.node(CITY).parts.signer.key, attacker, level=3)
    env = Signer(COUNTY, attacker, chain).seal(PUSH, CITY, _batch())
    details = await _refused(net, CODEC.encode(env), UNAUTHENTICATED)
    assert "wrong level" in details


@pytest.mark.parametrize(
    "window",
    [(-3 * DAY_MS, -DAY_MS), (DAY_MS, 3 * DAY_MS)],
    ids=["expired", "not-yet-valid"],
)
async def test_certificate_outside_its_validity(net: Network, window: tuple[int, int]) -> None:
    attacker = SigningKey.generate()
    now = _now()
    chain = _chain_for_county(
        net,
        net.node(CITY).parts.signer.key,
        attacker,
        not_before_ms=now + window[0],
        not_after_ms=now + window[1],
    )
    env = Signer(COUNTY, attacker, chain).seal(PUSH, CITY, _batch())
    details = await _refused(net, CODEC.encode(env), UNAUTHENTICATED)
    assert "not valid now" in details


async def test_certificate_from_another_root(net: Network) -> None:
    fake_root, attacker = SigningKey.generate(), SigningKey.generate()
    now = _now()
    province = issue(
        fake_root,
        node_id="33",
        name="假省馆",
        public_key=fake_root.public_key,
        address="",
        not_before_ms=now - 60_000,
        not_after_ms=now + DAY_MS,
        serial=1,
    )
    chain = (*_chain_for_county(net, fake_root, attacker)[:1], province)
    env = Signer(COUNTY, attacker, chain).seal(PUSH, CITY, _batch())
    await _refused(net, CODEC.encode(env), UNAUTHENTICATED)


async def test_revoked_serial(net: Network) -> None:
    village = "330106001001"
    await net.service("330106001").trust.revoke(village, "对抗测试", actor=console_actor("test"))
    query = CODEC.encode(SearchQuery(text="结婚", scope="330106001", limit=1))
    env = net.node(village).parts.signer.seal(SEARCH, "330106001", query)
    details = await _refused(net, CODEC.encode(env), UNAUTHENTICATED, to="330106001", method=SEARCH)
    assert "revoked" in details


async def test_banned_key(net: Network) -> None:
    county = net.node(COUNTY).parts.signer
    await net.service(CITY).trust.ban(county.key.key_id, "对抗测试", actor=console_actor("test"))
    try:
        details = await _refused(
            net, CODEC.encode(county.seal(PUSH, CITY, _batch())), UNAUTHENTICATED
        )
        assert "banned" in details
    finally:
        await net.service(CITY).trust.unban(county.key.key_id, actor=console_actor("test"))


# -- time, replay, transactions ----------------------------------------------------------------


@pytest.mark.parametrize("offset_s", [-600, 600], ids=["stale", "future"])
async def test_timestamp_outside_the_skew_bound(net: Network, offset_s: int) -> None:
    shifted = replace(net.node(COUNTY).parts.signer, clock=lambda: time.time() + offset_s)
    details = await _refused(net, CODEC.encode(shifted.seal(PUSH, CITY, _batch())), UNAUTHENTICATED)
    assert "clock" in details


def _search(net: Network, text: str = "结婚", txid: str | None = None) -> Envelope:
    query = CODEC.encode(SearchQuery(text=text, scope=CITY, limit=1))
    return net.node(COUNTY).parts.signer.seal(SEARCH, CITY, query, transaction_id=txid)


async def test_replayed_nonce_under_a_new_transaction(net: Network) -> None:
    first = _search(net)
    assert (await raw_call(net, CITY, SEARCH, CODEC.encode(first)))[0] == OK
    again = _resigned(
        replace(first, transaction_id="another"), net.node(COUNTY).parts.signer.key, SEARCH
    )
    details = await _refused(net, CODEC.encode(again), UNAUTHENTICATED, method=SEARCH)
    assert "replayed nonce" in details


async def test_same_transaction_id_with_a_different_payload(net: Network) -> None:
    first = _search(net, "结婚")
    assert (await raw_call(net, CITY, SEARCH, CODEC.encode(first)))[0] == OK
    other = _search(net, "离婚", txid=first.transaction_id)
    details = await _refused(net, CODEC.encode(other), INVALID_ARGUMENT, method=SEARCH)
    assert "different payload" in details


async def test_a_retried_transaction_gets_the_stored_answer_and_applies_once(
    net: Network,
) -> None:
    city = net.node(CITY)
    record, _ = make_record(COUNTY, 1, title="重试只应写入一次")
    entry = catalogue_entry(record, "西湖区档案馆")
    assert entry is not None
    batch = CODEC.encode(PushBatch("retry-1", 0, 1, (entry,)))
    request = CODEC.encode(net.node(COUNTY).parts.signer.seal(PUSH, CITY, batch))
    first = await raw_reply(net, CITY, PUSH, request)
    count = await city.parts.catalogue.count()
    again = await raw_reply(net, CITY, PUSH, request)  # a gRPC retry: identical bytes
    assert again == first  # the very same signed answer
    assert await city.parts.catalogue.count() == count
    ack = CODEC.decode(PushAck, CODEC.decode(Envelope, first).payload)
    assert ack.applied == 1


# -- routing ----------------------------------------------------------------------------------


async def test_wrong_destination(net: Network) -> None:
    # a county's call for its sibling sent to its own township: not on the route
    env = net.node(COUNTY).parts.signer.seal(SEARCH, "330110", CODEC.encode(SearchQuery()))
    details = await _refused(
        net, CODEC.encode(env), PERMISSION_DENIED, to="330106001", method=SEARCH
    )
    assert "330110" in details


async def test_a_relay_altering_the_originators_call(net: Network) -> None:
    village, township = net.node("330106001001").parts.signer, net.node("330106001").parts.signer
    call = village.seal(SEARCH, "33", CODEC.encode(SearchQuery(text="结婚", scope="33")))
    altered = replace(call, payload=CODEC.encode(SearchQuery(text="离婚", scope="33")))
    wrapped = township.seal(SEARCH, COUNTY, CODEC.encode(altered), relayed=True)
    details = await _refused(net, CODEC.encode(wrapped), UNAUTHENTICATED, to=COUNTY, method=SEARCH)
    assert "330106001001" in details


async def test_push_from_a_node_that_is_not_a_child(net: Network) -> None:
    grandchild = net.node("330106001").parts.signer
    env = grandchild.seal(PUSH, CITY, _batch("330106001"))
    await _refused(net, CODEC.encode(env), PERMISSION_DENIED)


# -- malformed and oversized --------------------------------------------------------------------


async def test_truncated_envelope(net: Network) -> None:
    whole = CODEC.encode(net.node(COUNTY).parts.signer.seal(PUSH, CITY, _batch()))
    await _refused(net, whole[: len(whole) // 2], INVALID_ARGUMENT)


async def test_random_bytes(net: Network) -> None:
    await _refused(net, os.urandom(300), INVALID_ARGUMENT)


async def test_oversized_message_is_refused_before_parsing(net: Network) -> None:
    # the transport refuses it before any of our code runs, so it is not in our audit
    await _refused(net, b"\x0a" * (5 * 1024 * 1024), RESOURCE_EXHAUSTED, audited=False)


async def test_oversized_batch(net: Network) -> None:
    env = net.node(COUNTY).parts.signer.seal(PUSH, CITY, _batch(n=MAX_BATCH_ENTRIES + 1))
    details = await _refused(net, CODEC.encode(env), INVALID_ARGUMENT)
    assert "at most" in details


async def test_per_origin_concurrency_limit(net: Network) -> None:
    admission = net.node(CITY).server.admission
    admission.max_concurrent = 0  # as if the county already had every slot busy
    try:
        env = net.node(COUNTY).parts.signer.seal(PUSH, CITY, _batch())
        details = await _refused(net, CODEC.encode(env), RESOURCE_EXHAUSTED)
        assert "limit" in details
    finally:
        admission.max_concurrent = 32
    # nothing was applied and the nonce was let go: the same bytes succeed once there is room
    assert (await raw_call(net, CITY, PUSH, CODEC.encode(env)))[0] == OK


# a cheap guard that the cases above send what they claim: an honest push is accepted
async def test_an_honest_push_is_accepted(net: Network) -> None:
    env = net.node(COUNTY).parts.signer.seal(PUSH, CITY, _batch(title="正常目录"))
    assert (await raw_call(net, CITY, PUSH, CODEC.encode(env)))[0] == OK
