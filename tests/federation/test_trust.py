"""Gatekeeper and chain checks, with real keys and certificates (no mocks)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.certificates import issue
from node.crypto import SigningKey
from node.errors import AuthError
from node.federation.envelope import Signer
from node.federation.messages import SEARCH, Envelope
from node.federation.trust.grant import Enrolled, enrol_tree
from node.federation.trust.verify import SKEW_MS, ChainVerifier, Gatekeeper

NOW = 1_800_000_000.0
NODES = [
    ("33", "浙江省档案馆"),
    ("3301", "杭州市档案馆"),
    ("330106", "西湖区档案馆"),
    ("330110", "余杭区档案馆"),
    ("330106001", "北山街道档案室"),
    ("330106001001", "金鱼井社区档案室"),
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningKey, dict[str, Enrolled]]:
    root = SigningKey.generate()
    enrolled = enrol_tree(
        root,
        [(c, n, "127.0.0.1:1") for c, n in NODES],
        tmp_path_factory.mktemp("keys"),
        now_ms=int(NOW * 1000),
    )
    return root, enrolled


def gate(root: SigningKey, now: float = NOW) -> Gatekeeper:
    return Gatekeeper(ChainVerifier(root.public_key), clock=lambda: now)


def signer(e: Enrolled, now: float = NOW) -> Signer:
    return Signer(e.code, e.key, e.chain, clock=lambda: now)


def test_a_well_signed_call_is_admitted_once(tree) -> None:
    root, nodes = tree
    keeper = gate(root)
    env = signer(nodes["330106001001"]).seal(SEARCH, "3301", b"query")
    assert keeper.verify(env, SEARCH).node_id == "330106001001"
    with pytest.raises(AuthError, match="replayed nonce"):
        keeper.verify(env, SEARCH)


def test_signature_binds_the_method(tree) -> None:
    root, nodes = tree
    env = signer(nodes["330106"]).seal(SEARCH, "3301", b"q")
    with pytest.raises(AuthError, match="signature"):
        gate(root).verify(env, "/archive.v1.Federation/PushCatalogue")


@pytest.mark.parametrize("offset", [-(SKEW_MS / 1000 + 5), SKEW_MS / 1000 + 5])
def test_stale_and_future_timestamps_are_refused(tree, offset: float) -> None:
    root, nodes = tree
    env = signer(nodes["330106"], NOW + offset).seal(SEARCH, "3301", b"q")
    with pytest.raises(AuthError, match="timestamp"):
        gate(root).verify(env, SEARCH)


def test_key_not_in_the_certificate_is_refused(tree) -> None:
    root, nodes = tree
    e = nodes["330106"]
    rogue = Signer(e.code, SigningKey.generate(), e.chain, clock=lambda: NOW)
    with pytest.raises(AuthError, match="not the signer"):
        gate(root).verify(rogue.seal(SEARCH, "3301", b"q"), SEARCH)


def test_certificate_signed_by_a_sibling_is_refused(tree) -> None:
    root, nodes = tree
    sibling = nodes["330110"]
    key = SigningKey.generate()
    cert = issue(
        sibling.key,
        node_id="330106",
        name="假冒",
        public_key=key.public_key,
        address="",
        not_before_ms=0,
        not_after_ms=nodes["3301"].chain[0].not_after_ms,
        serial=9,
    )
    forged = Signer("330106", key, (cert, *nodes["3301"].chain), clock=lambda: NOW)
    with pytest.raises(AuthError, match="not signed by its issuer"):
        gate(root).verify(forged.seal(SEARCH, "3301", b"q"), SEARCH)


def test_self_signed_province_is_refused(tree) -> None:
    root, _ = tree
    key = SigningKey.generate()
    cert = issue(
        key,
        node_id="33",
        name="假省",
        public_key=key.public_key,
        address="",
        not_before_ms=0,
        not_after_ms=int(NOW * 1000) + 10**9,
        serial=1,
    )
    with pytest.raises(AuthError, match="not signed"):
        gate(root).verify(
            Signer("33", key, (cert,), clock=lambda: NOW).seal(SEARCH, "33", b""), SEARCH
        )


def test_expired_certificate_is_refused(tree) -> None:
    root, nodes = tree
    later = NOW + 400 * 24 * 3600
    env = signer(nodes["330106"], later).seal(SEARCH, "3301", b"q")
    with pytest.raises(AuthError, match="not valid now"):
        gate(root, later).verify(env, SEARCH)


def test_chain_with_a_missing_link_or_too_long_is_refused(tree) -> None:
    root, nodes = tree
    e = nodes["330106001001"]
    gap = Signer(e.code, e.key, (e.chain[0], *e.chain[2:]), clock=lambda: NOW)
    with pytest.raises(AuthError, match="parent"):
        gate(root).verify(gap.seal(SEARCH, "3301", b"q"), SEARCH)
    long = Signer(e.code, e.key, (*e.chain, e.chain[-1]), clock=lambda: NOW)
    with pytest.raises(AuthError, match="links"):
        gate(root).verify(long.seal(SEARCH, "3301", b"q"), SEARCH)


def test_wrong_level_claim_is_refused(tree) -> None:
    root, nodes = tree
    e = nodes["330106"]
    bad = replace(e.chain[0], level=3)
    with pytest.raises(AuthError, match="level"):
        gate(root).verify(
            Signer(e.code, e.key, (bad, *e.chain[1:]), clock=lambda: NOW).seal(SEARCH, "3301", b""),
            SEARCH,
        )


FIELDS = [
    "origin",
    "destination",
    "key_id",
    "timestamp_ms",
    "nonce",
    "transaction_id",
    "relayed",
    "payload",
    "signature",
]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), data=st.data())
def test_any_change_to_a_signed_envelope_fails(tree, field: str, data: st.DataObject) -> None:
    root, nodes = tree
    env = signer(nodes["330106001001"]).seal(SEARCH, "3301", b"payload-bytes")
    value = getattr(env, field)
    if isinstance(value, bool):
        changed: object = not value
    elif isinstance(value, int):
        changed = value + data.draw(st.integers(1, 1000))
    else:
        raw = bytearray(value.encode() if isinstance(value, str) else value)
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
        changed = bytes(raw) if isinstance(value, bytes) else raw.decode("latin-1")
    tampered: Envelope = replace(env, **{field: changed})
    with pytest.raises(AuthError):
        gate(root).verify(tampered, SEARCH)
    gate(root).verify(env, SEARCH)  # the untouched envelope still verifies


def test_a_cached_chain_is_still_checked_for_validity_and_tampering(tree) -> None:
    root, nodes = tree
    verifier = ChainVerifier(root.public_key)
    chain = nodes["330106001001"].chain
    verifier.verify(chain, int(NOW * 1000))
    verifier.verify(chain, int(NOW * 1000))  # from the cache
    with pytest.raises(AuthError, match="not valid now"):
        verifier.verify(chain, chain[0].not_after_ms + 1)
    forged = (replace(chain[0], signature=bytes(64)), *chain[1:])
    with pytest.raises(AuthError, match="not signed by its issuer"):
        verifier.verify(forged, int(NOW * 1000))


def test_enrolment_keeps_keys_and_bounds_lifetimes(tmp_path: Path) -> None:
    root = SigningKey.generate()
    first = enrol_tree(root, [(c, n, "") for c, n in NODES], tmp_path, now_ms=int(NOW * 1000))
    again = enrol_tree(root, [(c, n, "") for c, n in NODES], tmp_path, now_ms=int(NOW * 1000) + 5)
    for code in first:
        assert first[code].key.public_key == again[code].key.public_key
        chain = again[code].chain
        assert all(a.not_after_ms <= b.not_after_ms for a, b in pairwise(chain))


def _encoded_call(tree, relayed: bool) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    from node.rpc.codec import ProtobufCodec

    _, nodes = tree
    codec = ProtobufCodec()
    call = signer(nodes["330106001001"]).seal(SEARCH, "33", b"query text")
    if not relayed:
        return codec.encode(call), "330106001001"
    wrapped = signer(nodes["330106001"]).seal(SEARCH, "330106", codec.encode(call), relayed=True)
    return codec.encode(wrapped), "330106001"


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(relayed=st.booleans(), data=st.data())
def test_any_one_byte_change_of_an_encoded_envelope_fails(
    tree, relayed: bool, data: st.DataObject
) -> None:
    """Flip any one byte of a signed envelope as it travels: it never decodes and verifies.

    For a relayed call the hop's envelope and the originator's inside it must both verify,
    as ``FederationServer._admit`` does.
    """
    from node.errors import NodeError
    from node.rpc.codec import ProtobufCodec

    codec = ProtobufCodec()
    encoded, _ = _encoded_call(tree, relayed)
    index = data.draw(st.integers(0, len(encoded) - 1), label="index")
    delta = data.draw(st.integers(1, 255), label="delta")
    mutated = bytearray(encoded)
    mutated[index] = (mutated[index] + delta) % 256
    keeper = gate(tree[0])
    with pytest.raises(NodeError):
        outer = codec.decode(Envelope, bytes(mutated))
        keeper.verify(outer, SEARCH)
        if relayed:
            keeper.verify(codec.decode(Envelope, outer.payload), SEARCH)


def test_every_byte_position_of_an_envelope_is_covered(tree) -> None:
    """The exhaustive companion of the property: each position, one change."""
    from node.errors import NodeError
    from node.rpc.codec import ProtobufCodec

    codec = ProtobufCodec()
    encoded, _ = _encoded_call(tree, relayed=False)
    for index in range(len(encoded)):
        mutated = bytearray(encoded)
        mutated[index] ^= 0x01
        with pytest.raises(NodeError):
            gate(tree[0]).verify(codec.decode(Envelope, bytes(mutated)), SEARCH)
