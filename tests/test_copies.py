"""Certified copies: issued by the holder, verified offline against the root key alone.

Every refusal is checked with real keys and certificates: a changed byte of the copy or of
its content, a swapped chain, a chain under another root, a certificate expired before the
copy was issued, a copy whose signer is not the holder it names; and malformed documents are
refused with a reason, never an exception.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from copies_helpers import CONTENT, ISSUED_AT, facts, issued, tree
from hypothesis import given, settings
from hypothesis import strategies as st

from node import copies, crypto, dataintegrity
from node.certificates import Certificate
from node.errors import InvalidInput


def test_an_issued_copy_verifies_with_its_content() -> None:
    t = tree()
    copy = issued(t)
    verdict = copies.verify(copy.document, t.root.public_key, CONTENT)
    assert verdict.ok, verdict.reasons
    assert verdict.facts == copy.facts
    assert verdict.code == copy.code
    assert verdict.issuer_name == "余杭区档案馆"
    assert verdict.certificate_valid_at_issue
    assert copy.verify_url == f"http://127.0.0.1:8080/n/330110/verify?code={copy.code}"


def test_the_copy_is_a_w3c_credential_with_an_eddsa_jcs_proof() -> None:
    copy = issued()
    data = json.loads(copy.document)
    assert data["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert data["type"] == ["VerifiableCredential", "ArchiveCopyCredential"]
    assert data["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert data["proof"]["type"] == "DataIntegrityProof"
    assert data["credentialSubject"]["archivalCode"] == "J001-HY·1966-Y-0007"
    assert data["credentialSubject"]["consultedOn"] == "2026-12-04"
    assert len(data["issuer"]["certificateChain"]) == 3
    # any conforming verifier can check it: the proof alone, with the leaf's key
    leaf = crypto.public_key_from_multikey(data["proof"]["verificationMethod"].split("#")[1])
    assert dataintegrity.proof_problem(data, leaf) is None


def test_the_code_is_twelve_crockford_characters_in_groups() -> None:
    code = issued().code
    assert len(code) == 14 and code[4] == code[9] == "-"
    assert copies.normalise_code(code.lower().replace("-", " ")) == code
    assert issued(request_id="req-other").code != code


@pytest.mark.parametrize("typed", ["", "ABC", "UUUU-UUUU-UUUU", "1234-5678-90AB-C", 12, None])
def test_a_mistyped_code_is_refused_in_chinese(typed: object) -> None:
    with pytest.raises(InvalidInput, match="核验码"):
        copies.normalise_code(typed)


def test_changing_any_single_byte_of_the_copy_is_refused() -> None:
    t = tree()
    document = issued(t).document
    positions = sorted({*range(0, len(document), max(1, len(document) // 300)), len(document) - 1})
    for position in positions:
        for delta in (1, 0x20):
            changed = bytearray(document)
            changed[position] = (changed[position] + delta) % 256
            verdict = copies.verify(bytes(changed), t.root.public_key)
            assert not verdict.ok, f"byte {position} changed by {delta} still verifies"
            assert all(isinstance(r, str) and r for r in verdict.reasons)


def test_a_reformatted_copy_is_refused_although_its_values_are_the_same() -> None:
    t = tree()
    data = json.loads(issued(t).document)
    pretty = json.dumps(data, ensure_ascii=False, indent=2).encode()
    verdict = copies.verify(pretty, t.root.public_key)
    assert verdict.reasons == ("文件不是出证时的原样：JSON 的字符或排版被改动过",)


def test_changed_content_is_refused() -> None:
    t = tree()
    document = issued(t).document
    for position in (0, len(CONTENT) // 2, len(CONTENT) - 1):
        changed = bytearray(CONTENT)
        changed[position] ^= 1
        verdict = copies.verify(document, t.root.public_key, bytes(changed))
        assert not verdict.ok
        assert any("所附档案内容" in r for r in verdict.reasons)
    verdict = copies.verify(document, t.root.public_key, CONTENT + b"\n")
    assert any("所附档案内容" in r for r in verdict.reasons)


def _resigned(data: dict, key: crypto.SigningKey) -> bytes:
    """``data`` signed anew by ``key``: a forger who controls that key."""
    data = {k: v for k, v in data.items() if k != "proof"}
    signed = dataintegrity.sign(
        data,
        key,
        created=data["validFrom"],
        verification_method=dataintegrity.did_key(key.public_key),
    )
    return dataintegrity.canonical(signed)


def test_a_swapped_chain_is_refused() -> None:
    t, other = tree(), tree(seed=1)
    data = json.loads(issued(t).document)
    # another county's chain under the same root, carried by the same signed copy
    stranger = tree(seed=2).chain
    data["issuer"]["certificateChain"] = [c.to_json() for c in stranger]
    verdict = copies.verify(dataintegrity.canonical(data), other.root.public_key)
    assert any("签名所称的密钥" in r for r in verdict.reasons)
    assert any("签名不符" in r for r in verdict.reasons)


def test_a_chain_under_another_root_is_refused_even_when_self_consistent() -> None:
    t, forger = tree(), tree(seed=9)
    verdict = copies.verify(issued(forger).document, t.root.public_key, CONTENT)
    assert not verdict.ok and not verdict.certificate_valid_at_issue
    assert any("根密钥" in r for r in verdict.reasons)


def test_a_certificate_expired_before_the_issue_time_is_refused() -> None:
    expired_at = int(ISSUED_AT.timestamp()) * 1000 - 1000
    t = tree(county_not_after_ms=expired_at)
    verdict = copies.verify(issued(t).document, t.root.public_key, CONTENT)
    assert not verdict.certificate_valid_at_issue
    assert [r for r in verdict.reasons] == [
        "余杭区档案馆（330110）的证书在出证时间 2026-12-04T03:50:00Z 不在有效期内"
        "（2025-12-04T03:50:00Z 至 2026-12-04T03:49:59Z）"
    ]


def test_a_copy_naming_another_holder_than_its_signer_is_refused() -> None:
    t = tree()
    data = json.loads(issued(t).document)
    data["credentialSubject"]["holder"]["id"] = "urn:archive-node:node:330106"
    data["issuer"]["id"] = "urn:archive-node:node:330106"
    verdict = copies.verify(_resigned(data, t.holder_key), t.root.public_key)
    assert verdict.reasons == (
        "签发机构证书属于 330110，而证明所称的馆藏单位是 330106：不是馆藏单位出具的证明",
    )


def test_issue_refuses_a_key_that_is_not_the_chain_s_leaf() -> None:
    t = tree()
    with pytest.raises(InvalidInput, match="证书链不符"):
        copies.issue(facts(), crypto.SigningKey(bytes(32)), t.chain, "http://x")
    with pytest.raises(InvalidInput, match="证书链不符"):
        copies.issue(facts(holder="330106"), t.holder_key, t.chain, "http://x")


@pytest.mark.parametrize(
    "changes",
    [
        {"archival_code": "J002-HY·1966-Y-0007"},
        {"category": "学籍"},
        {"content_sha256": "AB" * 32},
        {"content_size": 2**53},
        {"issued_at": ISSUED_AT.replace(tzinfo=None)},
        {"issued_at": ISSUED_AT.replace(microsecond=5)},
        {"requester": "12345"},
        {"purpose": "x" * 201},
        {"year": True},
    ],
)
def test_facts_are_checked_once_when_built(changes: dict) -> None:
    with pytest.raises(InvalidInput):
        facts(**changes)


MALFORMED = [
    b"",
    b"\xff\xfe",
    b"[]",
    b"null",
    b'"x"',
    b"{}",
    b'{"a": 1, "a": 2}',
    b'{"x": NaN}',
    b'{"x": 1.5}',
    b"[" * 100_000,
    b" " * (copies.MAX_DOCUMENT_BYTES + 1),
    b"%PDF-1.7 not json",
]


@pytest.mark.parametrize("document", MALFORMED)
def test_a_malformed_document_is_refused_with_a_reason(document: bytes) -> None:
    verdict = copies.verify(document, tree().root.public_key)
    assert not verdict.ok and verdict.reasons[0].startswith("不是有效的档案证明：")


def _replace_path(data: dict, path: tuple[str, ...], value: object) -> dict:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


FIELDS = [
    ("issuer",),
    ("issuer", "certificateChain"),
    ("credentialSubject",),
    ("credentialSubject", "year"),
    ("credentialSubject", "content", "size"),
    ("credentialSubject", "holder", "id"),
    ("credentialSubject", "consultedOn"),
    ("validFrom",),
    ("proof",),
    ("proof", "proofValue"),
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(FIELDS), value=VALUES)
def test_any_field_of_any_type_gets_a_verdict_not_a_crash(path: tuple, value: object) -> None:
    t = tree()
    data = _replace_path(json.loads(issued(t).document), path, value)
    document = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
    verdict = copies.verify(document, t.root.public_key)
    assert not verdict.ok and all(isinstance(r, str) for r in verdict.reasons)


def test_a_copy_from_a_different_tree_with_the_same_facts_has_another_code() -> None:
    assert issued(tree(seed=3)).code != issued(tree(seed=4)).code
    assert replace(facts(), purpose="x").purpose == "x"


def test_read_gives_back_the_issued_copy() -> None:
    copy = issued()
    assert copies.read(copy.document) == copy
    with pytest.raises(InvalidInput):
        copies.read(b"{}")


def test_a_directory_that_knows_a_revocation_before_the_issue_time_refuses_the_copy() -> None:
    t = tree()
    copy = issued(t)
    seen: list[tuple[str, int]] = []

    def revoked(cert: Certificate, at_ms: int) -> str | None:
        seen.append((cert.node_id, at_ms))
        return "certificate of 330110 is revoked" if cert.node_id == "330110" else None

    verdict = copies.verify(copy.document, t.root.public_key, CONTENT, revoked=revoked)
    assert not verdict.certificate_valid_at_issue
    assert any("出证前已被吊销" in r for r in verdict.reasons)
    assert seen == [(c, copy.facts.issued_at_ms) for c in ("330110", "3301", "33")]
    assert copies.verify(copy.document, t.root.public_key, CONTENT, revoked=lambda c, a: None).ok


@pytest.mark.parametrize("value", [2**53, 2**63 - 1, -(2**60)])
def test_an_integer_json_cannot_carry_exactly_is_refused_not_raised(value: int) -> None:
    t = tree()
    data = json.loads(issued(t).document)
    data["issuer"]["certificateChain"][0]["serial"] = value
    verdict = copies.verify(json.dumps(data).encode(), t.root.public_key)
    assert verdict.reasons[0].startswith("不是有效的档案证明：")
