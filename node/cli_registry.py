"""``archive-node init`` and ``archive-node registry ...``: keys, enrolment requests, certificates.

File-based and offline, so the root key can stay on a machine that is never on the network:
a new node writes a request, its parent's operator signs it into a chain, the chain goes back.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from node.crypto import SigningKey
from node.errors import ConfigError
from node.federation.enrolment import (
    chain_path,
    enrolment_request,
    issue_for_request,
    key_path,
    load_chain,
    save_chain,
)
from node.identity import Level, level_of, validate_code

DAY_MS = 24 * 3600 * 1000


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


@click.command()
@click.option("--data", "data_dir", required=True, type=click.Path(path_type=Path), help="数据目录")
@click.option("--code", required=True, help="本节点区划代码，如 330106")
@click.option("--name", required=True, help="档案馆（室）名称，如 西湖区档案馆")
@click.option("--root-public-key", required=True, metavar="HEX", help="省级根公钥（64 位十六进制）")
@click.option("--listen", default="0.0.0.0:50051", show_default=True, help="gRPC 监听地址")
@click.option("--advertise", default="", metavar="HOST:PORT", help="其他节点连接本节点的地址")
@click.option(
    "--web-listen", default="127.0.0.1:8080", show_default=True, help="网页与 API 监听地址"
)
@click.option("--parent-address", default="", metavar="HOST:PORT", help="上级节点的 gRPC 地址")
def init(
    data_dir: Path,
    code: str,
    name: str,
    root_public_key: str,
    listen: str,
    advertise: str,
    web_listen: str,
    parent_address: str,
) -> None:
    """新节点首次启动前：生成密钥、配置文件和入网申请。"""
    validate_code(code)
    if len(bytes.fromhex(root_public_key)) != 32:
        raise ConfigError("根公钥应为 64 位十六进制")
    if level_of(code) != Level.PROVINCE and not parent_address:
        raise ConfigError("非省级节点须用 --parent-address 指定上级节点地址")
    config = data_dir / "node.toml"
    if config.exists():
        raise ConfigError(f"{config} 已存在；如需重建请先移走")
    key = SigningKey.load_or_create(key_path(data_dir / code))
    data_dir.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "# archive-node configuration; every setting is described in docs/configuration.md\n"
        "[host]\n"
        f"data_dir = {_toml_string(str(data_dir.resolve()))}\n"
        f"root_public_key = {_toml_string(root_public_key.lower())}\n"
        f"grpc_listen = {_toml_string(listen)}\n"
        f"web_listen = {_toml_string(web_listen)}\n\n"
        "[[node]]\n"
        f"code = {_toml_string(code)}\n"
        f"name = {_toml_string(name)}\n"
        f"parent_address = {_toml_string(parent_address)}\n",
        encoding="utf-8",
    )
    request_file = data_dir / code / "enrol-request.json"
    request_file.write_text(
        json.dumps(
            enrolment_request(code, name, key, advertise or listen), ensure_ascii=False, indent=1
        )
    )
    click.echo(f"已生成密钥 {key_path(data_dir / code)}（{key.key_id}）和配置 {config}")
    click.echo(f"请将入网申请 {request_file} 交上级节点运维人员签发证书，")
    click.echo(f"并把签回的证书链保存为 {chain_path(data_dir / code)}，然后运行:")
    click.echo(f"  archive-node run --config {config}")


@click.group()
def registry() -> None:
    """根密钥与证书签发（离线操作）。"""


@registry.command("init-root")
@click.option(
    "--key", "key_file", required=True, type=click.Path(path_type=Path), help="根密钥文件"
)
def init_root(key_file: Path) -> None:
    """生成省级根密钥（请保存在离线机器上），打印其公钥。"""
    if key_file.exists():
        raise ConfigError(f"{key_file} 已存在，不会覆盖根密钥")
    key = SigningKey.generate()
    key.save(key_file)
    click.echo(key.public_key.hex())


@registry.command("issue")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="签发者密钥（上级节点的 node.key；省级节点用根密钥）",
)
@click.option(
    "--chain",
    "chain_file",
    type=click.Path(exists=True, path_type=Path),
    help="签发者的证书链（用根密钥签发省级证书时省略）",
)
@click.option(
    "--request",
    "request_file",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="下级节点的入网申请 enrol-request.json",
)
@click.option(
    "--days", type=click.IntRange(1, 3650), default=365, show_default=True, help="有效天数"
)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="写出的证书链")
def issue_cmd(
    key_file: Path, chain_file: Path | None, request_file: Path, days: int, output: Path
) -> None:
    """为直接下级签发证书，写出其完整证书链。"""
    issuer = SigningKey.load(key_file)
    issuer_chain = load_chain(chain_file) if chain_file else ()
    try:
        request = json.loads(request_file.read_text())
    except ValueError as exc:
        raise ConfigError(f"入网申请不是有效的 JSON: {exc}") from None
    chain = issue_for_request(
        request, issuer, issuer_chain, now_ms=int(time.time() * 1000), lifetime_ms=days * DAY_MS
    )
    save_chain(output, chain)
    leaf = chain[0]
    expires = time.strftime("%Y-%m-%d", time.localtime(leaf.not_after_ms / 1000))
    click.echo(
        f"已为 {leaf.name}（{leaf.node_id}）签发证书，序列号 {leaf.serial}，"
        f"有效期至 {expires}: {output}"
    )


@registry.command("show")
@click.option("--chain", "chain_file", required=True, type=click.Path(exists=True, path_type=Path))
def show(chain_file: Path) -> None:
    """显示证书链。"""
    for cert in load_chain(chain_file):
        expires = time.strftime("%Y-%m-%d", time.localtime(cert.not_after_ms / 1000))
        click.echo(
            f"{cert.node_id}\t{cert.name}\t{cert.key_id}\t{cert.address or '-'}\t至 {expires}"
        )
