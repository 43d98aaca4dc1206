"""The operator's view of refused calls: who was turned away, when, and why.

Kept in memory (the most recent ``MAX_REFUSALS``, plus counts since start) so an attacker
sending garbage costs a deque append, never a database write; each refusal is also logged.
Clerk-facing answers (a closed record, a record that does not exist) are not refusals.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass

from node.errors import FederationError, InvalidInput, NodeError, PeerUnavailable

MAX_REFUSALS = 1_000


@dataclass(frozen=True)
class Refusal:
    at: float  # unix time
    node: str  # the hosted node the call was for ("" if it could not be told)
    method: str
    origin: str  # the claimed origin ("" if the envelope could not be read)
    peer: str  # the transport address it came from
    kind: str  # the error class: AuthError, Forbidden, ProtocolError, Overloaded, ...
    reason: str


def is_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` turned a call away here (not an answer, not a neighbour's refusal
    passed back through this relay, not an unreachable next hop)."""
    return (
        isinstance(exc, FederationError | InvalidInput)
        and not isinstance(exc, PeerUnavailable)
        and exc.from_peer is None
    )


class RefusalLog:
    """Refusals of one daemon, newest last."""

    def __init__(self, max_refusals: int = MAX_REFUSALS) -> None:
        self._recent: deque[Refusal] = deque(maxlen=max_refusals)
        self.counts: Counter[tuple[str, str]] = Counter()  # (node, kind) -> refusals
        self.accepted: Counter[str] = Counter()  # node -> calls admitted

    def refused(
        self, exc: NodeError, *, node: str, method: str, origin: str, peer: str = ""
    ) -> None:
        kind = type(exc).__name__
        self._recent.append(Refusal(time.time(), node, method, origin, peer, kind, str(exc)))
        self.counts[(node, kind)] += 1

    def recent(self, node: str | None = None, limit: int = 100) -> list[Refusal]:
        """The newest refusals first (of ``node`` and of calls no node could be told for)."""
        found = [r for r in reversed(self._recent) if node is None or r.node in (node, "")]
        return found[:limit]
