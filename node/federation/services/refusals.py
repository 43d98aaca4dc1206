"""The calls this node turned away (newest first, counts by kind) and how many it admitted.

Read from the hosting daemon's ``RefusalLog`` (shared by every node of a host, so each
answer keeps this node's refusals and those no node could be told for) and from the
federation server's count of admitted calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node.federation.refusals import Refusal, RefusalLog


@dataclass(frozen=True)
class RefusalSummary:
    accepted: int  # calls admitted since start
    refused_by_kind: Mapping[str, int]  # error class -> refusals since start (a copy)
    recent: tuple[Refusal, ...]  # newest first


@runtime_checkable
class RefusalsService(Protocol):
    async def recent(self, limit: int = 100) -> tuple[Refusal, ...]:
        """The newest ``limit`` refusals, newest first."""
        ...

    async def summary(self, limit: int = 100) -> RefusalSummary:
        """Admitted calls, refusals by kind, and the newest ``limit`` refusals."""
        ...


class NodeRefusals:
    """``RefusalsService`` for one hosted node."""

    def __init__(self, code: str, log: RefusalLog, accepted: Callable[[], int]) -> None:
        self.code = code
        self.log = log
        self.accepted = accepted  # the federation server's count of admitted calls

    async def recent(self, limit: int = 100) -> tuple[Refusal, ...]:
        return tuple(self.log.recent(self.code, limit))

    async def summary(self, limit: int = 100) -> RefusalSummary:
        counts = {kind: n for (node, kind), n in self.log.counts.items() if node == self.code}
        return RefusalSummary(
            accepted=self.accepted(), refused_by_kind=counts, recent=await self.recent(limit)
        )
