"""Catalogue sync toward the parent: a durable outbox per link (docs/architecture.md, "The flows").

The outbox is the change log itself read after the cursor the parent acknowledged, so
nothing is queued twice and a restart resumes from the database. Batches are bounded
(``batch_size`` changes), one is in flight at a time, and the cursor moves only when the
parent acknowledges. While one batch is in flight the next is read and encoded (it
continues from the cursor the parent should answer), which keeps the link busy without a
second batch on the wire. Every batch has an id (``<child>:<from>-<to>``) that the parent
stores with its acknowledgement, so a batch resent after a lost answer is not applied twice.

When pushes run: on every change (debounced by ``debounce_s``), on the scheduler's timer
(``node/jobs.py``) and at start-up. A failed call is retried a few times at once with jitter
(a new envelope each time, the same batch id); if it still fails the link backs off,
exponentially with jitter up to ``backoff_cap_s``, persisted in ``peer_cursors`` so a
restart keeps waiting. Changes during a backoff wait for it; a valid call from the parent
(``peer_alive``) or an operator (``retry_now``) ends it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from node.config import OutboxSettings
from node.errors import (
    AuthError,
    Forbidden,
    InvalidInput,
    Misaddressed,
    NodeError,
    Overloaded,
    PeerUnavailable,
    ProtocolError,
    StorageError,
)
from node.federation.admission import RETRYABLE
from node.federation.client import FederationClient
from node.federation.messages import MAX_PAYLOAD_BYTES, PUSH, PushAck, PushBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Prepared:
    to_seq: int
    payload: bytes  # the encoded ``PushBatch``


class CataloguePusher:
    """The outbox of this node's link to its parent: keeps the parent's copy up to date."""

    def __init__(
        self,
        client: FederationClient,
        parent: str,
        settings: OutboxSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.client = client
        self.parent = parent
        self.settings = settings or OutboxSettings()
        self.clock = clock
        self.jitter = jitter
        self.pushing = False  # a batch is being prepared or is in flight
        self.failures = 0  # mirrors the persisted state once started
        self.next_attempt_at: float | None = None
        self._wake = asyncio.Event()
        self._forced = False
        self._task: asyncio.Task[None] | None = None

    @property
    def code(self) -> str:
        return self.client.parts.code

    def wake(self) -> None:
        """Something changed (or the timer fired): push soon, unless backing off."""
        self._wake.set()

    def retry_now(self) -> None:
        """End any backoff and push at once (an operator's ``sync retry``)."""
        self._forced = True
        self._wake.set()

    def peer_alive(self) -> None:
        """A valid signed call came from the parent: if backing off, stop and push now."""
        if self.failures or self.next_attempt_at is not None:
            self.retry_now()

    async def start(self) -> None:
        """Load the link's persisted backoff, then run; a backoff in force is kept."""
        state = await self.client.parts.peers.get(self.parent)
        self.failures, self.next_attempt_at = state.failures, state.next_attempt_at
        self._task = asyncio.create_task(self._run(), name=f"push {self.code}->{self.parent}")
        self.wake()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    # -- one pass ---------------------------------------------------------------------------

    async def drain(self) -> int:
        """Push until the parent has everything logged so far; return the batches sent.

        The next batch is read and encoded while the current one is in flight.
        """
        peers = self.client.parts.peers
        prepared = await self._prepare(await peers.get_cursor(self.parent))
        sent = 0
        while prepared is not None:
            following = asyncio.create_task(self._prepare(prepared.to_seq))
            try:
                ack = await self._send(prepared)
                await peers.set_cursor(self.parent, ack.cursor)
            except BaseException:
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)
                raise
            sent += 1
            if ack.cursor == prepared.to_seq:
                prepared = await following
            else:  # the parent holds another cursor (it lost data, or a gap): go from there
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)
                prepared = await self._prepare(ack.cursor)
        return sent

    async def _prepare(self, cursor: int) -> _Prepared | None:
        """The next batch after ``cursor``: ``batch_size`` changes, or fewer when that many
        would not fit in one message (records are bounded in size, not in how many of the
        largest a batch may hold; a batch over the limit would be refused on every retry)."""
        parts = self.client.parts
        limit = self.settings.batch_size
        while True:
            to_seq, entries = await parts.changelog.batch_after(cursor, limit)
            if to_seq == cursor:
                return None
            batch = PushBatch(
                batch_id=f"{self.code}:{cursor}-{to_seq}",
                from_seq=cursor,
                to_seq=to_seq,
                entries=tuple(entries),
            )
            payload = parts.codec.encode(batch)
            if len(payload) <= MAX_PAYLOAD_BYTES or limit == 1:
                return _Prepared(to_seq, payload)
            limit = max(1, limit // 2)

    async def _send(self, prepared: _Prepared) -> PushAck:
        """One batch, with a few immediate retries (each a new transaction, same batch id)."""
        parts = self.client.parts
        for attempt in range(self.settings.call_retries + 1):
            try:
                reply = await self.client.call(PUSH, self.parent, prepared.payload)
                return parts.codec.decode(PushAck, reply.payload)
            except RETRYABLE:
                if attempt == self.settings.call_retries:
                    raise
                await asyncio.sleep(self.jitter(0.05, 0.2) * (attempt + 1))
        raise AssertionError("unreachable")

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wait_turn()
            await asyncio.sleep(self.settings.debounce_s)
            self._wake.clear()
            if self._forced:
                self._forced = False
                if self.failures or self.next_attempt_at is not None:
                    await self._reset()
            self.pushing = True
            try:
                await self.drain()
            except NodeError as exc:
                await self._failed(exc)
            except Exception as exc:  # a bug must not end the link's loop for good
                log.exception("push %s -> %s broke", self.code, self.parent)
                await self._failed(exc)
            else:
                if self.failures or self.next_attempt_at is not None:
                    await self._reset()
            finally:
                self.pushing = False

    async def _wait_turn(self) -> None:
        """Until woken outside a backoff, the backoff ends, or a retry is forced."""
        while not self._forced:
            if self.next_attempt_at is None:
                await self._wake.wait()
                return
            remaining = self.next_attempt_at - self.clock()
            if remaining <= 0:
                return
            self._wake.clear()  # changes wait for the retry
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

    def backoff_s(self, failures: int) -> float:
        """The wait after ``failures`` consecutive failures: doubling, capped, jittered."""
        s = self.settings
        ceiling = min(s.backoff_cap_s, s.backoff_start_s * 2 ** min(failures - 1, 62))
        return self.jitter(ceiling / 2, ceiling)

    async def _failed(self, exc: Exception) -> None:
        self.failures += 1
        delay = self.backoff_s(self.failures)
        self.next_attempt_at = self.clock() + delay
        log.warning(
            "push %s -> %s failed (%s); attempt %d, next in %.1f s",
            self.code,
            self.parent,
            exc,
            self.failures,
            delay,
        )
        await self.client.parts.peers.record_failure(
            self.parent, self.describe(exc), self.failures, self.next_attempt_at
        )

    def describe(self, exc: Exception) -> str:
        """The failure as the operator reads it (``archive-node stats``): cause, then detail."""
        parent = self.parent
        if isinstance(exc, PeerUnavailable):
            cause = f"无法连接上级 {parent}（上级未运行或网络不通；恢复后会自动补推）"
        elif isinstance(exc, Overloaded):
            cause = f"上级 {parent} 繁忙，稍后自动重试"
        elif isinstance(exc, AuthError | Forbidden | Misaddressed):
            cause = f"上级 {parent} 拒绝了本节点的调用（请检查证书与信任目录）"
        elif isinstance(exc, InvalidInput | ProtocolError):
            cause = f"上级 {parent} 拒绝了推送的批次（请按详情更正有关条目的新版本）"
        elif isinstance(exc, StorageError):
            cause = "读取本节点的变更日志失败（请检查磁盘与数据库）"
        else:
            cause = f"向上级 {parent} 推送失败"
        return f"{cause}：{str(exc) or type(exc).__name__}"

    async def _reset(self) -> None:
        self.failures, self.next_attempt_at = 0, None
        await self.client.parts.peers.clear_backoff(self.parent)
