"""One node's part in the trust tree (docs/architecture.md, "The wire" and "The flows"), put
together.

``TrustKeeper`` builds the five roles, which share the node's trust store and its copy of
the directory, and runs them: ``open`` at start-up, ``start`` once the node listens, ``tick``
as the scheduled upkeep, ``stop`` at shutdown. The work is in the parts:

- ``directory`` (``directory.py``): the directory log as this node holds it;
- ``enrolment`` (``enrolment.py``): applications from would-be children, approval;
- ``credentials`` (``credentials.py``): renewing and rotating this node's certificate, and
  granting its children's renewals;
- ``revocation`` (``revocation.py``): revocations, local bans, aliases;
- ``reports`` (``reports.py``): trust events on their way to the registry.

Operators reach the parts through ``federation/services/trust_admin.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from node.config import DEFAULT_TRUST, TrustSettings
from node.errors import NodeError
from node.federation.client import FederationClient
from node.federation.parts import NodeParts
from node.federation.trust.credentials import Credentials
from node.federation.trust.directory import Background, Directory
from node.federation.trust.enrolment import Enrolment
from node.federation.trust.events import DirectoryHead, TrustState
from node.federation.trust.files import KeyFiles
from node.federation.trust.reports import Reporter
from node.federation.trust.revocation import Revoker
from node.storage.trust import TrustStore

log = logging.getLogger(__name__)


class TrustKeeper:
    """Enrolment, renewal, rotation, revocation and the directory for one node."""

    def __init__(
        self,
        client: FederationClient,
        store: TrustStore,
        state: TrustState,
        root_public_key: bytes,
        files: KeyFiles,
        settings: TrustSettings = DEFAULT_TRUST,
    ) -> None:
        self._background = Background()
        self.greeting: asyncio.Task[None] | None = None  # the heartbeats sent at start
        self.directory = Directory(client, store, state, root_public_key, self._background)
        self.reports = Reporter(client, store, self.directory)
        self.enrolment = Enrolment(store, self.directory, self.reports, settings)
        self.credentials = Credentials(client, files, settings, self.directory, self.reports)
        self.revocation = Revoker(store, self.directory, self.reports)
        # further upkeep run on every tick after the trust steps (the identity index keys'
        # pull, ``federation/blind_index.py``); each failure is logged, not raised
        self.upkeep: list[Callable[[], Awaitable[object]]] = []

    @property
    def parts(self) -> NodeParts:
        return self.directory.parts

    @property
    def code(self) -> str:
        return self.directory.code

    @property
    def state(self) -> TrustState:
        return self.directory.state

    @property
    def head(self) -> DirectoryHead:
        return self.directory.head

    async def open(self) -> None:
        """Rebuild the in-memory state from the stored directory and ban list."""
        await self.directory.open()
        await self.revocation.open()

    async def start(self) -> None:
        """Once the node listens: the registry logs its own certificate; every node does its
        upkeep at once rather than one interval later, and tells its children it is up.

        The heartbeat is what ends a child's push backoff (any valid signed call from the
        parent does, ``sync.py``): after a parent's restart its children catch up at once
        instead of waiting out the rest of their backoff, up to ``sync.backoff_cap``.
        """
        if self.directory.is_registry:
            await self.directory.register(self.parts.signer.chain[:1])
        self._background.spawn(self.tick())
        self.greeting = self._background.spawn(self.directory.announce())

    async def stop(self) -> None:
        await self._background.stop()

    async def tick(self) -> None:
        """The scheduled job: refresh, report what is still unreported, renew if due."""
        steps = (
            self.directory.refresh,
            self.reports.flush_reports,
            self.credentials.renew_if_due,
            *self.upkeep,
        )
        for step in steps:
            try:
                await step()
            except NodeError as exc:
                log.warning(
                    "trust upkeep of %s: %s failed: %s",
                    self.code,
                    getattr(step, "__name__", step),
                    exc,
                )
