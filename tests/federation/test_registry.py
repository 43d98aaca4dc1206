"""The directory log and what it says: events, the signed head, revocation and retirement."""

from __future__ import annotations

import asyncio

import pytest

from node.certificates import issue
from node.crypto import SigningKey
from node.errors import AuthError, Overloaded, PeerUnavailable, ProtocolError
from node.federation.admission import Admission
from node.federation.trust.events import (
    Alias,
    DirectoryHead,
    Retirement,
    Revocation,
    TrustState,
    check_events,
    decode_event,
    encode_event,
    may_report,
    verify_head,
)

NOW = 1_800_000_000_000
DAY = 24 * 3600 * 1000


def _cert(issuer: SigningKey, code: str, key: SigningKey, serial: int = 1, not_before: int = NOW):  # type: ignore[no-untyped-def]
    return issue(
        issuer,
        node_id=code,
        name=code,
        public_key=key.public_key,
        address="",
        not_before_ms=not_before,
        not_after_ms=NOW + DAY,
        serial=serial,
    )


@pytest.fixture
def root() -> SigningKey:
    return SigningKey.generate()


def _log(root: SigningKey, events: list[bytes]) -> tuple[TrustState, DirectoryHead]:
    """The registry's side: apply events and sign a head over them."""
    province_key = SigningKey.generate()
    province = _cert(root, "33", province_key)
    state = TrustState()
    for event in events:
        state.apply(event)
    head = DirectoryHead(state.version, state.chain_hash, NOW).signed(province_key, (province,))
    return state, head


def test_events_round_trip_and_garbage_is_a_protocol_error(root: SigningKey) -> None:
    cert = _cert(root, "33", root)
    for event in (
        cert,
        Revocation("3301", 0, "33", NOW, "失窃"),
        Retirement("3301", 7, NOW),
        Alias("330182", "330110", NOW),
    ):
        assert decode_event(encode_event(event)) == event
    for garbage in (b"", b"{}", b'{"kind":"nope"}', b'{"kind":"alias","old":"x"}', b"\xff"):
        with pytest.raises(ProtocolError):
            decode_event(garbage)


def test_a_copy_checks_pages_against_the_signed_head(root: SigningKey) -> None:
    events = [encode_event(_cert(root, "33", root, serial=i)) for i in range(1, 5)]
    _, head = _log(root, events)
    verify_head(head, root.public_key, NOW)
    copy = TrustState()
    check_events(copy, head, events)  # the whole log
    with pytest.raises(AuthError):  # an event slipped in by a relay
        check_events(
            copy, head, [*events[:2], encode_event(Alias("3301", "3302", NOW)), *events[3:]]
        )
    with pytest.raises(ProtocolError):  # one held back
        check_events(copy, head, events[:3])
    for event in events[:2]:
        copy.apply(event)
    check_events(copy, head, events[2:])  # an incremental update


def test_a_head_not_signed_by_the_province_is_refused(root: SigningKey) -> None:
    _, head = _log(root, [])
    with pytest.raises(AuthError):
        verify_head(head, SigningKey.generate().public_key, NOW)  # another root
    from dataclasses import replace

    with pytest.raises(AuthError):
        verify_head(replace(head, version=head.version + 1), root.public_key, NOW)


def test_revocation_refuses_live_calls_but_not_older_evidence(root: SigningKey) -> None:
    key = SigningKey.generate()
    cert = _cert(root, "3301", key, serial=5, not_before=NOW - DAY)
    state = TrustState()
    assert state.refusal(cert, NOW, live=True) is None
    state.apply(encode_event(Revocation("3301", 0, "33", NOW, "")))
    assert "revoked" in (state.refusal(cert, NOW + 1, live=True) or "")
    assert state.refusal(cert, NOW - 1, live=False) is None  # signed before the revocation
    assert "revoked" in (state.refusal(cert, NOW + 1, live=False) or "")
    later = _cert(root, "3301", key, serial=6, not_before=NOW + 1)
    assert state.refusal(later, NOW + 2, live=True) is None  # re-enrolled after it


