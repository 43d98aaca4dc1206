"""eddsa-jcs-2022 against the W3C test vectors (tests/data/vc-di-eddsa/SOURCE.md names them).

The proof is re-created from the spec's key and unsigned document and must equal the spec's
``proofValue`` byte for byte (Ed25519 signatures are deterministic), then verified, and a
changed document or proof is refused.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from node import crypto, dataintegrity

VECTORS = Path(__file__).parent / "data" / "vc-di-eddsa"


def _load(name: str) -> dict:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture()
def key() -> crypto.SigningKey:
    pair = _load("keyPair.json")
    signing = crypto.SigningKey(crypto.seed_from_multikey(pair["privateKeyMultibase"]))
    assert signing.public_key == crypto.public_key_from_multikey(pair["publicKeyMultibase"])
    return signing


def test_the_spec_proof_value_is_reproduced_exactly(key: crypto.SigningKey) -> None:
    signed = _load("signedJCS.json")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    spec = signed["proof"]
    proof = dataintegrity.create_proof(
        unsigned, key, created=spec["created"], verification_method=spec["verificationMethod"]
    )
    assert proof == spec
    assert proof["proofValue"] == (
        "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
    )
    signature = crypto.multibase_decode(proof["proofValue"])
    assert signature.hex() == (VECTORS / "sigHexJCS.txt").read_text().strip()


def test_the_spec_credential_verifies_and_a_change_does_not(key: crypto.SigningKey) -> None:
    signed = _load("signedJCS.json")
    assert dataintegrity.proof_problem(signed, key.public_key) is None
    changed = copy.deepcopy(signed)
    changed["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    assert "签名不符" in (dataintegrity.proof_problem(changed, key.public_key) or "")
    changed = copy.deepcopy(signed)
    changed["proof"]["created"] = "2023-02-24T23:36:39Z"
    assert "签名不符" in (dataintegrity.proof_problem(changed, key.public_key) or "")
    other = crypto.SigningKey(bytes(32))
    assert "签名不符" in (dataintegrity.proof_problem(signed, other.public_key) or "")


def test_a_proof_context_other_than_the_document_s_is_refused(key: crypto.SigningKey) -> None:
    signed = _load("signedJCS.json")
    signed["proof"]["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    assert "@context" in (dataintegrity.proof_problem(signed, key.public_key) or "")


def test_the_did_key_of_the_spec_key_is_its_multikey(key: crypto.SigningKey) -> None:
    multikey = _load("keyPair.json")["publicKeyMultibase"]
    assert dataintegrity.did_key(key.public_key) == f"did:key:{multikey}#{multikey}"


@pytest.mark.parametrize("text", ["", "x", "z0OIl", "z" + "1" * 500, 7, None, "z\u4e2d"])
def test_bad_multibase_is_invalid_input(text: object) -> None:
    with pytest.raises(crypto.InvalidInput):
        crypto.multibase_decode(text)
