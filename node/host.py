"""``Host`` runs every node of one daemon behind one gRPC and one web listener
(docs/operations.md, "Hosting townships and villages at a county"): a county's townships and
villages, or the whole demo network.

Each hosted node is a ``node.node.Node`` with its own key, database and identity; calls
between nodes of one host skip the socket but not the checks.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from dataclasses import dataclass

from aiohttp import web

from node import tlscert
from node.config import (
    HostSettings,
    web_host_names,
)
from node.errors import ConfigError, PortInUse
from node.federation.addresses import AddressBook
from node.federation.dispatch import Dispatcher
from node.federation.envelope import Clock
from node.federation.services import NodeServices
from node.federation.trust.files import (
    tls_cert_path,
    tls_key_path,
)
from node.identity import parent_of
from node.jobs import build_scheduler
from node.node import Node
from node.rpc.codec import ProtobufCodec
from node.rpc.peers import PeerTransport
from node.rpc.server import GrpcServer
from node.web import create_app
from node.web.hosts import WebHosts

log = logging.getLogger(__name__)


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
                oai=settings.oai,
                appraisal=settings.appraisal,
                requests=settings.requests,
                preservation=settings.preservation,
            )
            for n in settings.nodes
        }
        for n in settings.nodes:
            self.nodes[n.code].keeper.credentials.advertise = n.advertise
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
            [n.appraisal for n in self.nodes.values()],
            settings.appraisal.interval_s,
            [n.desk for n in self.nodes.values()],
            fixity=[n.fixity for n in self.nodes.values()],
            fixity_interval_s=settings.preservation.fixity_interval_s,
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
        # certified copies print the first name clerks are told to use, else the listener
        public = self.settings.web_hosts[0] if self.settings.web_hosts else ""
        if public and not public.rpartition(":")[2].isdigit():
            public = f"{public}:{bound_port}"  # a name for any port: the bound one
        for node in self.nodes.values():
            node.public_url = f"http://{public}" if public else self.listening.web_url
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
