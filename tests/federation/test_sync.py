"""The outbox's backoff: doubling from the start, capped, jittered within half of the step."""

from __future__ import annotations

from node.config import OutboxSettings
from node.federation.sync import CataloguePusher


def _pusher(jitter) -> CataloguePusher:  # type: ignore[no-untyped-def]
    settings = OutboxSettings(backoff_start_s=1.0, backoff_cap_s=60.0)
    return CataloguePusher(None, "3301", settings, jitter=jitter)  # type: ignore[arg-type]


def test_backoff_doubles_up_to_the_cap() -> None:
    highest = _pusher(lambda low, high: high)
    assert [highest.backoff_s(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert highest.backoff_s(10_000) == 60  # no overflow after a very long outage
    lowest = _pusher(lambda low, high: low)
    assert [lowest.backoff_s(n) for n in (1, 2, 7)] == [0.5, 1, 30]


def test_a_call_from_the_parent_forces_a_retry_only_when_backing_off() -> None:
    pusher = _pusher(lambda low, high: high)
    pusher.peer_alive()
    assert not pusher._forced
    pusher.failures = 2
    pusher.peer_alive()
    assert pusher._forced


def test_failures_are_described_for_operators_in_chinese() -> None:
    from node.errors import AuthError, InvalidRecord, PeerUnavailable

    pusher = _pusher(lambda low, high: high)
    unreachable = pusher.describe(PeerUnavailable("failed to connect to all addresses"))
    assert unreachable.startswith("无法连接上级 3301") and "failed to connect" in unreachable
    assert "证书" in pusher.describe(AuthError("certificate revoked"))
    assert "更正" in pusher.describe(InvalidRecord("目录条目的门类未知"))
    assert pusher.describe(RuntimeError()).endswith("RuntimeError")
