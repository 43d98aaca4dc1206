"""Invariants a plausible one-line bug would break with the rest of the suite green (issue 9,
item 11): a child certificate may not outlive its parent's, and fetched content must match
its manifest's sha256 whether or not the manifest lists chunk hashes. Real keys, real
certificates, the real verifier and the real chunk checker; no mocks.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import pytest

from node.certificates import Certificate, issue
from node.crypto import SigningKey
from node.errors import AuthError
from node.federation.envelope import Signer
from node.federation.messages import SEARCH, ContentManifest
from node.federation.services.retrieval import _verified
from node.federation.trust.verify import ChainVerifier, Gatekeeper

NOW_MS = 1_800_000_000_000
DAY_MS = 24 * 3600 * 1000


def _chain(city_not_after_ms: int) -> tuple[SigningKey, SigningKey, tuple[Certificate, ...]]:
    """Root -> province (valid for 30 days) -> city, every link well signed by its issuer."""
    root, province_key, city_key = (
        SigningKey.generate(),
        SigningKey.generate(),
        SigningKey.generate(),
    )
    province = issue(
        root,
        node_id="33",
        name="浙江省档案馆",
        public_key=province_key.public_key,
        address="127.0.0.1:1",
        not_before_ms=NOW_MS - DAY_MS,
        not_after_ms=NOW_MS + 30 * DAY_MS,
        serial=1,
    )
    city = issue(
        province_key,
        node_id="3301",
        name="杭州市档案馆",
        public_key=city_key.public_key,
        address="127.0.0.1:2",
        not_before_ms=NOW_MS - DAY_MS,
        not_after_ms=city_not_after_ms,
        serial=2,
    )
    return root, city_key, (city, province)


def test_a_child_certificate_that_outlives_its_parents_is_refused() -> None:
    # Checked now, while both links are inside their windows: only "outlives" can refuse it.
    # Otherwise a parent about to expire (or a stolen parent key used in its last hour)
    # could mint a child that goes on being believed after the parent itself is not.
    root, _, chain = _chain(NOW_MS + 365 * DAY_MS)
    assert all(cert.valid_at(NOW_MS) for cert in chain)
    assert chain[0].signed_by(chain[1].public_key) and chain[1].signed_by(root.public_key)
    with pytest.raises(AuthError, match="outlives its parent"):
        ChainVerifier(root.public_key).verify(chain, NOW_MS)


def test_the_same_call_signed_under_such_a_chain_is_refused() -> None:
    root, city_key, chain = _chain(NOW_MS + 365 * DAY_MS)
    envelope = Signer("3301", city_key, chain, clock=lambda: NOW_MS / 1000).seal(SEARCH, "33", b"q")
    gatekeeper = Gatekeeper(ChainVerifier(root.public_key), clock=lambda: NOW_MS / 1000)
    with pytest.raises(AuthError, match="outlives its parent"):
        gatekeeper.verify(envelope, SEARCH)


def test_a_child_ending_with_its_parent_is_believed() -> None:
    # the guard: the refusal above is about the end date, not about the chain
    root, _, chain = _chain(NOW_MS + 30 * DAY_MS)
    assert ChainVerifier(root.public_key).verify(chain, NOW_MS).node_id == "3301"


# -- fetched content against its manifest -------------------------------------------------------

CHUNK = 4
CONTENT = b"0123456789"  # three chunks of at most 4 bytes
PIECES = (b"0123", b"4567", b"89")


def _manifest(sha256: str, chunk_sha256: Sequence[bytes]) -> ContentManifest:
    return ContentManifest(
        holder="330106",
        record_id="HY-2015-0001",
        version=1,
        file_name="a.txt",
        media_type="text/plain",
        size=len(CONTENT),
        sha256=sha256,
        chunk_size=CHUNK,
        chunk_sha256=tuple(chunk_sha256),
        title="结婚登记档案",
        archival_code="J001-HY·2015-Y-0001",
    )


async def _chunks(pieces: Sequence[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def _read(manifest: ContentManifest, pieces: Sequence[bytes] = PIECES) -> list[bytes]:
    received = []
    async for chunk in _verified(manifest, _chunks(pieces)):
        received.append(chunk)
    return received


RIGHT = hashlib.sha256(CONTENT).hexdigest()
WRONG = hashlib.sha256(b"something else").hexdigest()
HASHES = [hashlib.sha256(piece).digest() for piece in PIECES]


@pytest.mark.asyncio
async def test_a_wrong_sha256_without_chunk_hashes_is_refused_before_any_byte() -> None:
    received: list[bytes] = []
    with pytest.raises(AuthError):
        async for chunk in _verified(_manifest(WRONG, ()), _chunks(PIECES)):
            received.append(chunk)
    # refused before any unchecked byte is passed on: with no chunk hashes there is nothing
    # to check a chunk against until the end, when the bytes would already be out
    assert received == []


@pytest.mark.asyncio
async def test_content_whose_sha256_disagrees_is_refused_even_when_every_chunk_matches() -> None:
    with pytest.raises(AuthError, match="does not match its sha256"):
        await _read(_manifest(WRONG, HASHES))


@pytest.mark.asyncio
async def test_fewer_chunks_than_the_manifest_lists_are_refused() -> None:
    # size and sha256 fit the two chunks that came; the manifest's list says three
    two = replace(_manifest(hashlib.sha256(CONTENT[:8]).hexdigest(), HASHES), size=8)
    with pytest.raises(AuthError, match="chunks"):
        await _read(two, PIECES[:2])


@pytest.mark.asyncio
async def test_content_that_matches_its_manifest_passes() -> None:
    assert b"".join(await _read(_manifest(RIGHT, HASHES))) == CONTENT
    empty = replace(_manifest(hashlib.sha256(b"").hexdigest(), ()), size=0)
    assert await _read(empty, ()) == []
