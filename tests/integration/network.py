"""Standing up real networks for integration tests: real gRPC on loopback, real SQLite files.

``Network.start`` runs one ``Host`` per node (so every hop crosses a socket), or one host for
all nodes (``one_process=True``, as the demo does).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from node import crypto
from node.config import HostSettings, NodeSettings, SyncSettings
from node.crypto import SigningKey
from node.federation.service import NodeService
from node.federation.trust.grant import enrol_tree
from node.identity import parent_of
from node.node import Host
from node.records import Access, ContentFile, Record, Retention

NAMES = {
    "33": "浙江省档案馆",
    "3301": "杭州市档案馆",
    "330106": "西湖区档案馆",
    "330108": "滨江区档案馆",
    "330110": "余杭区档案馆",
    "330106001": "北山街道档案室",
    "330106001001": "金鱼井社区档案室",
    "330110001": "余杭街道档案室",
    "330110001001": "凤凰山村档案室",
}


def tree(*codes: str) -> list[tuple[str, str]]:
    """``(code, name)`` for ``Network.start``, with the archives' real names."""
    return [(code, NAMES[code]) for code in codes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Network:
    root: SigningKey
    hosts: dict[str, Host] = field(default_factory=dict)  # node code -> the host running it

    @classmethod
    async def start(
        cls,
        data_dir: Path,
        nodes: Sequence[tuple[str, str]],
        *,
        one_process: bool = False,
        sync: SyncSettings | None = None,
    ) -> Network:
        root = SigningKey.generate()
        net = cls(root)
        ports = {code: free_port() for code, _ in nodes}
        if one_process:
            shared = free_port()
            ports = dict.fromkeys(ports, shared)
        enrolled = enrol_tree(
            root,
            [(code, name, f"127.0.0.1:{ports[code]}") for code, name in nodes],
            data_dir,
            now_ms=int(time.time() * 1000),
        )
        sync = sync or SyncSettings(interval_s=2.0, call_timeout_s=5.0, fetch_timeout_s=20.0)
        groups = [list(nodes)] if one_process else [[n] for n in nodes]
        for group in groups:
            code0 = group[0][0]
            settings = HostSettings(
                data_dir=data_dir,
                root_public_key=root.public_key,
                grpc_listen=f"127.0.0.1:{ports[code0]}",
                web_listen="127.0.0.1:0",
                sync=sync,
                nodes=tuple(
                    NodeSettings(
                        code=code,
                        name=name,
                        parent_address=(
                            f"127.0.0.1:{ports[parent]}"
                            if (parent := parent_of(code)) in ports
                            else ""
                        ),
                    )
                    for code, name in group
                ),
            )
            host = Host(settings)
            await host.start()
            for code, _ in group:
                net.hosts[code] = host
        if "33" in net.hosts:  # the root registry logs the tree it was given
            await net.node("33").keeper.directory.register([e.chain[0] for e in enrolled.values()])
        return net

    def service(self, code: str) -> NodeService:
        return self.hosts[code].service(code)

    def node(self, code: str):  # type: ignore[no-untyped-def]
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
    """A valid record with one content file (``content`` or a small default)."""
    from node.records import CATEGORIES, ArchivalCode

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


async def ingest(service: NodeService, items: Sequence[tuple[Record, bytes]]) -> None:
    await service.ingest([r for r, _ in items], {r.files[0].sha256: d for r, d in items})


async def converged(host: Host) -> bool:
    """Every parent in ``host`` holds its children's subtree catalogues and nothing is pending.

    Deepest nodes are checked first: once a child has nothing left to push, its parent is
    checked after, so a parent with nothing left to push has passed the child's entries on.
    """
    for code in sorted(host.nodes, key=len, reverse=True):
        node = host.nodes[code]
        if any(link.lag for link in (await node.service.status()).links):
            return False
        parent = parent_of(code)
        if parent in host.nodes:
            held = await host.nodes[parent].parts.catalogue.count(code)
            if held != await node.parts.catalogue.count(code):
                return False
    return True
