"""The requests store: compare-and-set moves, the listing's order, the durable outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from node.requests import FiledRequest, Relationship, Role, State, UtilisationRequest
from node.storage.db import Database
from node.storage.requests import Outgoing, RequestStore

NOW = 1_800_000_000_000
DAY = 86_400_000
pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[RequestStore]:
    db = Database(tmp_path / "node.db")
    await db.open()
    yield RequestStore(db)
    await db.close()


def filed(n: int, state: State = State.SUBMITTED, due: int = NOW + DAY) -> FiledRequest:
    request = UtilisationRequest(
        f"330106001001-{'abcdefgh'}{chr(97 + n // 26)}{chr(97 + n % 26)}", "330110",
        f"T-HY-1966-{n:04d}", "330106001001", "wang", "查档", Relationship.SELF, NOW,
    )  # fmt: skip
    return FiledRequest(request, Role.INCOMING, state, "", NOW, due)


async def test_a_request_is_stored_once_and_moves_only_from_the_state_seen(
    store: RequestStore,
) -> None:
    first = filed(1)
    assert await store.insert(first, now_ms=NOW)
    assert not await store.insert(replace(first, reason="again"), now_ms=NOW)
    approved = replace(first, state=State.APPROVED)
    assert await store.replace(State.SUBMITTED, approved, now_ms=NOW) is approved
    stale = await store.replace(State.SUBMITTED, replace(first, state=State.REJECTED), now_ms=NOW)
    assert stale is not None and stale.state == State.APPROVED  # nothing written
    assert (await store.get(first.request_id)).state == State.APPROVED  # type: ignore[union-attr]


async def test_the_sealed_part_is_dropped_once_the_request_is_final(store: RequestStore) -> None:
    first = replace(filed(2), role=Role.OUTGOING)
    await store.insert(first, sealed=b"sealed bytes", now_ms=NOW)
    assert await store.sealed(first.request_id) == b"sealed bytes"
    await store.replace(State.SUBMITTED, replace(first, state=State.WITHDRAWN), now_ms=NOW)
    assert await store.sealed(first.request_id) is None


async def test_overdue_requests_come_first(store: RequestStore) -> None:
    late = filed(3, due=NOW - DAY)
    soon = filed(4, due=NOW + DAY)
    later = filed(5, due=NOW + 3 * DAY)
    done = filed(6, State.REJECTED, due=NOW - 2 * DAY)
    for f in (later, soon, done, late):
        await store.insert(f, now_ms=NOW)
    total, rows = await store.listing(Role.INCOMING, (State.SUBMITTED,), now_ms=NOW)
    assert total == 3 and [r.request_id for r in rows] == [
        late.request_id, soon.request_id, later.request_id,
    ]  # fmt: skip
    _, everything = await store.listing(Role.INCOMING, now_ms=NOW)
    assert everything[0].request_id == late.request_id  # overdue (waiting) first
    assert everything[-1].request_id == done.request_id  # a decided one is never overdue
    assert late.overdue(NOW) and not done.overdue(NOW)


async def test_the_outbox_keeps_each_items_backoff_and_a_link_back_ends_it(
    store: RequestStore,
) -> None:
    f = filed(7)
    await store.insert(f, outgoing=[Outgoing(f.request_id, "330110", "/m", b"p")], now_ms=NOW)
    (item,) = await store.due(NOW)
    await store.failed(item.id, 1, NOW + 60_000, "PeerUnavailable: down")
    assert await store.due(NOW) == []
    assert await store.next_attempt_ms() == NOW + 60_000
    assert await store.retry_destination(lambda d: d == "330999", NOW) == 0
    assert await store.retry_destination(lambda d: d == "330110", NOW) == 1
    (again,) = await store.due(NOW)
    assert again.attempts == 1 and again.last_error.startswith("PeerUnavailable")
    await store.delivered(again.id)
    assert await store.pending() == [] and await store.next_attempt_ms() is None
