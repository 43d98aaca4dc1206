"""Sync as an operator administers it: node status, each link's state, retry now, repair.

What ``archive-node stats``, ``archive-node sync ...`` and the status page ask for. The
outbox (``CataloguePusher``) and anti-entropy (``CatalogueRepairer``) do the work; this reads
their state and the stores into frozen answers, and triggers them on request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node.actors import Actor
from node.audit import Act
from node.errors import InvalidInput, NotFound
from node.federation.antientropy import CatalogueRepairer, RepairReport
from node.federation.parts import NodeParts
from node.federation.services.audit import audited
from node.federation.services.info import NodeInfo
from node.federation.sync import CataloguePusher


@dataclass(frozen=True)
class LinkStatus:
    """One outgoing sync link as an operator sees it (``archive-node stats``)."""

    peer: str
    cursor: int  # the last change the peer acknowledged
    lag: int  # changes logged here the peer has not acknowledged
    last_error: str | None
    head: int = 0  # this node's last change
    lag_s: float = 0.0  # age of the oldest unacknowledged change
    state: str = "idle"  # idle (nothing to send), pending, pushing, backoff
    failures: int = 0  # consecutive failed attempts
    next_retry_at: float | None = None  # unix time the backoff ends
    last_error_at: float | None = None
    last_success_at: float | None = None  # unix time of the last acknowledgement


@dataclass(frozen=True)
class ChildSyncStatus:
    """What this node acknowledged to one child, and when it last applied a batch of it."""

    child: str
    cursor: int
    last_batch_at: float


@dataclass(frozen=True)
class SyncStatus:
    code: str
    change_head: int
    at: float  # when this was read (unix time): lags and retries are relative to it
    links: tuple[LinkStatus, ...]
    children: tuple[ChildSyncStatus, ...]


@dataclass(frozen=True)
class NodeStatus:
    info: NodeInfo
    records: int
    catalogue_entries: int
    change_head: int
    links: tuple[LinkStatus, ...]


@runtime_checkable
class SyncAdminService(Protocol):
    async def status(self) -> NodeStatus:
        """What this node holds and how far each outgoing link is behind."""
        ...

    async def sync_status(self) -> SyncStatus:
        """Every sync link: toward the parent, and what each child delivered."""
        ...

    async def retry_sync(self, peer: str | None = None, *, actor: Actor) -> LinkStatus:
        """End the link's backoff and push now. Raises ``InvalidInput`` at the province,
        ``NotFound`` for a peer that is not the parent."""
        ...

    async def repair_catalogue(self, *, deep: bool = False, actor: Actor) -> RepairReport:
        """Anti-entropy with the parent now. Raises ``InvalidInput`` at the province."""
        ...


class SyncAdmin:
    """``SyncAdminService`` over this node's stores, outbox and anti-entropy."""

    def __init__(
        self,
        parts: NodeParts,
        info: NodeInfo,
        pusher: CataloguePusher | None = None,
        repairer: CatalogueRepairer | None = None,
    ) -> None:
        self.parts = parts
        self.info = info
        self.pusher = pusher  # the outbox toward the parent (None at the province)
        self.repairer = repairer  # anti-entropy with the parent (None at the province)

    async def status(self) -> NodeStatus:
        p = self.parts
        links = await self._links()
        return NodeStatus(
            info=self.info,
            records=await p.records.count(),
            catalogue_entries=await p.catalogue.count(),
            change_head=await p.changelog.head(),
            links=links,
        )

    async def sync_status(self) -> SyncStatus:
        """Every sync link of this node: toward the parent, and what each child delivered."""
        links = await self._links()
        children = tuple(
            ChildSyncStatus(c.child, c.cursor, c.updated_at)
            for c in await self.parts.catalogue.child_links()
        )
        return SyncStatus(
            code=self.parts.code,
            change_head=await self.parts.changelog.head(),
            at=time.time(),
            links=links,
            children=children,
        )

    async def retry_sync(self, peer: str | None = None, *, actor: Actor) -> LinkStatus:
        """End the link's backoff and push now; ``peer`` defaults to (and must be) the parent."""
        subject = peer or (self.pusher.parent if self.pusher else "")
        work = self._retry(peer)
        return await audited(self.parts.audit, actor, Act.SYNC_RETRY, subject, {}, work)

    async def _retry(self, peer: str | None) -> LinkStatus:
        if self.pusher is None:
            raise InvalidInput(f"{self.parts.code} 是省级节点，没有上级，无需推送目录")
        if peer and peer != self.pusher.parent:
            raise NotFound(
                f"{peer} 不是 {self.parts.code} 的上级；"
                f"本节点只向上级 {self.pusher.parent} 推送目录"
            )
        self.pusher.retry_now()
        return await self._link(self.pusher.parent)

    async def repair_catalogue(self, *, deep: bool = False, actor: Actor) -> RepairReport:
        """Compare this node's subtree catalogue with its parent's copy and repair it now
        (``deep``: every field of every entry, see ``CatalogueRepairer.repair``)."""
        subject = self.repairer.parent if self.repairer else ""
        work = self._repair(deep)
        return await audited(
            self.parts.audit, actor, Act.SYNC_REPAIR, subject, {"deep": deep}, work
        )

    async def _repair(self, deep: bool) -> RepairReport:
        if self.repairer is None:
            raise InvalidInput(f"{self.parts.code} 是省级节点，没有上级目录可校验")
        return await self.repairer.repair(deep=deep)

    async def _links(self) -> tuple[LinkStatus, ...]:
        peers = {s.peer for s in await self.parts.peers.all()}
        if self.pusher is not None:
            peers.add(self.pusher.parent)
        return tuple([await self._link(peer) for peer in sorted(peers)])

    async def _link(self, peer: str) -> LinkStatus:
        p = self.parts
        state = await p.peers.get(peer)
        head, first_unacked_at = await p.changelog.backlog(state.cursor)
        lag = max(0, head - state.cursor)
        pusher = self.pusher if self.pusher is not None and self.pusher.parent == peer else None
        if state.next_attempt_at is not None and lag:
            phase = "backoff"
        elif pusher is not None and pusher.pushing:
            phase = "pushing"
        else:
            phase = "pending" if lag else "idle"
        return LinkStatus(
            peer=peer,
            cursor=state.cursor,
            lag=lag,
            last_error=state.last_error,
            head=head,
            lag_s=max(0.0, time.time() - first_unacked_at) if first_unacked_at else 0.0,
            state=phase,
            failures=state.failures,
            next_retry_at=state.next_attempt_at,
            last_error_at=state.last_error_at,
            last_success_at=state.last_success_at,
        )
