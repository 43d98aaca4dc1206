"""``archive-node host add``: a county's daemon takes on one of its townships or villages.

One daemon can host a county and the nodes under it (docs/operations.md, "Hosting townships
and villages at a county"). Adding one by hand meant a folder, a key, a TLS certificate, a
``[[node]]`` table, a certificate signed by the hosted parent and a report to the registry;
``host add`` does all of it, on files, next to the daemon:

- the parent must be hosted by the same configuration and enrolled (its ``chain.json``), so
  its key signs the new node's certificate here, offline, pinning the new TLS certificate;
- the certificate is queued in the parent's trust outbox (``node.db``), which the parent
  sends to the root registry at its next start or upkeep: the directory learns it as it
  learns every online approval;
- the ``[[node]]`` table is appended to ``node.toml`` last, so a failure before it leaves the
  configuration as it was (running the command again reuses the folder's key).

The daemon hosts the new node once restarted.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import click

from node import tlscert
from node.certificates import Certificate
from node.cli.common import CliError
from node.config import load_settings
from node.crypto import SigningKey
from node.federation.trust.events import encode_event
from node.federation.trust.files import (
    chain_path,
    key_path,
    load_chain,
    save_chain,
    tls_cert_path,
    tls_key_path,
)
from node.federation.trust.grant import enrolment_request, issue_for_request
from node.identity import parent_of, validate_code
from node.node import offline_trust_store


@click.group()
def host() -> None:
    """一个守护进程托管多个节点（县级馆托管其乡镇、村）。"""


@host.command("add")
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="守护进程的配置文件 node.toml",
)
@click.option("--code", required=True, help="新托管节点的区划代码，如 330110001")
@click.option("--name", required=True, help="新托管节点的名称，如 仓前街道档案室")
def add(config_file: Path, code: str, name: str) -> None:
    """在本守护进程中新增托管节点：目录、密钥、配置、由上级签发的证书，并报送信任目录。"""
    settings = load_settings(config_file)
    code = validate_code(code)
    name = name.strip()
    if not name:
        raise CliError("请用 --name 写明档案馆（室）名称")
    hosted = {n.code: n for n in settings.nodes}
    if code in hosted:
        raise CliError(f"{config_file} 中已有节点 {code}")
    parent = parent_of(code)
    if parent is None or parent not in hosted:
        raise CliError(
            f"{code} 的上级 {parent or '（无）'} 不由本配置托管：只能托管本配置中节点的直接下级"
            "（先添加其上级；其他节点请用 archive-node init 与 enrol 入网）"
        )
    parent_dir = settings.data_dir / parent
    parent_key = SigningKey.load(key_path(parent_dir))
    parent_chain = load_chain(chain_path(parent_dir))  # the parent must be enrolled first
    node_dir = settings.data_dir / code
    key = SigningKey.load_or_create(key_path(node_dir))
    tls = tlscert.load_or_create(code, tls_key_path(node_dir), tls_cert_path(node_dir))
    # hosted nodes share the daemon's listener, so they are reached where the parent is
    address = hosted[parent].advertise or parent_chain[0].address
    request = enrolment_request(code, name, key, address, tls.sha256)
    (node_dir / "enrol-request.json").write_text(
        json.dumps(request, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    chain = issue_for_request(
        request,
        parent_key,
        parent_chain,
        now_ms=int(time.time() * 1000),
        lifetime_ms=settings.trust.cert_lifetime_ms,
    )
    save_chain(chain_path(node_dir), chain)
    asyncio.run(_report(settings.data_dir, parent, chain[0]))
    with config_file.open("a", encoding="utf-8") as out:
        out.write(
            "\n[[node]]\n"
            f"code = {json.dumps(code)}\n"
            f"name = {json.dumps(name, ensure_ascii=False)}\n"
            'parent_address = ""  # hosted by this daemon, like its parent\n'
            f"advertise = {json.dumps(address)}\n"
        )
    expires = time.strftime("%Y-%m-%d", time.localtime(chain[0].not_after_ms / 1000))
    click.echo(
        f"已托管 {code}（{name}）：密钥 {key.key_id}，证书由 {parent} 签发（序列号 "
        f"{chain[0].serial}，有效期至 {expires}），已写入 {config_file}，并交 {parent} 报送信任目录"
    )
    click.echo("重启守护进程后生效；再为其开设第一个运维账号:")
    click.echo(
        f"  archive-node account create --data {settings.data_dir} --node {code} "
        "--role operator NAME"
    )


async def _report(data_dir: Path, parent: str, certificate: Certificate) -> None:
    """Queue the certificate in the parent's trust outbox, as an online approval does."""
    async with offline_trust_store(data_dir, parent) as store:
        await store.queue_report(encode_event(certificate))
