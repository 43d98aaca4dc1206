"""``Node`` builds one node's parts (stores, federation server and client, jobs' objects,
services); ``node.host.Host`` runs many of them behind one gRPC and one web listener.

Each node has its own key, certificate chain, database and blob store under
``data_dir/<code>/``. Calls between nodes of one host skip the socket but not the checks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from node.actors import Actor
from node.config import DEFAULT_TRUST, NodeSettings, OutboxSettings, TrustSettings
from node.config_sections import (
    DEFAULT_ACCOUNTS,
    DEFAULT_APPRAISAL,
    DEFAULT_OAI,
    DEFAULT_PRESERVATION,
    DEFAULT_REQUESTS,
    AccountSettings,
    AppraisalSettings,
    OaiSettings,
    PreservationSettings,
    RequestSettings,
)
from node.crypto import SigningKey
from node.errors import ConfigError
from node.federation import (
    audit_handlers,
    blind_index_handlers,
    catalogue_handlers,
    request_handlers,
)
from node.federation.addresses import AddressBook
from node.federation.antientropy import CatalogueRepairer
from node.federation.audit_checkpoints import AuditCheckpointer
from node.federation.blind_index import BlindIndex
from node.federation.client import FederationClient
from node.federation.envelope import Clock, Signer
from node.federation.handlers import HandlerRegistry
from node.federation.parts import NodeParts
from node.federation.refusals import RefusalLog
from node.federation.request_copies import RequestCertifier
from node.federation.request_outbox import RequestOutbox
from node.federation.requests import RequestDesk
from node.federation.server import FederationServer
from node.federation.services import NodeInfo, NodeServices
from node.federation.services.accounts import AccountEvent, Accounts
from node.federation.services.appraisal import Appraisal
from node.federation.services.audit import NodeAudit
from node.federation.services.copies import NodeCopies
from node.federation.services.ingest import Ingest
from node.federation.services.oai import OaiProvider
from node.federation.services.preservation import FixityChecker, Preservation
from node.federation.services.refusals import NodeRefusals
from node.federation.services.requests import Requests
from node.federation.services.retrieval import Retrieval
from node.federation.services.search import CatalogueSearch
from node.federation.services.sync_admin import SyncAdmin
from node.federation.services.trust_admin import TrustAdmin
from node.federation.sync import CataloguePusher
from node.federation.trust import handlers as trust_handlers
from node.federation.trust.events import TrustState
from node.federation.trust.files import (
    chain_path,
    key_files,
    key_path,
    load_chain,
)
from node.federation.trust.keeper import TrustKeeper
from node.federation.trust.verify import ChainVerifier, Gatekeeper
from node.identity import parent_of
from node.requests import Deadlines
from node.rpc.codec import ProtobufCodec
from node.rpc.peers import PeerTransport
from node.storage.accounts import AccountStore
from node.storage.appraisal import AppraisalStore
from node.storage.audit import AuditLog
from node.storage.blind_index import BlindIndexStore
from node.storage.blobs import BlobStore
from node.storage.catalogue import CatalogueStore
from node.storage.changelog import ChangeLog
from node.storage.copies import CopyStore
from node.storage.db import Database
from node.storage.oai import OaiFeed
from node.storage.peers import PeerStateStore
from node.storage.preservation import PreservationStore
from node.storage.records import RecordStore
from node.storage.requests import RequestStore
from node.storage.trust import SeenNonces, TrustStore
from node.transfer import PackageLimits
from node.workdays import WorkCalendar

log = logging.getLogger(__name__)

REST_KEY_FILE = "rest.key"  # seals what the node keeps at rest (identity index)


class _LearningGatekeeper(Gatekeeper):
    """A gatekeeper that tells the host's address book where verified origins listen."""

    def __init__(
        self,
        chains: ChainVerifier,
        clock: Clock,
        addresses: AddressBook,
        durable: SeenNonces | None = None,
    ) -> None:
        super().__init__(chains, clock, durable)
        self.addresses = addresses

    def authenticate(self, envelope, method, *, live=True):  # type: ignore[no-untyped-def]
        leaf = super().authenticate(envelope, method, live=live)
        self.addresses.learn(envelope.chain)
        return leaf


