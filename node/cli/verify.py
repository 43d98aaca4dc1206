"""``archive-node verify FILE``: check a certified copy offline, against the pinned root key.

No daemon and no network: what a bank's clerk or a court needs is the copy (the printed
PDF, or the credential JSON), optionally the content, and the province's root public key
(a file with its 64 hex digits, or a node's data folder whose ``node.toml`` pins it). The
verdict lists every reason in zh-CN and says whether the issuer's certificate was valid
when it signed. Exit 0: valid; 1: invalid; 2: the check could not be made (a file missing,
no root key).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from node import printout
from node.cli.common import CliError
from node.cli.setup import load_settings
from node.copies import verify as verify_copy
from node.copies_report import fact_rows, verdict_json
from node.errors import ConfigError, InvalidInput

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


class CannotCheck(CliError):
    """The copy could not be checked at all (exit 2, not 1: 1 means it was found invalid)."""

    exit_code = 2


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CannotCheck(f"无法读取{what} {path}: {exc.strerror or exc}") from None


def root_key(root_key_file: Path | None, data_dir: Path | None) -> bytes:
    """The pinned root public key: from ``--root-key`` (a file of 64 hex digits, or the
    digits themselves) or from the ``node.toml`` in ``--data``."""
    if root_key_file is not None:
        text = str(root_key_file)
        if not _HEX_KEY.fullmatch(text):
            text = _read(root_key_file, "根公钥文件").decode("ascii", "replace").strip()
        if not _HEX_KEY.fullmatch(text):
            raise CannotCheck(f"{root_key_file} 不是根公钥：应为 64 位十六进制")
        return bytes.fromhex(text)
    if data_dir is not None:
        try:
            return load_settings(data_dir / "node.toml").root_public_key
        except ConfigError as exc:
            raise CannotCheck(f"无法从 {data_dir}/node.toml 读出根公钥：{exc}") from None
    raise CannotCheck("请用 --root-key 文件 或 --data 数据目录 指明本省根公钥")


@click.command()
@click.argument("copy_file", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--content", "content_file", type=click.Path(path_type=Path), help="档案内容文件")
@click.option(
    "--root-key",
    "root_key_file",
    type=click.Path(path_type=Path),
    help="根公钥文件（64 位十六进制）",
)
@click.option(
    "--data", "data_dir", type=click.Path(path_type=Path), help="节点数据目录（读 node.toml）"
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def verify(
    copy_file: Path,
    content_file: Path | None,
    root_key_file: Path | None,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """离线核验档案证明（PDF 或证明 JSON）：签名、证书链、出证时证书有效期、内容摘要。"""
    root = root_key(root_key_file, data_dir)
    upload = _read(copy_file, "证明文件")
    content = _read(content_file, "内容文件") if content_file is not None else None
    try:
        found = printout.read_upload(upload)
    except InvalidInput as exc:
        raise CannotCheck(str(exc)) from None
    verdict = verify_copy(found.credential, root, content if content is not None else found.content)
    verdict = printout.with_layout(verdict, upload, found)  # the printed page is the signed one
    if as_json:
        click.echo(json.dumps(verdict_json(verdict), ensure_ascii=False, indent=1))
    else:
        click.echo("核验通过：有效的档案证明" if verdict.ok else "核验未通过：这份档案证明无效")
        for reason in verdict.reasons:
            click.echo(f"  - {reason}")
        if verdict.code:
            click.echo(f"核验码: {verdict.code}    签发机构: {verdict.issuer_name or '未知'}")
        click.echo(
            "签发机构证书在出证时有效" if verdict.certificate_valid_at_issue
            else "无法确认签发机构在出证时持有有效证书"
        )  # fmt: skip
        for label, value in fact_rows(verdict.facts) if verdict.facts else ():
            click.echo(f"{label}: {value}")
        if content is None and found.content is None:
            click.echo("（未核对档案内容：用 --content 指定内容文件）")
    raise SystemExit(0 if verdict.ok else 1)
