"""The offline steps of joining the network: ``init``, ``enrol``, ``registry init-root``,
``registry issue`` and ``registry show``. They work on key, config and chain files (``enrol``
talks to the parent over gRPC itself), never through a daemon's JSON API.

Two ways to enrol. Online: ``init`` then ``enrol`` sends the application to the parent, whose
operator approves it (``registry enrol approve --key-id`` or the registry web page) and the
chain comes back by itself. Offline, so the root key can stay on a machine never on the network:
``registry issue`` signs an ``enrol-request.json`` into a chain file. The province is always
certified offline, by the root key.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import click

from node import tlscert
from node.certificates import Certificate
from node.cli.common import CliError
from node.config import DAY_MS, is_local_address, load_settings
from node.crypto import SigningKey
from node.errors import ConfigError
from node.federation.messages import ENROL, EnrolApplication
from node.federation.trust.applicant import apply_for_enrolment
from node.federation.trust.files import (
    chain_path,
    key_path,
    load_chain,
    save_chain,
    tls_cert_path,
    tls_key_path,
)
from node.federation.trust.grant import enrolment_request, issue_for_request
from node.identity import Level, level_of, parent_of, validate_code


def check_advertised(address: str, option: str) -> None:
    """Refuse an address no other machine can dial (the parent would sign it into the
    certificate, and its calls to this node would reach its own listener instead)."""
    if not address or is_local_address(address):
        raise CliError(
            f"本节点对外地址 {address or '（未填写）'} 是本机或未指定的地址，上级节点无法由此连接"
            f"本节点：请用 {option} 写明其他机器连接本节点的地址（如 county.example:50051）；"
            "仅在单机测试时加 --allow-local"
        )


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
@click.option(
    "--parent-address", default="", metavar="HOST:PORT", help="上级节点的 gRPC 地址（省级节点不填）"
)
@click.option("--allow-local", is_flag=True, help="允许本机回环地址（仅单机测试）")
def init(
    data_dir: Path,
    code: str,
    name: str,
    root_public_key: str,
    listen: str,
    advertise: str,
    web_listen: str,
    parent_address: str,
    allow_local: bool,
) -> None:
    """新节点首次启动前：生成密钥、配置文件和入网申请。

    省级节点不填 --parent-address；其他节点须填上级地址，并用 --advertise 写明其他机器连接
    本节点的地址（写入 node.toml，入网申请和证书都用它）。
    """
    validate_code(code)
    try:
        if len(bytes.fromhex(root_public_key)) != 32:
            raise ValueError
    except ValueError:
        raise ConfigError("根公钥应为 64 位十六进制（registry init-root 打印的那一串）") from None
    province = level_of(code) == Level.PROVINCE
    if not province and not parent_address:
        raise ConfigError("非省级节点须用 --parent-address 指定上级节点地址")
    if province and parent_address:
        raise ConfigError("省级节点没有上级：请去掉 --parent-address")
    advertise = advertise or ("" if is_local_address(listen) else listen)
    if not province and not allow_local:
        check_advertised(advertise, "--advertise")
    config = data_dir / "node.toml"
    if config.exists():
        raise ConfigError(f"{config} 已存在；如需重建请先移走")
    key = SigningKey.load_or_create(key_path(data_dir / code))
    # the listener's TLS certificate, pinned by the node certificate the parent will sign
    tls = tlscert.load_or_create(
        code, tls_key_path(data_dir / code), tls_cert_path(data_dir / code)
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "# archive-node configuration; every setting is described in docs/configuration.md\n"
        "[host]\n"
        f"data_dir = {_toml_string(str(data_dir.resolve()))}\n"
        f"root_public_key = {_toml_string(root_public_key.lower())}\n"
        f"grpc_listen = {_toml_string(listen)}\n"
        f"web_listen = {_toml_string(web_listen)}\n"
        "# federation gRPC over TLS, pinned by the node certificates (docs/operations.md)\n"
        "tls = true\n\n"
        "[[node]]\n"
        f"code = {_toml_string(code)}\n"
        f"name = {_toml_string(name)}\n"
        f"parent_address = {_toml_string(parent_address)}\n"
        "# where other machines reach this node; its certificate names it\n"
        f"advertise = {_toml_string(advertise)}\n",
        encoding="utf-8",
    )
    request_file = data_dir / code / "enrol-request.json"
    request_file.write_text(
        json.dumps(
            enrolment_request(code, name, key, advertise, tls.sha256),
            ensure_ascii=False,
            indent=1,
        )
    )
    click.echo(
        f"已生成密钥 {key_path(data_dir / code)}（{key.key_id}）、TLS 证书 "
        f"{tls_cert_path(data_dir / code)}（SHA-256 {tls.sha256.hex()[:16]}…）和配置 {config}"
    )
    if level_of(code) == Level.PROVINCE:
        click.echo(f"请用根密钥为入网申请 {request_file} 签发证书（registry issue），")
    else:
        local = " --allow-local" if allow_local else ""
        click.echo(f"在线入网：archive-node enrol --config {config} --wait 600{local}")
        click.echo(f"（或离线：将入网申请 {request_file} 交上级节点运维人员签发证书，）")
    click.echo(f"证书链保存为 {chain_path(data_dir / code)} 后运行:")
    click.echo(f"  archive-node run --config {config}")


@click.command("init-root")
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


@click.command("issue")
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
        request = json.loads(request_file.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # ValueError includes a file not in UTF-8
        raise ConfigError(f"入网申请不是有效的 UTF-8 JSON: {request_file}: {exc}") from None
    if not isinstance(request, dict):
        raise ConfigError(f"入网申请应为 JSON 对象（enrol-request.json）: {request_file}")
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


@click.command("show")
@click.option("--chain", "chain_file", required=True, type=click.Path(exists=True, path_type=Path))
def show(chain_file: Path) -> None:
    """显示证书链。"""
    for cert in load_chain(chain_file):
        expires = time.strftime("%Y-%m-%d", time.localtime(cert.not_after_ms / 1000))
        click.echo(
            f"{cert.node_id}\t{cert.name}\t{cert.key_id}\t{cert.address or '-'}\t至 {expires}"
        )


@click.command()
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="init 写出的配置文件",
)
@click.option("--code", default=None, help="配置中托管多个节点时，指定申请入网的节点")
@click.option(
    "--advertise", default="", metavar="HOST:PORT", help="其他节点连接本节点的地址（默认取配置）"
)
@click.option("--allow-local", is_flag=True, help="允许本机回环地址（仅单机测试）")
@click.option(
    "--wait",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="等待审批的最长秒数（0 = 只提交或查询一次）",
)
def enrol(
    config_file: Path, code: str | None, advertise: str, allow_local: bool, wait: int
) -> None:
    """向上级节点在线申请入网；获批后保存证书链。可重复运行以查询审批结果。"""
    settings = load_settings(config_file)
    nodes = [n for n in settings.nodes if code in (None, n.code)]
    if len(nodes) != 1:
        raise CliError("配置中有多个节点，请用 --code 指定" if nodes else f"配置中没有节点 {code}")
    node = nodes[0]
    if not node.parent_address:
        raise CliError(
            f"配置中 {node.code} 没有 parent_address，不知道向哪里申请；上级由本守护进程托管的"
            "节点不需在线入网，请用 archive-node host add 添加（docs/operations.md）"
        )
    node_dir = settings.data_dir / node.code
    key = SigningKey.load(key_path(node_dir))
    address = advertise or node.advertise
    if not allow_local:
        check_advertised(address, "--advertise（或 node.toml 的 advertise）")
    application = EnrolApplication(
        code=node.code, name=node.name, public_key=key.public_key, address=address
    )
    # what the applicant tells the parent's operator, before waiting for the approval
    click.echo(
        f"入网申请 {node.code}（{node.name}，地址 {address}，密钥标识 {key.key_id}）："
        f"请把区划代码和密钥标识告诉上级节点 {parent_of(node.code)} 的运维人员核对批准。",
    )
    sys.stdout.flush()
    from node.rpc.codec import ProtobufCodec
    from node.rpc.peers import call_address, call_address_tls

    seen_tls: list[bytes] = []  # the parent's TLS certificate, checked against its chain below

    async def send(request: bytes) -> bytes:
        if settings.tls:
            reply, pin = await call_address_tls(
                parent_of(node.code) or "", node.parent_address, ENROL, request, 10.0
            )
            seen_tls.append(pin)
            return reply
        return await call_address(node.parent_address, ENROL, request, 10.0)

    deadline = time.monotonic() + wait
    while True:
        status = asyncio.run(
            apply_for_enrolment(key, application, settings.root_public_key, ProtobufCodec(), send)
        )
        if status.status != "pending" or time.monotonic() >= deadline:
            break
        time.sleep(min(5.0, max(0.5, deadline - time.monotonic())))
    if status.status == "approved":
        _check_tls(status.chain, seen_tls, node_dir)
        save_chain(chain_path(node_dir), status.chain)
        expires = time.strftime("%Y-%m-%d", time.localtime(status.chain[0].not_after_ms / 1000))
        click.echo(
            f"入网申请已批准：证书序列号 {status.chain[0].serial}，有效期至 {expires}，"
            f"已保存 {chain_path(node_dir)}"
        )
        click.echo(f"现在可以运行: archive-node run --config {config_file}")
        return
    if status.status == "rejected":
        raise CliError(status.message)
    click.echo(
        f"{status.message}（上级 {parent_of(node.code)}，密钥标识 {key.key_id}）。"
        "获批后再次运行本命令即可取回证书。"
    )


def _check_tls(chain: tuple[Certificate, ...], seen: list[bytes], node_dir: Path) -> None:
    """Over TLS, the parent answered with the certificate its own node certificate pins.

    The application is sent before the parent's pin is known (nothing secret is in it, and
    the answer is verified up to the root key either way); the pin is checked once the chain
    that carries it comes back.
    """
    if not seen:
        return
    if len(chain) < 2 or chain[1].tls_sha256 != seen[-1]:
        raise CliError(
            "上级节点出示的 TLS 证书不是其证书中绑定的那一个：请与上级节点运维人员核对地址"
        )
