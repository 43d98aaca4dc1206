"""``archive-node demo``: the whole demo network (README, "What the demo shows") in one process.

A root key, a certificate for every node, deterministic sample records, sync within seconds,
one documented staff account per role (``DEMO_ACCOUNTS``, password ``NAME-demo``) with an API
token for the CLI, the URL of a village service point, and a citizen to look up by identity
number (``DEMO_CITIZEN``, synthetic: the subjects of controlled sample records have numbers,
indexed blind at ingest). Ctrl-C stops it cleanly. The
network is built by ``node.simulate`` from the one table in ``node.sample_data``; this module
only chooses the demo's settings, loads the samples and talks to the person who started it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import tempfile
from pathlib import Path

from node.accounts import console_actor
from node.actors import Role
from node.config import HostSettings, SyncSettings, TrustSettings
from node.crypto import SigningKey
from node.errors import PortInUse
from node.federation.trust.grant import Enrolled
from node.host import Host
from node.sample_data import (
    DEMO_CITIZEN,
    DEMO_NETWORK,
    DEMO_VILLAGE,
    sample_records,
    sample_subject_ids,
)
from node.simulate import Layout, Network, plan

__all__ = [
    "DEMO_ACCOUNTS", "DEMO_CITIZEN", "DEMO_VILLAGE", "ROOT_PUBLIC_FILE", "citizen_lines",
    "demo_accounts",
    "demo_password", "load_samples", "prepare", "run_demo",
]  # fmt: skip

# A short push interval and trust refresh, so a visitor sees sync and revocations happen.
DEMO_SYNC = SyncSettings(interval_s=5.0)
DEMO_TRUST = TrustSettings(refresh_interval_s=3.0)


# (node, account, role): a clerk at the village service point; a clerk, an archivist and an
# operator at the county; the archivist of 330110, who decides utilisation requests for its
# records; the province's operator for the registry. README lists them.
DEMO_ACCOUNTS: tuple[tuple[str, str, Role], ...] = (
    (DEMO_VILLAGE, "clerk", Role.CLERK),
    ("330106", "clerk", Role.CLERK),
    ("330106", "archivist", Role.ARCHIVIST),
    ("330106", "operator", Role.OPERATOR),
    ("330110", "archivist", Role.ARCHIVIST),  # decides the requests for 余杭's records
    ("33", "operator", Role.OPERATOR),
)
CLI_ACCOUNT = ("330106", "operator")  # whose token ``export ARCHIVE_NODE_TOKEN`` prints
TOKENS_FILE = "demo-tokens.txt"
ROOT_PUBLIC_FILE = "root.pub"  # the root public key in hex, for `archive-node verify --root-key`


def demo_password(name: str) -> str:
    """A demo account's documented password (never do this outside a demo)."""
    return f"{name}-demo"


async def demo_accounts(host: Host, data_dir: Path) -> dict[tuple[str, str], str]:
    """Open the demo accounts that do not exist yet and give each a new API token; the tokens
    are written to ``data_dir/demo-tokens.txt`` (``CODE NAME TOKEN`` per line, mode 600)."""
    tokens: dict[tuple[str, str], str] = {}
    for code, name, role in DEMO_ACCOUNTS:
        accounts = host.service(code).accounts
        console = console_actor(code)
        if name not in {a.name for a in await accounts.accounts()}:
            await accounts.create(console, name, demo_password(name), [role.value])
        tokens[(code, name)] = (await accounts.create_token(console, name, "demo")).token
    path = data_dir / TOKENS_FILE
    path.touch(mode=0o600)
    path.write_text("".join(f"{c} {n} {t}\n" for (c, n), t in tokens.items()), encoding="utf-8")
    return tokens


def citizen_lines() -> str:
    """What the demo prints of ``DEMO_CITIZEN``: her name, her (fictitious) number in full,
    and what a clerk finds by it."""
    c = DEMO_CITIZEN
    return (
        f"演示当事人（虚构）: {c.name}，身份证号码 {c.id_number.digits}\n"
        f"  以 clerk 登录村级服务点，按此号码检索，可找到 {c.holder_name}（{c.holder}）"
        f"保管的 {c.year} 年{c.category}档案（控制使用，题名已隐去）；按姓名检索找不到它。\n"
        f"  命令行: archive-node search --as {DEMO_VILLAGE} --id-number -   （再按提示输入号码）"
    )


