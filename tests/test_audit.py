"""The audit log's domain rules: the chain, checkpoints' signatures, masking, query limits."""

from __future__ import annotations

import pytest

from node.audit import (
    GENESIS,
    MASK,
    AuditQuery,
    Checkpoint,
    audit_query,
    detail_text,
    entry_hash,
    extend,
    link,
    redact,
)
from node.crypto import SigningKey
from node.errors import InvalidInput


def test_the_chain_depends_on_every_entry_and_its_order() -> None:
    a, b = entry_hash(1, "anonymous", "search", "33", "{}"), entry_hash(2, "x", "fetch", "", "{}")
    assert extend(GENESIS, [a, b]) == link(link(GENESIS, a), b)
    assert extend(GENESIS, [a, b]) != extend(GENESIS, [b, a])
    # length-prefixed fields: moving text from one field to the next changes the hash
    assert entry_hash(1, "ab", "c", "", "{}") != entry_hash(1, "a", "bc", "", "{}")


def test_a_checkpoint_verifies_only_with_its_key_and_fields() -> None:
    key = SigningKey.generate()
    unsigned = Checkpoint("330106", 5, bytes(32), 1000, key.key_id)
    signed = Checkpoint(
        "330106", 5, bytes(32), 1000, key.key_id, key.sign(unsigned.signing_input())
    )
    assert signed.signed_by(key.public_key)
    assert not signed.signed_by(SigningKey.generate().public_key)
    moved = Checkpoint("330106", 6, bytes(32), 1000, key.key_id, signed.signature)
    assert not moved.signed_by(key.public_key)


def test_identity_numbers_are_masked_everywhere_in_a_detail() -> None:
    for number in ("33010619800101123X", "330106198001011234", "330106800101123"):
        assert number not in detail_text({"q": f"张三{number}", "list": [{"n": number}]})
    assert redact("330106001001") == "330106001001"  # a village code stays
    assert redact("电话 13800138000") == "电话 13800138000"  # 11 digits: not an identity number
    assert MASK in redact("身份证 33010619800101123x")


def test_query_limits_are_checked_once() -> None:
    for bad in ({"limit": 0}, {"limit": 201}, {"before": -1}, {"before": "1e9"}, {"limit": True}):
        with pytest.raises(InvalidInput):
            audit_query(**bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        audit_query(actor="x" * 201)
    assert audit_query(before="12", limit="3") == AuditQuery(before=12, limit=3)