class Node:
    """One node: its stores, federation server and client, pusher, and use-case services."""

    def __init__(
        self,
        settings: NodeSettings,
        node_dir: Path,
        *,
        root_public_key: bytes,
        codec: ProtobufCodec,
        transport: PeerTransport,
        addresses: AddressBook,
        sync_timeouts: tuple[float, float],
        trust: TrustSettings = DEFAULT_TRUST,
        refusals: RefusalLog | None = None,
        clock: Clock = time.time,
        outbox: OutboxSettings | None = None,
        accounts: AccountSettings = DEFAULT_ACCOUNTS,
        on_account_event: AccountEvent | None = None,
        oai: OaiSettings = DEFAULT_OAI,
        appraisal: AppraisalSettings = DEFAULT_APPRAISAL,
        requests: RequestSettings = DEFAULT_REQUESTS,
        preservation: PreservationSettings = DEFAULT_PRESERVATION,
    ) -> None:
        self.settings = settings
        self.code = settings.code
        # told after every catalogue change, besides the pusher (benches wait on it)
        self.catalogue_listeners: list[Callable[[], None]] = []
        self.dir = node_dir
        self._background: set[asyncio.Task[object]] = set()
        # where people reach this node's web pages: printed on its certified copies (the
        # host sets it once its web listener is bound)
        self.public_url = "http://127.0.0.1:8080"
        key = SigningKey.load(key_path(node_dir))
        chain = load_chain(chain_path(node_dir))
        if chain[0].node_id != self.code or chain[0].key_id != key.key_id:
            raise ConfigError(
                f"{chain_path(node_dir)} 中的证书不是本节点 {self.code} 的密钥的证书："
                f"请用 {node_dir}/enrol-request.json 重新签发"
            )
        self.db = Database(node_dir / "node.db")
        chains = ChainVerifier(root_public_key, TrustState())
        self.parts = NodeParts(
            code=self.code,
            name=settings.name,
            signer=Signer(self.code, key, chain, clock),
            gatekeeper=_LearningGatekeeper(chains, clock, addresses, SeenNonces(self.db)),
            codec=codec,
            transport=transport,
            records=RecordStore(self.db),
            catalogue=CatalogueStore(self.db),
            changelog=ChangeLog(self.db),
            peers=PeerStateStore(self.db),
            blobs=BlobStore(node_dir / "blobs"),
            audit=AuditLog(self.db, self.code, clock),
            requests=RequestStore(self.db),
            call_timeout=sync_timeouts[0],
            fetch_timeout=sync_timeouts[1],
        )
        self.client = client = FederationClient(self.parts)
        parent = parent_of(self.code)
        self.pusher = CataloguePusher(client, parent, outbox) if parent else None
        self.keeper = TrustKeeper(
            client,
            TrustStore(self.db),
            chains.state,
            root_public_key,
            key_files(node_dir),
            trust,
        )
        # The identity index: keys pulled sealed from the parent, subjects' numbers sealed
        # at rest to ``rest.key`` (not the certificate key, which rotates).
        self.blind_index = BlindIndex(
            self.parts,
            client,
            BlindIndexStore(self.db),
            SigningKey.load_or_create(node_dir / REST_KEY_FILE),
            rotation_ms=trust.index_key_rotation_ms,
            settle_ms=trust.index_key_settle_ms,
            pull_through_s=trust.refresh_interval_s / 2,
        )
        self.blind_index.on_reindexed = self._changed
        self.keeper.upkeep.append(self.blind_index.refresh)
        # Each feature registers the calls it answers; a new feature adds its line here.
        handlers = HandlerRegistry()
        certify = RequestCertifier(self.parts, chains.state, lambda: self.services.copies, clock)
        catalogue_handlers.register(handlers, self.parts, self._changed, certify)
        trust_handlers.register(handlers, self.parts, self.keeper)
        audit_handlers.register(handlers, self.parts)
        blind_index_handlers.register(handlers, self.parts, self.blind_index)
        self.request_outbox = RequestOutbox(self.code, self.parts.requests, requests, clock=clock)
        calendar = WorkCalendar(
            (dt.date.fromisoformat(d) for d in requests.holidays),
            (dt.date.fromisoformat(d) for d in requests.workdays),
        )
        # The subject asking for her own record is approved by rule: the blind index knows
        # the holder's subjects' numbers.
        self.desk = RequestDesk(
            client,
            self.request_outbox,
            chains.state,
            Deadlines(requests.holder_days, requests.receiver_days, calendar),
            matches=self.blind_index.matches,
            approval_lifetime_s=requests.approval_lifetime_s,
            clock=clock,
        )
        request_handlers.register(handlers, self.desk)
        self.server = FederationServer(self.parts, handlers, on_peer_call=self._peer_called)
        self.repairer = CatalogueRepairer(client, parent) if parent else None
        self.checkpointer = AuditCheckpointer(client, parent)
        self.refusals = refusals or RefusalLog()  # the hosting daemon's refusals
        info = NodeInfo.of(self.code, settings.name)
        server = self.server
        # Staff accounts live in this node's own database; their logins and changes reach
        # the audit log (``on_account_event`` replaces that, for tests).
        self.accounts = Accounts(
            self.code,
            AccountStore(self.db),
            accounts,
            clock=clock,
            on_event=on_account_event or self._account_event,
        )
        self.oai = OaiProvider(self.code, settings.name, OaiFeed(self.db), oai)
        self.appraisal = Appraisal(
            self.parts, AppraisalStore(self.db), self._changed, appraisal, clock
        )
        node_copies = NodeCopies(
            self.parts, CopyStore(self.db), root_public_key, lambda: self.public_url, chains.state
        )
        self.preservation_settings = preservation
        self.preservation = Preservation(
            self.parts,
            PreservationStore(self.db),
            self._changed,
            PackageLimits(
                max_files=preservation.max_package_files,
                max_file_bytes=preservation.max_file_bytes,
                max_total_bytes=preservation.max_package_bytes,
                max_ratio=preservation.max_zip_ratio,
            ),
            clock=clock,
        )
        self.fixity = FixityChecker(self.preservation, self.code, preservation.fixity_batch)
        self.services = NodeServices(
            info=info,
            search=CatalogueSearch(self.parts, client, chains.state, self.blind_index),
            retrieval=Retrieval(self.parts, client, chains.state),
            ingest=Ingest(self.parts, self._changed, self.blind_index),
            sync=SyncAdmin(self.parts, info, self.pusher, self.repairer),
            trust=TrustAdmin(self.keeper, self.parts, self.blind_index),
            refusals=NodeRefusals(self.code, self.refusals, lambda: server.accepted),
            audit=NodeAudit(self.parts, self.checkpointer),
            accounts=self.accounts,
            copies=node_copies,
            oai=self.oai,
            appraisal=self.appraisal,
            requests=Requests(self.parts, self.desk, node_copies),
            preservation=self.preservation,
        )

    async def _account_event(self, actor: Actor, act: str, detail: Mapping[str, str]) -> None:
        """Logins and account changes go to the audit log, about the account they concern."""
        await self.parts.audit.append(actor, act, detail.get("account") or actor.name, detail)

    def _changed(self) -> None:
        """The catalogue changed (an ingest here, or a child's push applied)."""
        if self.pusher is not None:
            self.pusher.wake()
        for listener in self.catalogue_listeners:
            listener()

    def _peer_called(self, origin: str) -> None:
        """A verified call from the parent shows the link works: end the outbox's backoff."""
        if self.pusher is not None and origin == self.pusher.parent:
            self.pusher.peer_alive()
        if origin in self.request_outbox.waiting_on:
            task = asyncio.get_running_loop().create_task(self.request_outbox.peer_alive(origin))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def open(self) -> None:
        await self.db.open()
        await self.keeper.open()
        await self.blind_index.open()

    async def start_sync(self) -> None:
        if self.pusher is not None:
            await self.pusher.start()
        await self.request_outbox.start()
        await self.keeper.start()

    async def close(self) -> None:
        if self.pusher is not None:
            await self.pusher.stop()
        await self.request_outbox.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.keeper.stop()
        await self.parts.audit.flush()  # queued entries (searches, fetches) reach the disk
        await self.db.close()


