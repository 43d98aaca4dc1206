"""The replay window: the skew bound pinned in seconds, and nonces kept in the database.

The bound is written here as 119 s and 121 s, not as ``SKEW_MS``, so widening it (or
narrowing it) fails a test. ``SeenNonces`` runs on a real SQLite file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from node.crypto import SigningKey
from node.errors import AuthError
from node.federation.envelope import Signer
from node.federation.messages import RENEW, SEARCH
from node.federation.trust.grant import Enrolled, enrol_tree
from node.federation.trust.verify import NONCE_TTL_MS, ChainVerifier, Gatekeeper
from node.storage.db import Database
from node.storage.trust import SeenNonces

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningKey, Enrolled]:
    root = SigningKey.generate()
    nodes = [("33", "浙江省档案馆", ""), ("3301", "杭州市档案馆", "")]
    issued = int(NOW * 1000) - 24 * 3600 * 1000  # a day before: valid at every clock below
    enrolled = enrol_tree(root, nodes, tmp_path_factory.mktemp("keys"), now_ms=issued)
    return root, enrolled["3301"]


@pytest.mark.parametrize(
    ("age_s", "admitted"),
    [(119, True), (121, False), (-119, True), (-121, False)],  # negative: from the future
)
def test_the_skew_bound_is_two_minutes(
    city: tuple[SigningKey, Enrolled], age_s: int, admitted: bool
) -> None:
    root, node = city
    envelope = Signer(node.code, node.key, node.chain, clock=lambda: NOW).seal(SEARCH, "33", b"")
    gate = Gatekeeper(ChainVerifier(root.public_key), clock=lambda: NOW + age_s)
    if admitted:
        assert gate.verify(envelope, SEARCH).node_id == "3301"
    else:
        with pytest.raises(AuthError, match="off this node's clock"):
            gate.verify(envelope, SEARCH)


def test_nonces_are_remembered_for_twice_the_bound() -> None:
    assert NONCE_TTL_MS == 240_000  # every call within the bound is still remembered


@pytest.mark.asyncio
async def test_a_claimed_nonce_is_refused_by_a_new_gatekeeper_on_the_same_database(
    city: tuple[SigningKey, Enrolled], tmp_path: Path
) -> None:
    root, node = city
    envelope = Signer(node.code, node.key, node.chain, clock=lambda: NOW).seal(RENEW, "33", b"")
    db = Database(tmp_path / "node.db")
    await db.open()
    try:
        before = Gatekeeper(ChainVerifier(root.public_key), lambda: NOW, SeenNonces(db))
        before.verify(envelope, RENEW)
        await before.claim_nonce(envelope)
        # the restarted node: an empty in-memory cache, the same database
        after = Gatekeeper(ChainVerifier(root.public_key), lambda: NOW + 60, SeenNonces(db))
        after.verify(envelope, RENEW)  # the in-memory check alone lets it through
        with pytest.raises(AuthError, match="replayed nonce from 3301"):
            await after.claim_nonce(envelope)
        # released after a failure that applied nothing: its identical retry may run
        await after.release_nonce(envelope)
        await after.claim_nonce(envelope)
    finally:
        await db.close()


@pytest.mark.asyncio
async def test_seen_nonces_are_pruned_by_time(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.db")
    await db.open()
    try:
        nonces = SeenNonces(db)
        assert await nonces.claim("3301", b"a" * 16, expires_ms=1_000, now_ms=0)
        assert not await nonces.claim("3301", b"a" * 16, expires_ms=1_500, now_ms=500)
        assert await nonces.claim("330106", b"a" * 16, expires_ms=1_500, now_ms=500)  # per origin
        assert await nonces.count() == 2
        # once expired the row is pruned by the next claim, and the nonce is free again
        assert await nonces.claim("3301", b"b" * 16, expires_ms=3_000, now_ms=1_000)
        assert await nonces.count() == 2
        assert await nonces.claim("3301", b"a" * 16, expires_ms=4_000, now_ms=2_000)
    finally:
        await db.close()
