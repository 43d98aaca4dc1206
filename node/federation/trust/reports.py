"""Trust events on their way to the root registry, and the registry taking them in.

Every certificate and revocation a node makes, and the retirement of its own old key, is
reported up to the province, which alone appends to the directory log. Reports are queued
in the node's database first and sent from there, so a report made while the registry is
out of reach is sent on a later upkeep tick (``TrustKeeper.tick``) instead of being lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from node.certificates import Certificate
from node.errors import Forbidden, NodeError
from node.federation.client import FederationClient
from node.federation.messages import REPORT_TRUST, TrustReport, TrustReportAck
from node.federation.trust.directory import Directory
from node.federation.trust.events import TrustEvent, decode_event, encode_event, may_report
from node.storage.trust import TrustStore

log = logging.getLogger(__name__)


class Reporter:
    """This node's outbox of trust events to the registry (and, at the registry, its inbox)."""

    def __init__(self, client: FederationClient, store: TrustStore, directory: Directory) -> None:
        self.client = client
        self.parts = client.parts
        self.store = store
        self.directory = directory

    async def report(self, events: Sequence[TrustEvent]) -> None:
        """Send ``events`` to the registry; kept and retried until it acknowledges."""
        if self.directory.is_registry:
            await self.directory.record(events)
            return
        for event in events:
            await self.store.queue_report(encode_event(event))
        try:
            await self.flush_reports()
        except NodeError as exc:
            log.warning("report to the registry from %s deferred: %s", self.parts.code, exc)

    async def flush_reports(self) -> None:
        while pending := await self.store.pending_reports():
            province = self.parts.code[:2]
            payload = self.parts.codec.encode(TrustReport(events=tuple(b for _, b in pending)))
            reply = await self.client.call(REPORT_TRUST, province, payload)
            self.parts.codec.decode(TrustReportAck, reply.payload)
            await self.store.reported(pending[-1][0])

    async def unreported_events(self) -> int:
        """Trust events made here that the root registry has not acknowledged yet."""
        return len(await self.store.pending_reports())

    async def receive_report(self, origin: Certificate, report: TrustReport) -> TrustReportAck:
        """Registry only: check and log the events a node reported."""
        directory = self.directory
        if not directory.is_registry:
            raise Forbidden(f"{self.parts.code} is not the root registry")
        events = []
        for body in report.events:
            event = decode_event(body)
            why = may_report(origin.node_id, event)
            if (
                why is None
                and isinstance(event, Certificate)
                and not event.signed_by(origin.public_key)
            ):
                why = f"certificate of {event.node_id} is not signed by {origin.node_id}"
            if why is not None:
                raise Forbidden(f"trust report refused: {why}")
            if not directory.already_logged(event):
                events.append(event)
        await directory.record(events)
        return TrustReportAck(directory_version=directory.state.version)