@asynccontextmanager
async def offline_accounts(
    data_dir: Path, code: str, settings: AccountSettings = DEFAULT_ACCOUNTS
) -> AsyncIterator[Accounts]:
    """The accounts of node ``code`` straight from its database under ``data_dir``, for the
    offline ``archive-node account`` commands (the first operator's bootstrap). Safe while the
    daemon runs too: SQLite serialises the writes.

    Raises:
        ConfigError: ``data_dir/code`` is not that node's folder.
    """
    node_dir = data_dir / code
    if not key_path(node_dir).exists():
        raise ConfigError(
            f"{node_dir} 不是节点 {code} 的数据目录（没有 node.key）。请核对 --data 与 --node："
            "--data 是 archive-node init 的 --data（其下有以节点代码命名的目录）。"
        )
    db = Database(node_dir / "node.db")
    await db.open()
    try:
        yield Accounts(code, AccountStore(db), settings)
    finally:
        await db.close()


@asynccontextmanager
async def offline_trust_store(data_dir: Path, code: str) -> AsyncIterator[TrustStore]:
    """The trust store (directory copy, trust outbox) of node ``code`` under ``data_dir``,
    for ``archive-node host add``, which queues a certificate the parent signed offline so
    that the parent reports it to the registry. Safe while the daemon runs (SQLite)."""
    node_dir = data_dir / code
    if not key_path(node_dir).exists():
        raise ConfigError(f"{node_dir} 不是节点 {code} 的数据目录（没有 node.key）")
    db = Database(node_dir / "node.db")
    await db.open()
    try:
        yield TrustStore(db)
    finally:
        await db.close()
