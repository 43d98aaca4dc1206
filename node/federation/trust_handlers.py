"""The trust calls answered at the receiving node: heartbeat, directory, enrol, renew, report.

The trust keeper does the work; this module is the only place the federation server's side
reaches it, through the few public members ``TrustCalls`` names (so the keeper's own layout
can change freely behind them).
"""

from __future__ import annotations

from typing import Protocol

from node.certificates import Certificate
from node.federation.handlers import HandlerRegistry
from node.federation.messages import (
    ENROL,
    GET_DIRECTORY,
    HEARTBEAT,
    RENEW,
    REPORT_TRUST,
    DirectoryPage,
    DirectoryRequest,
    EnrolApplication,
    EnrolStatus,
    Envelope,
    Heartbeat,
    HeartbeatReply,
    RenewReply,
    RenewRequest,
    TrustReport,
    TrustReportAck,
)
from node.federation.parts import NodeParts
from node.federation.registry import DirectoryHead


class TrustCalls(Protocol):
    """What answering the trust calls needs of the trust keeper (``TrustKeeper``)."""

    @property
    def parent(self) -> str | None: ...

    @property
    def head(self) -> DirectoryHead: ...

    def refresh_soon(self) -> None: ...

    async def page(self, request: DirectoryRequest) -> DirectoryPage: ...

    async def grant_renewal(self, current: Certificate, request: RenewRequest) -> RenewReply: ...

    async def receive_report(self, origin: Certificate, report: TrustReport) -> TrustReportAck: ...

    async def receive_application(self, application: EnrolApplication) -> EnrolStatus: ...


def register(handlers: HandlerRegistry, parts: NodeParts, keeper: TrustCalls) -> None:
    trust = TrustHandlers(parts, keeper)
    handlers.unary(HEARTBEAT, trust.heartbeat)
    handlers.unary(GET_DIRECTORY, trust.directory)
    handlers.self_signed(ENROL, keeper.receive_application)
    handlers.unary(RENEW, trust.renew)
    handlers.unary(REPORT_TRUST, trust.report)


class TrustHandlers:
    def __init__(self, parts: NodeParts, keeper: TrustCalls) -> None:
        self.parts = parts
        self.keeper = keeper

    async def heartbeat(self, call: Envelope) -> bytes:
        beat = self.parts.codec.decode(Heartbeat, call.payload)
        if call.origin == self.keeper.parent and beat.directory_version > self.keeper.head.version:
            self.keeper.refresh_soon()  # the parent announces a newer directory: fetch it now
        cursor = await self.parts.catalogue.child_cursor(call.origin)
        return self.parts.codec.encode(
            HeartbeatReply(cursor=cursor, directory_version=self.keeper.head.version)
        )

    async def directory(self, call: Envelope) -> bytes:
        request = self.parts.codec.decode(DirectoryRequest, call.payload)
        return self.parts.codec.encode(await self.keeper.page(request))

    async def renew(self, call: Envelope) -> bytes:
        request = self.parts.codec.decode(RenewRequest, call.payload)
        reply = await self.keeper.grant_renewal(call.chain[0], request)
        return self.parts.codec.encode(reply)

    async def report(self, call: Envelope) -> bytes:
        report = self.parts.codec.decode(TrustReport, call.payload)
        ack = await self.keeper.receive_report(call.chain[0], report)
        return self.parts.codec.encode(ack)
