"""The request outbox's timing: per-item backoff kept in the database, and a call from the
neighbour on an item's route ends its wait (real SQLite; ``send`` is the desk's interface)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from node.config_sections import RequestSettings
from node.errors import PeerUnavailable
from node.federation.request_outbox import RequestOutbox
from node.storage.db import Database
from node.storage.requests import OutboxItem, Outgoing, RequestStore

VILLAGE = "330106001001"
pytestmark = pytest.mark.asyncio


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[RequestStore]:
    db = Database(tmp_path / "node.db")
    await db.open()
    yield RequestStore(db)
    await db.close()


async def test_a_failed_item_waits_and_a_call_from_its_route_ends_the_wait(
    store: RequestStore,
) -> None:
    clock = Clock()
    outbox = RequestOutbox(
        VILLAGE, store, RequestSettings(), clock=clock, jitter=lambda low, high: high
    )
    down = {"330110"}
    sent: list[str] = []

    async def send(item: OutboxItem) -> None:
        if item.destination in down:
            raise PeerUnavailable(f"{item.destination} is down")
        sent.append(item.destination)

    outbox.send = send
    await store.enqueue(
        [Outgoing("330106001001-aaaaaaaaaa", "330110", "/m", b"x")], int(clock() * 1000)
    )
    assert await outbox.drain() == 0
    (item,) = await store.pending()
    assert item.attempts == 1 and item.next_attempt_ms == int(clock() * 1000) + 1000
    assert await outbox.drain() == 0 and sent == []  # still waiting: nothing is tried
    clock.now += 1.0
    assert await outbox.drain() == 0  # tried again, failed again: now twice as long
    (item,) = await store.pending()
    assert item.attempts == 2 and item.next_attempt_ms == int(clock() * 1000) + 2000
    down.clear()
    await outbox.peer_alive("330106")  # not on the route (the township is): still waiting
    assert await outbox.drain() == 0
    await outbox.peer_alive("330106001")  # the first hop toward 330110 called: go now
    assert await outbox.drain() == 1 and sent == ["330110"]
    assert await store.pending() == []
