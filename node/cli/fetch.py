"""``archive-node fetch HOLDER/RECORD_ID``: a record's content, saved only once verified.

The bytes are checked against the sha256 the holder signed for before they are kept: a file
is written beside its target and renamed into place, stdout gets nothing until the whole
content has been checked.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from node.cli.apiclient import ApiClient, ContentStream, safe_file_name
from node.cli.common import CliError, node_command
from node.identity import validate_code


def _parse_ref(ref: str) -> tuple[str, str]:
    holder, _, record_id = ref.partition("/")
    if not holder or not record_id or "/" in record_id:
        raise CliError(f"档案引用应为 馆藏单位代码/档案标识，如 330106/HY-2015-0001：{ref!r}")
    validate_code(holder)
    return holder, record_id


def _check_ref(ref: str, **_: Any) -> None:
    _parse_ref(ref)


@click.command()
@node_command("以哪个托管节点的身份调阅", check=_check_ref)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="保存到的文件或目录（默认当前目录，用档案的文件名；- 为标准输出）",
)
@click.option("--file", "file_name", metavar="NAME", default="", help="档案有多个文件时指定文件名")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON 说明保存结果")
@click.argument("ref", metavar="HOLDER/RECORD_ID")
def fetch(
    api: ApiClient, as_code: str, output: str | None, file_name: str, as_json: bool, ref: str
) -> None:
    """经网络从馆藏单位调阅开放档案的电子文件，校验 sha256 后保存。"""
    holder, record_id = _parse_ref(ref)
    with api.content(as_code, holder, record_id, file_name) as stream:
        if output == "-":
            size = _to_stdout(stream)
            saved = "-"
        else:
            target = _target(output, safe_file_name(stream.file_name, record_id))
            size = _to_file(stream, target)
            saved = str(target)
    summary = {
        "holder": holder,
        "record_id": record_id,
        "file": saved,
        "sha256": stream.sha256.lower(),
        "bytes": size,
        "media_type": stream.media_type,
    }
    to_stderr = output == "-"  # stdout carries the content itself
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False), err=to_stderr)
    else:
        click.echo(f"已保存 {saved}（{size} 字节，sha256 {summary['sha256']}）", err=to_stderr)


def _target(output: str | None, offered_name: str) -> Path:
    """Where to save: ``-o FILE``, ``-o DIR/`` + the offered name, or the offered name here."""
    if output is None:
        return Path.cwd() / offered_name
    path = Path(output)
    return path / offered_name if path.is_dir() else path


def _to_file(stream: ContentStream, target: Path) -> int:
    """Write beside ``target`` and rename into place only once the sha256 matches.

    Nothing is left behind on failure: the partial file is removed.
    """
    try:
        fd, part_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as exc:
        raise CliError(f"无法在 {target.parent} 写入文件：{exc.strerror or exc}") from exc
    part = Path(part_name)
    try:
        with os.fdopen(fd, "wb") as spool:
            size = stream.copy_to(spool)
            spool.flush()
            os.fsync(spool.fileno())
        os.replace(part, target)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise CliError(f"无法写入 {target}：{exc.strerror or exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return size


def _to_stdout(stream: ContentStream) -> int:
    """Verify the whole content before any of it reaches stdout."""
    with tempfile.TemporaryFile() as spool:
        size = stream.copy_to(spool)
        spool.seek(0)
        sys.stdout.flush()
        shutil.copyfileobj(spool, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    return size
