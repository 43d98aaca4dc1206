"""Rate limits on enrolment applications, per network address, in a bounded table.

Enrolment is the one call anybody can make: an applicant needs no certificate, only a key it
generated a moment ago. Pinning an application to its key (``enrolment.py``) means a
squatter who applies first for a code blocks the real applicant until an operator rejects
the squatter, so new applications are limited per address, and so is every application call
(the applicant's ``archive-node enrol --wait`` repeats its application every few seconds to
learn the decision, which must stay within the limit).

The address is the transport's peer address without its port (``ipv4:10.0.0.7``); calls
that arrive in process (no address) are counted per applicant code instead. The table keeps
the most recently active ``max_keys`` addresses; an address pushed out starts afresh, which
only lets a caller with that many addresses in play do what it could do with them anyway.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from node.errors import Overloaded

MAX_ADDRESSES = 10_000


def address_of(peer: str) -> str:
    """``ipv4:10.0.0.7:53412`` -> ``ipv4:10.0.0.7``; ``ipv6:[::1]:53412`` -> ``ipv6:[::1]``.

    Each connection has its own port, so only the address says who is calling."""
    kind, sep, rest = peer.partition(":")
    if sep and kind in ("ipv4", "ipv6") and ":" in rest:
        return f"{kind}:{rest.rsplit(':', 1)[0]}"
    return peer


class WindowLimiter:
    """At most ``limit`` events per key within any ``window_s`` seconds."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        max_keys: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def allows(self, key: str) -> bool:
        """Whether one more event of ``key`` is within the limit now (nothing counted)."""
        events = self._events.get(key)
        if events is None:
            return self.limit > 0
        cutoff = self.clock() - self.window_s
        while events and events[0] <= cutoff:
            events.popleft()
        return len(events) < self.limit

    def count(self, key: str, refusal: str) -> None:
        """Count one event of ``key``, or raise ``Overloaded(refusal)`` over the limit."""
        if not self.allows(key):
            raise Overloaded(refusal)
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque(maxlen=self.limit)
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        events.append(self.clock())

    def __len__(self) -> int:
        return len(self._events)
