"""Catalogue sync toward the parent: push the change log after the acknowledged cursor.

One batch is in flight per link; the cursor is persisted and advanced only on the parent's
acknowledgement, so a crash or restart resumes from the change log. Pushes run on change
(debounced) and on a schedule; failures back off exponentially with jitter.
"""

from __future__ import annotations

import asyncio
import logging
import random

from node.errors import NodeError
from node.federation.client import FederationClient
from node.federation.messages import PUSH, PushAck, PushBatch

log = logging.getLogger(__name__)

BATCH_ENTRIES = 1_000
DEBOUNCE_S = 0.05
BACKOFF_START_S = 0.5
BACKOFF_CAP_S = 120.0


class CataloguePusher:
    """Keeps the parent's copy of this node's subtree catalogue up to date."""

    def __init__(self, client: FederationClient, parent: str) -> None:
        self.client = client
        self.parent = parent
        self._wake = asyncio.Event()
        self._failures = 0
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something changed (or a timer fired): push soon."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(
            self._run(), name=f"push {self.client.parts.code}->{self.parent}"
        )
        self.wake()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def push_once(self) -> bool:
        """Send one batch if any is pending; True if more remain after it."""
        parts = self.client.parts
        cursor = await parts.peers.get_cursor(self.parent)
        rows = await parts.changelog.entries_after(cursor, BATCH_ENTRIES)
        if not rows:
            return False
        to_seq = rows[-1][0]
        batch = PushBatch(
            batch_id=f"{parts.code}:{cursor}-{to_seq}",
            from_seq=cursor,
            to_seq=to_seq,
            entries=tuple(entry for _, entry in rows),
        )
        reply = await self.client.call(PUSH, self.parent, parts.codec.encode(batch))
        ack = parts.codec.decode(PushAck, reply.payload)
        await parts.peers.set_cursor(self.parent, ack.cursor)
        return ack.cursor < await parts.changelog.head()

    async def _run(self) -> None:
        peers = self.client.parts.peers
        while True:
            await self._wake.wait()
            await asyncio.sleep(DEBOUNCE_S)
            self._wake.clear()
            try:
                while await self.push_once():
                    pass
            except NodeError as exc:
                self._failures += 1
                delay = min(BACKOFF_CAP_S, BACKOFF_START_S * 2 ** (self._failures - 1))
                delay *= random.uniform(0.5, 1.0)
                log.warning("push to %s failed (%s); retry in %.1f s", self.parent, exc, delay)
                await peers.set_error(self.parent, str(exc))
                await asyncio.sleep(delay)
                self._wake.set()
                continue
            if self._failures:
                self._failures = 0
                await peers.set_error(self.parent, None)