def _layout(data_dir: Path, grpc_port: int, web_port: int) -> Layout:
    """Make (or reuse) the root key and node keys, and issue a fresh certificate tree."""
    return plan(
        data_dir,
        DEMO_NETWORK,
        root=SigningKey.load_or_create(data_dir / "root.key"),
        one_process=True,
        grpc_port=grpc_port,
        web_port=web_port,
        sync=DEMO_SYNC,
        trust=DEMO_TRUST,
    )


def prepare(
    data_dir: Path, grpc_port: int, web_port: int
) -> tuple[HostSettings, dict[str, Enrolled]]:
    """The settings of the one host that runs every demo node, and every node's enrolment."""
    layout = _layout(data_dir, grpc_port, web_port)
    # what a bank is given to check copies offline: the public half only, never root.key
    (data_dir / ROOT_PUBLIC_FILE).write_text(layout.root.public_key.hex() + "\n")
    return layout.hosts[0], layout.enrolled


async def load_samples(host: Host) -> int:
    """Ingest the sample records of every node that has none yet; returns how many."""
    total = 0
    names = dict(DEMO_NETWORK)
    for index, (code, node) in enumerate(host.nodes.items(), 1):
        if await node.parts.records.count():
            continue
        samples = sample_records(code, names[code])
        if samples:
            records = [record for record, _ in samples]
            contents = {record.files[0].sha256: data for record, data in samples if record.files}
            numbers = sample_subject_ids(records)
            if numbers and not node.blind_index.newest_version:
                # the subjects' numbers are indexed under the network's key: pull it now
                # (down from the province) rather than wait for the first upkeep tick
                await node.blind_index.refresh()
            await node.services.ingest.ingest(
                records, contents, actor=console_actor(node.code), subject_ids=numbers
            )
            total += len(records)
        print(
            f"  [{index}/{len(host.nodes)}] {names[code]}（{code}）: {len(samples)} 件样例档案",
            flush=True,
        )
    return total


async def _serve(data_dir: Path, grpc_port: int, web_port: int) -> None:
    net = await Network.launch(_layout(data_dir, grpc_port, web_port))
    host = net.hosts[DEMO_VILLAGE]  # one host runs them all
    assert host.listening is not None  # set by start()
    print(f"演示网络已启动：{len(host.nodes)} 个节点，数据目录 {data_dir}", flush=True)
    loaded = await load_samples(host)
    if loaded:
        print(f"已载入 {loaded} 件样例档案，目录正在逐级汇总到省馆……", flush=True)
    tokens = await demo_accounts(host, data_dir)
    print(flush=True)
    web_url = host.listening.web_url
    names = dict(DEMO_NETWORK)
    print("演示账号（密码为“账号名-demo”，如 clerk-demo）:", flush=True)
    for code, name, role in DEMO_ACCOUNTS:
        print(f"  {names[code]}（{code}）{role.zh}: {name}  {web_url}/n/{code}/login", flush=True)
    print(
        f"命令行令牌（{CLI_ACCOUNT[0]} 的 {CLI_ACCOUNT[1]}）:\n"
        f"  export ARCHIVE_NODE_TOKEN={tokens[CLI_ACCOUNT]}\n"
        f"  （全部演示令牌见 {data_dir / TOKENS_FILE}）",
        flush=True,
    )
    print(
        f"村级服务点（{dict(DEMO_NETWORK)[DEMO_VILLAGE]}）: {web_url}/n/{DEMO_VILLAGE}/", flush=True
    )
    print(citizen_lines(), flush=True)
    root_pub = data_dir / ROOT_PUBLIC_FILE
    print(
        f"根公钥（核验档案证明用）: {root_pub}\n"
        f"  archive-node verify 证明.pdf --root-key {root_pub}   （或打开 {web_url}/n/33/verify）",
        flush=True,
    )
    print(f"全部节点: {web_url}/    按 Ctrl-C 停止。", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("正在停止……", flush=True)
    await net.stop()


def run_demo(data_dir: Path | None, grpc_port: int = 50051, web_port: int = 8080) -> None:
    """Run the demo until Ctrl-C; a temporary data folder unless ``data_dir`` is given.

    A port that is taken ends it with one line (``PortInUse`` says which and what to do);
    ``Host.start`` has stopped whatever it had started, so no listener outlives the loop.
    """
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            asyncio.run(_serve(data_dir, grpc_port, web_port))
            return
        with tempfile.TemporaryDirectory(prefix="archive-demo-") as tmp:
            asyncio.run(_serve(Path(tmp), grpc_port, web_port))
    except PortInUse as exc:
        print(f"错误: 无法启动演示网络: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as exc:
        print(
            f"错误: 无法启动演示网络: {exc}（可用 --grpc-port / --web-port 换端口）",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
