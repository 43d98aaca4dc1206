"""The durable outbox of utilisation requests' calls: to the holder, back to the requester.

Like the catalogue's (``sync.py``) it lives in the database, so a call survives a restart
and a link that is down, and a delivered call is removed only once the destination answered.
Unlike it, its items go to any node of the network (hop by hop, ``FederationClient``), not
only the parent, so the backoff is kept per item (``request_outbox.next_attempt_ms``): a
holder that is down delays only the calls for it. The calls are idempotent at the receiver
by request id (and a state change by its state), so an item resent after a lost answer is
harmless.

When items are sent: when one is added (``wake``), when its backoff ends, and at once when a
verified call arrives from the neighbour its route starts with (``peer_alive``: the link is
back). A failure doubles the item's wait, jittered, up to ``backoff_cap_s``.

What sending an item means is the desk's business (``federation/requests.py``): the outbox
hands each due item to ``send`` and only keeps time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable

from node.config_sections import RequestSettings
from node.errors import NodeError
from node.identity import next_hop
from node.storage.requests import OutboxItem, RequestStore

log = logging.getLogger(__name__)

Send = Callable[[OutboxItem], Awaitable[None]]


class RequestOutbox:
    """Sends the due items of ``request_outbox``, one at a time, and keeps their backoff."""

    def __init__(
        self,
        code: str,
        store: RequestStore,
        settings: RequestSettings,
        *,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.code = code
        self.store = store
        self.settings = settings
        self.clock = clock
        self.jitter = jitter
        self.send: Send | None = None  # set by the desk before start
        # the neighbours whose route items are waiting out a backoff on (a call from one of
        # them ends it): kept in memory, so calls from the others cost nothing
        self.waiting_on: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def wake(self) -> None:
        self._wake.set()

    async def peer_alive(self, neighbour: str) -> None:
        """A verified call came from ``neighbour``: items routed through it go now."""
        moved = await self.store.retry_destination(
            lambda destination: (
                destination != self.code and next_hop(self.code, destination) == neighbour
            ),
            self._now_ms(),
        )
        self.waiting_on.discard(neighbour)
        if moved:
            self.wake()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"request outbox {self.code}")
        self.wake()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def drain(self) -> int:
        """Send every item due now; return how many were delivered."""
        assert self.send is not None, "the desk sets send before the outbox runs"
        delivered = 0
        for item in await self.store.due(self._now_ms()):
            try:
                await self.send(item)
            except NodeError as exc:
                await self._failed(item, exc)
                continue
            except Exception as exc:  # a bug must not stop the other items for good
                log.exception("request outbox %s: item %d broke", self.code, item.id)
                await self._failed(item, exc)
                continue
            await self.store.delivered(item.id)
            delivered += 1
        return delivered

    def backoff_s(self, attempts: int) -> float:
        s = self.settings
        ceiling = min(s.backoff_cap_s, s.backoff_start_s * 2 ** min(attempts - 1, 62))
        return self.jitter(ceiling / 2, ceiling)

    async def _failed(self, item: OutboxItem, exc: Exception) -> None:
        attempts = item.attempts + 1
        delay = self.backoff_s(attempts)
        log.warning(
            "request %s: %s to %s failed (%s); attempt %d, next in %.1f s",
            item.request_id,
            item.method.rsplit("/", 1)[-1],
            item.destination,
            exc,
            attempts,
            delay,
        )
        error = f"{type(exc).__name__}: {exc}"
        await self.store.failed(item.id, attempts, self._now_ms() + int(delay * 1000), error)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.drain()
            except NodeError as exc:  # the database itself failed: wait and try again
                log.warning("request outbox %s could not be read: %s", self.code, exc)
            upcoming = await self._next_ms()
            await self._note_waiting()
            timeout = None if upcoming is None else max(0.0, upcoming / 1000 - self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _note_waiting(self) -> None:
        try:
            now = self._now_ms()
            self.waiting_on = {
                next_hop(self.code, item.destination)
                for item in await self.store.pending()
                if item.next_attempt_ms > now and item.destination != self.code
            }
        except NodeError:
            self.waiting_on = set()

    async def _next_ms(self) -> int | None:
        try:
            return await self.store.next_attempt_ms()
        except NodeError:
            return self._now_ms() + 5_000
