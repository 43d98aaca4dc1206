"""``Node`` builds one node's parts; ``Host`` runs many nodes behind one gRPC and one web listener.

Each node has its own key, certificate chain, database and blob store under
``data_dir/<code>/``. Calls between nodes of one host skip the socket but not the checks.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from node import tlscert
from node.actors import Actor
from node.config import (
    DEFAULT_ACCOUNTS,
    DEFAULT_TRUST,
    AccountSettings,
    HostSettings,
    NodeSettings,
    OutboxSettings,
    TrustSettings,
    web_host_names,
)
from node.crypto import SigningKey
from node.errors import ConfigError, PortInUse
from node.federation import audit_handlers, catalogue_handlers
from node.federation.addresses import AddressBook
from node.federation.antientropy import CatalogueRepairer
from node.federation.audit_checkpoints import AuditCheckpointer
from node.federation.client import FederationClient
from node.federation.dispatch import Dispatcher
from node.federation.envelope import Clock, Signer
from node.federation.handlers import HandlerRegistry
from node.federation.parts import NodeParts
from node.federation.refusals import RefusalLog
from node.federation.server import FederationServer
from node.federation.services import NodeInfo, NodeServices
from node.federation.services.accounts import AccountEvent, Accounts
from node.federation.services.audit import NodeAudit
from node.federation.services.ingest import Ingest
from node.federation.services.refusals import NodeRefusals
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
    tls_cert_path,
    tls_key_path,
)
from node.federation.trust.keeper import TrustKeeper
from node.federation.trust.verify import ChainVerifier, Gatekeeper
from node.identity import parent_of
from node.jobs import build_scheduler
from node.rpc.codec import ProtobufCodec
from node.rpc.peers import PeerTransport
from node.rpc.server import GrpcServer
from node.storage.accounts import AccountStore
from node.storage.audit import AuditLog
from node.storage.blobs import BlobStore
from node.storage.catalogue import CatalogueStore
from node.storage.changelog import ChangeLog
from node.storage.db import Database
from node.storage.peers import PeerStateStore
from node.storage.records import RecordStore
from node.storage.trust import SeenNonces, TrustStore
from node.web import create_app
from node.web.hosts import WebHosts

log = logging.getLogger(__name__)


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
    ) -> None:
        self.settings = settings
        self.code = settings.code
        # told after every catalogue change, besides the pusher (benches wait on it)
        self.catalogue_listeners: list[Callable[[], None]] = []
        self.dir = node_dir
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
        # Each feature registers the calls it answers; a new feature adds its line here.
        handlers = HandlerRegistry()
        catalogue_handlers.register(handlers, self.parts, self._changed)
        trust_handlers.register(handlers, self.parts, self.keeper)
        audit_handlers.register(handlers, self.parts)
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
        self.services = NodeServices(
            info=info,
            search=CatalogueSearch(self.parts, client, chains.state),
            retrieval=Retrieval(self.parts, client, chains.state),
            ingest=Ingest(self.parts, self._changed),
            sync=SyncAdmin(self.parts, info, self.pusher, self.repairer),
            trust=TrustAdmin(self.keeper, self.parts),
            refusals=NodeRefusals(self.code, self.refusals, lambda: server.accepted),
            audit=NodeAudit(self.parts, self.checkpointer),
            accounts=self.accounts,
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

    async def open(self) -> None:
        await self.db.open()
        await self.keeper.open()

    async def start_sync(self) -> None:
        if self.pusher is not None:
            await self.pusher.start()
        await self.keeper.start()

    async def close(self) -> None:
        if self.pusher is not None:
            await self.pusher.stop()
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


@dataclass(frozen=True)
class Listening:
    grpc_port: int
    web_port: int
    web_host: str

    @property
    def web_url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"


class Host:
    """Runs every node of a ``HostSettings`` behind one gRPC and one web listener."""

    def __init__(self, settings: HostSettings, clock: Clock = time.time) -> None:
        self.settings = settings
        self.codec = ProtobufCodec()
        self.dispatcher = Dispatcher(self.codec)
        self.addresses = AddressBook(
            {
                parent: n.parent_address
                for n in settings.nodes
                if n.parent_address and (parent := parent_of(n.code))
            }
        )
        self.transport = PeerTransport(self.dispatcher, self.addresses.resolve, settings.tls)
        timeouts = (settings.sync.call_timeout_s, settings.sync.fetch_timeout_s)
        self.nodes: dict[str, Node] = {
            n.code: Node(
                n,
                settings.data_dir / n.code,
                root_public_key=settings.root_public_key,
                codec=self.codec,
                transport=self.transport,
                addresses=self.addresses,
                sync_timeouts=timeouts,
                trust=settings.trust,
                refusals=self.dispatcher.refusals,
                clock=clock,
                outbox=settings.sync.outbox(),
                accounts=settings.accounts,
            )
            for n in settings.nodes
        }
        for node in self.nodes.values():
            node.keeper.directory.known_nodes = self._known_nodes
            node.keeper.directory.learn = self.addresses.learn
            # a node's own chain names its parent's TLS pin before any call arrives
            self.addresses.learn(node.parts.signer.chain[1:])
        tls = [self._tls_identity(node) for node in self.nodes.values()] if settings.tls else []
        self.grpc = GrpcServer(
            self.dispatcher, settings.grpc_listen, settings.admin_listen or None, tls
        )
        self.scheduler = build_scheduler(
            [n.pusher for n in self.nodes.values() if n.pusher is not None],
            settings.sync.interval_s,
            [n.keeper for n in self.nodes.values()],
            settings.trust.refresh_interval_s,
            [n.repairer for n in self.nodes.values() if n.repairer is not None],
            settings.sync.anti_entropy_interval_s,
            [n.checkpointer for n in self.nodes.values()],
            settings.audit.checkpoint_interval_s,
        )
        self._runner: web.AppRunner | None = None
        self.listening: Listening | None = None

    @staticmethod
    def _tls_identity(node: Node) -> tlscert.TlsIdentity:
        """The node's TLS key and certificate, which its node certificate must pin."""
        # missing files are made anew (moved away after a leak): the renewal below pins them
        identity = tlscert.load_or_create(
            node.code, tls_key_path(node.dir), tls_cert_path(node.dir)
        )
        node.keeper.credentials.tls_sha256 = identity.sha256
        if node.keeper.credentials.tls_unpinned() and parent_of(node.code) is not None:
            # enrolled online (the application carries no pin) or tls.crt replaced: the
            # first upkeep asks the parent for a certificate that pins it
            log.warning(
                "certificate of %s does not pin %s yet; asking the parent to renew it",
                node.code,
                tls_cert_path(node.dir),
            )
        elif node.keeper.credentials.tls_unpinned():
            raise ConfigError(
                f"省级节点 {node.code} 的证书没有绑定 {tls_cert_path(node.dir)}（指纹不符或缺失）："
                f"请用根密钥按含 tls_sha256 的 {node.dir}/enrol-request.json 重新签发证书"
                "（docs/operations.md，TLS），或设 host.tls = false"
            )
        return identity

    def _known_nodes(self) -> frozenset[str]:
        return self.addresses.codes().union(self.nodes)

    def service(self, code: str) -> NodeServices:
        """The use-case services of hosted node ``code``."""
        return self.nodes[code].services

    async def start(self) -> Listening:
        """Open every node's database, then listen; sync starts once all can answer.

        A listener that cannot bind (``PortInUse``) stops whatever already started, so the
        caller gets one clear error and no half-running host.
        """
        try:
            return await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> Listening:
        for node in self.nodes.values():
            await node.open()
            self.dispatcher.add(node.server)
        await self.grpc.start()
        # Until the port is bound, only loopback names pass; then the configured or own ones.
        self.web_hosts = WebHosts()
        app = create_app(
            {code: node.services for code, node in self.nodes.items()}, web_hosts=self.web_hosts
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        web_host, _, web_port = self.settings.web_listen.rpartition(":")
        site = web.TCPSite(self._runner, web_host.strip("[]"), int(web_port))
        try:
            await site.start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            listen = self.settings.web_listen
            raise PortInUse("网页", listen, "--web-port / host.web_listen") from exc
        server = site._server  # the bound socket tells the real port when 0 was asked
        sockets = getattr(server, "sockets", None) or []
        bound_port = sockets[0].getsockname()[1] if sockets else int(web_port)
        self.web_hosts.names = web_host_names(
            self.settings.web_listen, bound_port, self.settings.web_hosts
        )
        for node in self.nodes.values():
            await node.start_sync()
        self.scheduler.start()
        self.listening = Listening(self.grpc.port, bound_port, web_host.strip("[]") or "127.0.0.1")
        log.info(
            "hosting %s; gRPC on port %d, web on %s",
            ", ".join(self.nodes),
            self.grpc.port,
            self.listening.web_url,
        )
        return self.listening

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.grpc.stop()
        await asyncio.gather(*(node.close() for node in self.nodes.values()))
        await self.transport.close()
