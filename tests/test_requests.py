"""The utilisation request's domain: fields checked once, states, signed changes, sealing."""

from __future__ import annotations

import re

import pytest

from node.audit import redact
from node.citizens import IdNumber, check_character
from node.crypto import SigningKey
from node.errors import InvalidInput
from node.requests import (
    Attorney,
    PersonalPart,
    Relationship,
    State,
    StateChange,
    UtilisationRequest,
    allowed,
    new_request_id,
)

BODY = "33011019660512002"
NUMBER = IdNumber.parse(BODY + check_character(BODY))


def request(**changes: object) -> UtilisationRequest:
    fields: dict[str, object] = {
        "request_id": new_request_id("330106001001"), "holder": "330110",
        "record_id": "T-HY-1966-0001", "requesting_node": "330106001001", "clerk": "wang",
        "purpose": "办理退休", "relationship": Relationship.SELF, "created_ms": 1,
    }  # fmt: skip
    fields.update(changes)
    return UtilisationRequest(**fields)  # type: ignore[arg-type]


def test_a_request_id_never_looks_like_an_identity_number_to_the_audit_log() -> None:
    for _ in range(200):
        rid = new_request_id("330106001001")
        assert redact(rid) == rid and re.fullmatch(r"330106001001-[a-z2-7]{10}", rid)


@pytest.mark.parametrize(
    "changes",
    [
        {"request_id": "bad"},
        {"request_id": "330106002001-abcdefghij"},  # not the requesting node's
        {"holder": "9"},
        {"record_id": "../x"},
        {"purpose": ""},
        {"purpose": "x" * 201},
        {"clerk": ""},
        {"relationship": "本人"},  # a plain string is not a Relationship
        {"created_ms": -1},
    ],
)
def test_bad_fields_are_refused_at_the_boundary(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        request(**changes)


def test_only_the_allowed_moves_are_allowed() -> None:
    assert allowed(State.SUBMITTED, State.APPROVED, by_holder=True)
    assert allowed(State.SUBMITTED, State.WITHDRAWN, by_holder=False)
    assert allowed(State.APPROVED, State.DELIVERED, by_holder=False)
    assert not allowed(State.SUBMITTED, State.APPROVED, by_holder=False)  # the clerk cannot
    assert not allowed(State.REJECTED, State.APPROVED, by_holder=True)
    assert not allowed(State.DELIVERED, State.WITHDRAWN, by_holder=False)


def test_a_state_change_verifies_only_unchanged_and_under_its_key() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    change = StateChange(
        request().request_id, "330110", State.APPROVED, "开放档案", 5, "330110", key.key_id
    ).signed(key)
    assert change.verify(key.public_key)
    assert not change.verify(other.public_key)
    from dataclasses import replace

    assert not replace(change, state=State.REJECTED).verify(key.public_key)
    assert not replace(change, reason="改").verify(key.public_key)


def test_the_personal_part_opens_only_with_the_holders_key_and_hides_the_number() -> None:
    holder, relay = SigningKey.generate(), SigningKey.generate()
    part = PersonalPart("王秀英", NUMBER, Attorney("application/pdf", b"%PDF-1.4 ..."))
    sealed = part.seal(holder.public_key)
    assert NUMBER.digits.encode() not in sealed and "王秀英".encode() not in sealed
    assert PersonalPart.from_bytes(holder.unseal(sealed)) == part
    with pytest.raises(Exception):  # noqa: B017  (nacl's CryptoError: not for this key)
        relay.unseal(sealed)
    assert NUMBER.digits not in repr(part)


def test_a_broken_personal_part_says_so_without_its_content() -> None:
    with pytest.raises(InvalidInput) as caught:
        PersonalPart.from_bytes(b'{"name": "x", "id": "' + NUMBER.digits.encode() + b'0"}')
    assert NUMBER.digits not in str(caught.value)


def test_an_attorney_must_be_a_document_of_bounded_size() -> None:
    with pytest.raises(InvalidInput):
        Attorney("text/html", b"<script>")
    with pytest.raises(InvalidInput):
        Attorney("application/pdf", b"")