def test_retired_keys_and_bans(root: SigningKey) -> None:
    cert = _cert(root, "3301", SigningKey.generate(), serial=9)
    state = TrustState()
    state.apply(encode_event(Retirement("3301", 9, NOW)))
    assert "retired" in (state.refusal(cert, NOW, live=True) or "")
    assert state.refusal(cert, NOW - 1, live=False) is None
    state.banned[cert.key_id] = "test"
    assert "banned" in (state.refusal(cert, NOW - 1, live=False) or "")


def test_aliases_resolve_and_cycles_are_bounded() -> None:
    state = TrustState()
    state.apply(encode_event(Alias("330182", "330110", NOW)))
    state.apply(encode_event(Alias("330110", "330113", NOW)))
    assert state.resolve("330182") == "330113"
    assert state.resolve("330106") == "330106"
    state.aliases["330113"] = "330182"
    with pytest.raises(ProtocolError):
        state.resolve("330182")


def test_who_may_report_what(root: SigningKey) -> None:
    child = _cert(root, "330106", SigningKey.generate())
    assert may_report("3301", child) is None
    assert may_report("330110", child) is not None  # a sibling did not issue it
    assert may_report("33", Revocation("330106", 0, "33", NOW, "")) is None
    assert may_report("330110", Revocation("330106", 0, "330110", NOW, "")) is not None
    assert may_report("3301", Revocation("3301", 0, "3301", NOW, "")) is not None  # itself
    assert may_report("330106", Retirement("330106", 1, NOW)) is None
    assert may_report("3301", Alias("330182", "330110", NOW)) is not None


# -- admission ---------------------------------------------------------------------------------


def test_a_transaction_runs_once_and_a_different_payload_is_refused() -> None:
    async def scenario() -> None:
        admission = Admission()
        runs = 0
        gate = asyncio.Event()

        async def run() -> bytes:
            nonlocal runs
            runs += 1
            await gate.wait()
            return b"answer"

        first = asyncio.create_task(admission.once("3301", "t1", b"h", run))
        second = asyncio.create_task(admission.once("3301", "t1", b"h", run))  # in flight
        await asyncio.sleep(0)
        gate.set()
        assert await first == await second == b"answer"
        assert await admission.once("3301", "t1", b"h", run) == b"answer"
        assert runs == 1
        with pytest.raises(ProtocolError, match="different payload"):
            await admission.once("3301", "t1", b"other", run)
        assert await admission.once("330106", "t1", b"other", run) == b"answer"  # other origin

    asyncio.run(scenario())


def test_a_retryable_failure_is_forgotten_a_refusal_is_kept() -> None:
    async def scenario() -> None:
        admission = Admission()
        outcomes: list[Exception | None] = [PeerUnavailable("down"), None]

        async def flaky() -> bytes:
            error = outcomes.pop(0)
            if error:
                raise error
            return b"ok"

        with pytest.raises(PeerUnavailable):
            await admission.once("3301", "t", b"h", flaky)
        assert await admission.once("3301", "t", b"h", flaky) == b"ok"

        async def refuse() -> bytes:
            raise ProtocolError("bad batch")

        for _ in range(2):  # the stored refusal, not a second run
            with pytest.raises(ProtocolError):
                await admission.once("3301", "u", b"h", refuse)

    asyncio.run(scenario())


def test_answers_expire_and_memory_is_bounded() -> None:
    now = [1000.0]
    admission = Admission(ttl_ms=1000, max_transactions=3, clock=lambda: now[0])

    async def scenario() -> None:
        async def run() -> bytes:
            return b"x"

        for i in range(10):
            await admission.once("3301", f"t{i}", b"h", run)
        assert len(admission) <= 3
        now[0] += 5
        await admission.once("3301", "late", b"h", run)
        assert len(admission) == 1

    asyncio.run(scenario())


def test_per_origin_slots() -> None:
    admission = Admission(max_concurrent=2)
    with admission.slot("3301"), admission.slot("3301"):
        with pytest.raises(Overloaded), admission.slot("3301"):
            pass
        with admission.slot("330106"):  # other origins are not affected
            pass
    with admission.slot("3301"):  # released
        pass
