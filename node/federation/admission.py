"""What a node lets in once a call is authenticated: bounded load, one answer per transaction.

Transactions (docs/architecture.md, "The wire"): a call that repeats an (origin, transaction id)
already seen with the same payload gets the same answer, without running again, even while the
first is still running (gRPC retries resend identical bytes); the same id with another payload
is refused. A transaction that failed without applying anything (the next hop was unreachable,
this node was busy) is forgotten, so its retry runs. Answers are kept for twice the skew window,
after which an identical retry is refused for its timestamp anyway.

Limits: each origin gets at most ``max_concurrent`` calls at once here; more are refused at
once with ``Overloaded`` (RESOURCE_EXHAUSTED), not queued, so one busy subtree cannot hold
every worker of its parent.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from node.errors import Overloaded, PeerUnavailable, ProtocolError
from node.federation.trust.verify import NONCE_TTL_MS

MAX_CONCURRENT_PER_ORIGIN = 32
MAX_TRANSACTIONS = 100_000
RETRYABLE = (PeerUnavailable, Overloaded)


@dataclass
class _Transaction:
    payload_hash: bytes
    answer: asyncio.Future[bytes]
    expires_ms: int


class Admission:
    """Per-origin concurrency limits and the answers to recent transactions of one node."""

    def __init__(
        self,
        max_concurrent: int = MAX_CONCURRENT_PER_ORIGIN,
        ttl_ms: int = NONCE_TTL_MS,
        max_transactions: int = MAX_TRANSACTIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_concurrent = max_concurrent
        self.ttl_ms = ttl_ms
        self.max_transactions = max_transactions
        self.clock = clock
        self._running: dict[str, int] = {}
        self._transactions: OrderedDict[tuple[str, str], _Transaction] = OrderedDict()

    @contextmanager
    def slot(self, origin: str) -> Iterator[None]:
        """Hold one of ``origin``'s concurrent-call slots, or raise ``Overloaded``."""
        running = self._running.get(origin, 0)
        if running >= self.max_concurrent:
            raise Overloaded(
                f"{origin} already has {running} calls running here (limit {self.max_concurrent})"
            )
        self._running[origin] = running + 1
        try:
            yield
        finally:
            left = self._running[origin] - 1
            if left:
                self._running[origin] = left
            else:
                del self._running[origin]

    async def once(
        self,
        origin: str,
        transaction_id: str,
        payload_hash: bytes,
        run: Callable[[], Awaitable[bytes]],
    ) -> bytes:
        """``run()``'s answer for this transaction, computed at most once while remembered."""
        now = int(self.clock() * 1000)
        self._prune(now)
        key = (origin, transaction_id)
        seen = self._transactions.get(key)
        if seen is not None:
            if seen.payload_hash != payload_hash:
                raise ProtocolError(
                    f"transaction {transaction_id} of {origin} was already used "
                    "for a different payload"
                )
            return await asyncio.shield(seen.answer)
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._transactions[key] = _Transaction(payload_hash, answer, now + self.ttl_ms)
        try:
            result = await run()
        except Exception as exc:
            if isinstance(exc, RETRYABLE):
                del self._transactions[key]
            answer.set_exception(exc)
            answer.exception()  # retrieved: no "never retrieved" warning if nobody waits
            raise
        except BaseException:  # cancelled: the transaction never finished, let a retry run it
            del self._transactions[key]
            answer.cancel()
            raise
        answer.set_result(result)
        return result

    def _prune(self, now_ms: int) -> None:
        while self._transactions:
            key, first = next(iter(self._transactions.items()))
            if first.expires_ms > now_ms and len(self._transactions) < self.max_transactions:
                break
            if not first.answer.done():
                break  # still running: never drop an answer somebody may be waiting for
            del self._transactions[key]

    def __len__(self) -> int:
        return len(self._transactions)
