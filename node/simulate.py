"""Enrolled networks of any shape on one machine: for the demo, the integration tests, the benches.

``plan`` enrols a list of ``(code, name)`` (``tree(*codes)`` names codes from the demo
network's one table) under a root key: a key and a fresh certificate chain per node under
``data_dir/<code>/``, and the settings of the hosts that will run them. ``Network.start``
then runs one ``Host`` per node, so every hop between nodes crosses a real gRPC socket on
loopback, or one host for all nodes (``one_process=True``, as ``archive-node demo`` does).
``net.service(code)`` and ``net.node(code)`` reach a node wherever it runs.

Also here, for anything driving such a network: ``ingest`` and ``make_record`` to put records
in, ``eventually`` and ``converged`` to wait for sync to settle, ``staff`` to make an account
(and its API token) at a node. No test framework needed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from node import crypto
from node.accounts import console_actor
from node.actors import Role
from node.citizens import IdNumber
from node.config import DEFAULT_TRUST, HostSettings, NodeSettings, SyncSettings, TrustSettings
from node.crypto import SigningKey
from node.federation.services import NodeServices
from node.federation.trust.grant import Enrolled, enrol_tree
from node.host import Host
from node.identity import parent_of
from node.node import Node
from node.records import CATEGORIES, Access, ArchivalCode, ContentFile, Record, Retention
from node.sample_data import archive_name

LOOPBACK = "127.0.0.1"
QUICK_SYNC = SyncSettings(interval_s=2.0, call_timeout_s=5.0, fetch_timeout_s=20.0)
"""Sync for short-lived networks: pushes every 2 s, calls that fail fast."""

Nodes = Sequence[tuple[str, str]]
"""``(code, archive name)`` of every node, in any order (parents are enrolled first)."""


def tree(*codes: str) -> list[tuple[str, str]]:
    """``(code, name)`` for ``Network.start``, named as the demo network names them."""
    return [(code, archive_name(code)) for code in codes]


_EPHEMERAL_LOW = 32768
"""Where Linux's default range for outgoing connections' local ports starts."""
_handed_out: set[int] = set()
_next_port = 20000 + (os.getpid() * 7) % 10000  # processes running side by side start apart


def free_port() -> int:
    """A loopback port nothing listens on now, below the kernel's ephemeral range.

    Certificates name a node's address before it binds, so the port is chosen early. A port
    the kernel hands out itself (bind to 0) lies in the ephemeral range, where any outgoing
    connection may take it before the node binds (CI once lost a whole test module that way);
    ports below that range are only ever taken on purpose. No port is handed out twice in one
    process.
    """
    global _next_port
    low, high = 20000, _ephemeral_low() - 1
    for _ in range(high - low + 1):
        port, _next_port = _next_port, low + (_next_port + 1 - low) % (high - low + 1)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free loopback port in {low}-{high}")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _EPHEMERAL_LOW


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Layout:
    """An enrolled network, not yet running: root key, every node's chain, each host's settings."""

    root: SigningKey
    enrolled: dict[str, Enrolled]
    hosts: tuple[HostSettings, ...]


def plan(
    data_dir: Path,
    nodes: Nodes,
    *,
    root: SigningKey | None = None,
    one_process: bool = False,
    grpc_port: int | None = None,
    web_port: int = 0,
    sync: SyncSettings = QUICK_SYNC,
    trust: TrustSettings = DEFAULT_TRUST,
    tls: bool = False,
) -> Layout:
    """Enrol ``nodes`` under ``root`` (a new key if None) and lay them out on hosts.

    One host per node, each on a free gRPC port, or with ``one_process`` one host for all on
    ``grpc_port`` (a free one if None). Web listeners take ``web_port`` (0: any free port).
    A node's parent address is set only when its parent runs on another host, as in a
    daemon's config. With ``tls`` every node gets a pinned TLS certificate and every host
    serves (and dials) TLS only, as daemons on their own machines do.
    """
    if grpc_port is not None and not one_process:
        raise ValueError("grpc_port names the one listener of a one_process network")
    root = root or SigningKey.generate()
    if one_process:
        shared = free_port() if grpc_port is None else grpc_port
        ports = {code: shared for code, _ in nodes}
    else:
        ports = {code: free_port() for code, _ in nodes}
    enrolled = enrol_tree(
        root,
        [(code, name, f"{LOOPBACK}:{ports[code]}") for code, name in nodes],
        data_dir,
        now_ms=int(time.time() * 1000),
        tls=tls,
    )
    groups = [list(nodes)] if one_process else [[n] for n in nodes]
    hosts = []
    for group in groups:
        here = {code for code, _ in group}
        hosts.append(
            HostSettings(
                data_dir=data_dir,
                root_public_key=root.public_key,
                grpc_listen=f"{LOOPBACK}:{ports[group[0][0]]}",
                web_listen=f"{LOOPBACK}:{web_port}",
                tls=tls,
                sync=sync,
                trust=trust,
                nodes=tuple(
                    NodeSettings(
                        code=code,
                        name=name,
                        parent_address=(
                            f"{LOOPBACK}:{ports[parent]}"
                            if (parent := parent_of(code)) in ports and parent not in here
                            else ""
                        ),
                    )
                    for code, name in group
                ),
            )
        )
    return Layout(root, enrolled, tuple(hosts))


@dataclass
class Network:
    """Running hosts of an enrolled network; ``hosts`` maps each node code to its host."""

    root: SigningKey
    hosts: dict[str, Host] = field(default_factory=dict)

    @classmethod
    async def start(
        cls,
        data_dir: Path,
        nodes: Nodes,
        *,
        root: SigningKey | None = None,
        one_process: bool = False,
        grpc_port: int | None = None,
        web_port: int = 0,
        sync: SyncSettings | None = None,
        trust: TrustSettings = DEFAULT_TRUST,
        tls: bool = False,
    ) -> Network:
        """Enrol ``nodes`` (see ``plan``), start every host, and log the tree at the root."""
        layout = plan(
            data_dir,
            nodes,
            root=root,
            one_process=one_process,
            grpc_port=grpc_port,
            web_port=web_port,
            sync=sync or QUICK_SYNC,
            trust=trust,
            tls=tls,
        )
        return await cls.launch(layout)

    @classmethod
    async def launch(cls, layout: Layout) -> Network:
        """Start the hosts of ``layout``; the root registry (if hosted) logs every certificate."""
        net = cls(layout.root)
        try:
            for settings in layout.hosts:
                host = Host(settings)
                await host.start()  # stops its own parts if it fails
                for n in settings.nodes:
                    net.hosts[n.code] = host
        except BaseException:
            await net.stop()  # the hosts already running: nothing outlives a failed launch
            raise
        if "33" in net.hosts:  # the root registry logs the tree it was given
            await net.node("33").keeper.directory.register(
                [e.chain[0] for e in layout.enrolled.values()]
            )
        return net

    def service(self, code: str) -> NodeServices:
        return self.hosts[code].service(code)

    def node(self, code: str) -> Node:
        return self.hosts[code].nodes[code]

    async def stop(self) -> None:
        for host in {id(h): h for h in self.hosts.values()}.values():
            await host.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait until ``check()`` is true (a condition, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def converged(host: Host) -> bool:
    """Every parent in ``host`` holds its children's subtree catalogues and nothing is pending.

    Deepest nodes are checked first: once a child has nothing left to push, its parent is
    checked after, so a parent with nothing left to push has passed the child's entries on.
    """
    for code in sorted(host.nodes, key=len, reverse=True):
        node = host.nodes[code]
        if any(link.lag for link in (await node.services.sync.status()).links):
            return False
        parent = parent_of(code)
        if parent in host.nodes:
            held = await host.nodes[parent].parts.catalogue.count(code)
            if held != await node.parts.catalogue.count(code):
                return False
    return True


def make_record(
    holder: str,
    n: int,
    *,
    title: str,
    category: str = "婚姻登记",
    access: Access = Access.OPEN,
    content: bytes = b"",
    subjects: tuple[str, ...] = (),
    year: int = 2015,
) -> tuple[Record, bytes]:
    """A valid record numbered ``n`` with one content file (``content`` or a small default)."""
    data = content or f"{holder}/{n} {title}\n".encode()
    code = ArchivalCode("J001", CATEGORIES[category], year, Retention.PERMANENT, n)
    record = Record(
        holder=holder,
        record_id=f"T-{CATEGORIES[category]}-{year}-{n:04d}",
        archival_code=str(code),
        fonds="J001",
        category=category,
        year=year,
        retention=Retention.PERMANENT,
        title=title,
        creator="测试民政局",
        date=f"{year}-05-20",
        access=access,
        subjects=subjects,
        files=(ContentFile(f"{n}.txt", crypto.sha256_hex(data), len(data), "text/plain"),),
    )
    return record, data


async def staff(
    services: NodeServices, name: str, *roles: Role, password: str | None = None
) -> str:
    """Open account ``name`` with ``roles`` at a node (as its console would) and return a new
    API token for it; the password is random unless given."""
    console = console_actor(services.info.code)
    secret = password or crypto.random_token()
    await services.accounts.create(console, name, secret, [r.value for r in roles])
    return (await services.accounts.create_token(console, name)).token


async def ingest(
    services: NodeServices,
    items: Sequence[tuple[Record, bytes]],
    subject_ids: Mapping[str, Sequence[IdNumber]] | None = None,
) -> None:
    """Ingest ``(record, content)`` pairs at one node, as a clerk's batch (``subject_ids``:
    record id -> the identity numbers of its subjects, indexed blind)."""
    await services.ingest.ingest(
        [r for r, _ in items],
        {r.files[0].sha256: d for r, d in items},
        actor=console_actor(services.info.code),
        subject_ids=subject_ids,
    )


async def index_keys_everywhere(net: Network, timeout: float = 30.0) -> None:
    """Wait until every node of ``net`` holds the registry's newest identity index key."""

    async def synced() -> bool:
        newest = net.node(min(net.hosts, key=len)).blind_index.newest_version
        return newest > 0 and all(
            net.node(code).blind_index.newest_version == newest for code in net.hosts
        )

    await eventually(synced, timeout)
