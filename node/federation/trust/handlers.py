"""The trust calls answered at the receiving node: heartbeat, directory, enrol, renew, report.

The trust keeper's parts do the work (``directory``, ``enrolment``, ``credentials``,
``reports``); this module only decodes each call and encodes the answer.
"""

from __future__ import annotations

from node.federation.handlers import HandlerRegistry
from node.federation.messages import (
    ENROL,
    GET_DIRECTORY,
    HEARTBEAT,
    RENEW,
    REPORT_TRUST,
    DirectoryRequest,
    Envelope,
    Heartbeat,
    HeartbeatReply,
    RenewRequest,
    TrustReport,
)
from node.federation.parts import NodeParts
from node.federation.trust.keeper import TrustKeeper


def register(handlers: HandlerRegistry, parts: NodeParts, keeper: TrustKeeper) -> None:
    trust = TrustHandlers(parts, keeper)
    handlers.unary(HEARTBEAT, trust.heartbeat)
    handlers.unary(GET_DIRECTORY, trust.directory)
    handlers.self_signed(ENROL, keeper.enrolment.receive_application)
    # a replayed renewal would grant a certificate, a replayed report log events again
    handlers.unary(RENEW, trust.renew, changes_state=True)
    handlers.unary(REPORT_TRUST, trust.report, changes_state=True)


class TrustHandlers:
    def __init__(self, parts: NodeParts, keeper: TrustKeeper) -> None:
        self.parts = parts
        self.keeper = keeper

    async def heartbeat(self, call: Envelope) -> bytes:
        beat = self.parts.codec.decode(Heartbeat, call.payload)
        # the parent announces a newer directory: fetch it now
        self.keeper.directory.announced(call.origin, beat.directory_version)
        cursor = await self.parts.catalogue.child_cursor(call.origin)
        return self.parts.codec.encode(
            HeartbeatReply(cursor=cursor, directory_version=self.keeper.head.version)
        )

    async def directory(self, call: Envelope) -> bytes:
        request = self.parts.codec.decode(DirectoryRequest, call.payload)
        return self.parts.codec.encode(await self.keeper.directory.page(request))

    async def renew(self, call: Envelope) -> bytes:
        request = self.parts.codec.decode(RenewRequest, call.payload)
        reply = await self.keeper.credentials.grant_renewal(call.chain[0], request)
        return self.parts.codec.encode(reply)

    async def report(self, call: Envelope) -> bytes:
        report = self.parts.codec.decode(TrustReport, call.payload)
        ack = await self.keeper.reports.receive_report(call.chain[0], report)
        return self.parts.codec.encode(ack)
