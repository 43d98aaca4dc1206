"""W3C Data Integrity proofs, cryptosuite ``eddsa-jcs-2022`` (the only user of ``rfc8785``).

A certified copy (``copies.py``) is a Verifiable Credential signed this way, so that a bank
or a court can check it with any conforming verifier rather than with our code alone. The
cryptosuite (W3C "Data Integrity EdDSA Cryptosuites v1.0", section 3.3) is:

- the proof configuration is the proof without ``proofValue`` and, if the document has an
  ``@context``, with that ``@context``; the document is the credential without ``proof``;
- both are canonicalised by JCS (RFC 8785);
- the signed bytes are SHA-256(canonical proof configuration) || SHA-256(canonical document);
- the Ed25519 signature is the ``proofValue``, written as multibase base58btc.

``tests/test_dataintegrity.py`` reproduces the spec's test vector's ``proofValue`` exactly
from the spec's key and document (``tests/data/vc-di-eddsa/``).
"""

from __future__ import annotations

import copy
from typing import Any

import rfc8785

from node import crypto
from node.errors import InvalidInput

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"

Json = dict[str, Any]


def canonical(value: object) -> bytes:
    """``value`` in RFC 8785 canonical form, else ``InvalidInput`` (an integer beyond the
    ±2**53 that JSON numbers carry exactly, NaN, a lone surrogate...)."""
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]  # any value: it is checked
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"无法规范化为 JCS（RFC 8785）: {type(exc).__name__}") from None


def did_key(public_key: bytes) -> str:
    """The ``did:key`` verification method of an Ed25519 key (``did:key:z6Mk...#z6Mk...``)."""
    multikey = crypto.public_multikey(public_key)
    return f"did:key:{multikey}#{multikey}"


def hash_data(document: Json, proof_config: Json) -> bytes:
    """What the signature covers: SHA-256 of each canonical form, proof configuration first."""
    return crypto.sha256(canonical(proof_config)) + crypto.sha256(canonical(document))


def _proof_config(document: Json, proof: Json) -> Json:
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in document:
        config["@context"] = document["@context"]
    return config


def create_proof(
    document: Json, key: crypto.SigningKey, *, created: str, verification_method: str
) -> Json:
    """The ``proof`` object for ``document`` (which carries no proof) signed by ``key``."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof: Json = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    config = _proof_config(unsecured, proof)
    signature = key.sign(hash_data(unsecured, config))
    return {**config, "proofValue": crypto.multibase_encode(signature)}


def sign(document: Json, key: crypto.SigningKey, *, created: str, verification_method: str) -> Json:
    """``document`` with its ``proof`` added (a new dict; ``document`` is not changed)."""
    secured = copy.deepcopy(document)
    secured["proof"] = create_proof(
        document, key, created=created, verification_method=verification_method
    )
    return secured


def proof_problem(secured: Json, public_key: bytes) -> str | None:
    """``None`` if ``secured``'s proof is a valid ``eddsa-jcs-2022`` proof by ``public_key``,
    else what is wrong with it (zh-CN, for the verdict a person reads)."""
    proof = secured.get("proof")
    if not isinstance(proof, dict):
        return "证明文件没有签名（proof）"
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return f"签名类型不是 {PROOF_TYPE} / {CRYPTOSUITE}"
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        return f"签名用途不是 {PROOF_PURPOSE}"
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    # the spec: a proof's @context, if present, must be the document's (it is signed with it)
    if "@context" in proof and proof["@context"] != unsecured.get("@context"):
        return "签名的 @context 与文件的 @context 不一致"
    try:
        signature = crypto.multibase_decode(proof.get("proofValue"))
        signed = hash_data(unsecured, {k: v for k, v in proof.items() if k != "proofValue"})
    except InvalidInput as exc:
        return f"签名值无法读取：{exc}"
    if not crypto.verify(public_key, signed, signature):
        return "签名不符：证明文件的内容在签发后被改动过，或不是由所称的机构签发"
    return None
