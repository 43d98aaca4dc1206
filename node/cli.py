"""``archive-node``: one command, nouns then verbs (DESIGN section 8).

Network commands talk to a running daemon's JSON API (``node.apiclient``) acting as one of
the nodes it hosts (``--as CODE``). Exit 0 on success; on failure one line ``错误: …`` on
stderr and a non-zero exit. Errors become ``CliError`` in one place,
``cli_common.RootGroup.invoke``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from node.apiclient import (
    API_ENV,
    ContentStream,
    safe_file_name,
)
from node.cli_common import CliError, RootGroup, api_options, client_for, table
from node.cli_ingest import ingest
from node.cli_registry import enrol, init, registry
from node.cli_repair import repair_cmd
from node.cli_sync import stats, sync
from node.identity import validate_code
from node.records import CATEGORIES, MAX_PAGE, Access, Retention

F = TypeVar("F", bound=Callable[..., Any])


@click.group(
    "archive-node", cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option("--api", "api_url", metavar="URL", help=f"守护进程 API 地址（或 ${API_ENV}）")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=None, help="等待应答的秒数")
@click.pass_context
def cli(ctx: click.Context, api_url: str | None, timeout: float | None) -> None:
    """档案共享网络节点 archive-node：检索、调阅、运行节点。"""
    ctx.obj = {"api_url": api_url, "timeout": timeout}


@cli.command()
@click.option("--as", "as_code", required=True, metavar="CODE", help="以哪个托管节点的身份检索")
@click.option("--scope", metavar="CODE", help="检索范围（区划代码，默认全省）")
@click.option("--category", type=click.Choice(list(CATEGORIES)), help="门类")
@click.option("--year-from", type=int, metavar="N", help="起始年度")
@click.option("--year-to", type=int, metavar="N", help="终止年度")
@click.option(
    "--limit", type=click.IntRange(1, MAX_PAGE), default=20, show_default=True, help="最多条数"
)
@click.option("--retention", type=click.Choice([r.value for r in Retention]), help="保管期限")
@click.option(
    "--access",
    type=click.Choice([Access.OPEN.value, Access.CONTROLLED.value]),
    help="开放状态：open 开放，controlled 控制使用",
)
@click.option(
    "--offset", type=click.IntRange(min=0), default=0, show_default=True, help="跳过前 N 条"
)
@click.option(
    "--cursor", metavar="CURSOR", help="翻页游标：上一次输出的“下一页”游标（查询词和筛选须相同）"
)
@click.option("--json", "as_json", is_flag=True, help="每条结果输出一行 JSON")
@api_options
@click.argument("query", nargs=-1)
@click.pass_context
def search(
    ctx: click.Context,
    as_code: str,
    scope: str | None,
    category: str | None,
    year_from: int | None,
    year_to: int | None,
    limit: int,
    retention: str | None,
    access: str | None,
    offset: int,
    cursor: str | None,
    as_json: bool,
    api_url: str | None,
    timeout: float | None,
    query: Sequence[str],
) -> None:
    """在全省（或 --scope 范围内）检索档案目录。QUERY 为查询词，如当事人姓名。"""
    text = " ".join(query)
    if not text.strip() and not (category or year_from or year_to or retention or access):
        raise CliError(
            "请给出查询词，或用 --category、--year-from、--year-to、--retention、--access 筛选。"
        )
    page = client_for(ctx, api_url, timeout).search(
        as_code,
        text,
        scope=scope,
        category=category,
        year_from=year_from,
        year_to=year_to,
        limit=limit,
        offset=offset,
        retention=retention,
        access=access,
        cursor=cursor,
    )
    hits: list[dict[str, Any]] = page["hits"]
    next_cursor = page.get("next_cursor") or ""
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit, ensure_ascii=False))
        if next_cursor:  # stdout stays one object per hit
            click.echo(f"下一页：--cursor {next_cursor}", err=True)
        return
    if hits:
        click.echo(table(["档案", "题名", "年度", "门类", "开放状态", "馆藏单位"], _rows(hits)))
        shown = (
            f"，本页 {len(hits)} 条" if cursor else f"，显示第 {offset + 1}–{offset + len(hits)} 条"
        )
    else:
        shown = "，未找到匹配的档案"
    by = f"，由 {page['answered_by']} 应答" if page.get("answered_by") else ""
    total = (
        f"共 {page['total']} 条" if page.get("total_exact", True) else f"超过 {page['total']} 条"
    )
    click.echo(f"{total}{shown}{by}")
    if next_cursor:
        click.echo(f"下一页：在同一命令后加 --cursor {next_cursor}")


@cli.command()
@click.option("--as", "as_code", required=True, metavar="CODE", help="以哪个托管节点的身份调阅")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="保存到的文件或目录（默认当前目录，用档案的文件名；- 为标准输出）",
)
@click.option("--file", "file_name", metavar="NAME", default="", help="档案有多个文件时指定文件名")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON 说明保存结果")
@api_options
@click.argument("ref", metavar="HOLDER/RECORD_ID")
@click.pass_context
def fetch(
    ctx: click.Context,
    as_code: str,
    output: str | None,
    file_name: str,
    as_json: bool,
    api_url: str | None,
    timeout: float | None,
    ref: str,
) -> None:
    """经网络从馆藏单位调阅开放档案的电子文件，校验 sha256 后保存。"""
    holder, record_id = _parse_ref(ref)
    client = client_for(ctx, api_url, timeout)
    with client.content(as_code, holder, record_id, file_name) as stream:
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


@cli.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), help="演示数据目录")
@click.option("--grpc-port", type=click.IntRange(1, 65535), default=50051, show_default=True)
@click.option("--web-port", type=click.IntRange(1, 65535), default=8080, show_default=True)
def demo(data: Path | None, grpc_port: int, web_port: int) -> None:
    """在本机启动五级演示网络（省、市、县、乡镇、村）。"""
    from node.demo import run_demo

    run_demo(data, grpc_port, web_port)


@cli.command()
@click.option(
    "--config",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="节点（或托管主机）的 TOML 配置文件",
)
def run(config: Path) -> None:
    """按配置文件运行节点守护进程。"""
    from node.daemon import run_config

    run_config(config)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="archive-node")


def _parse_ref(ref: str) -> tuple[str, str]:
    holder, _, record_id = ref.partition("/")
    if not holder or not record_id or "/" in record_id:
        raise CliError(f"档案引用应为 馆藏单位代码/档案标识，如 330106/HY-2015-0001：{ref!r}")
    validate_code(holder)
    return holder, record_id


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


def _rows(hits: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for hit in hits:
        try:
            access = Access(hit["access"]).zh
        except ValueError:
            access = str(hit["access"])
        holder = f"{hit.get('holder_name') or ''}（{hit['holder']}）".lstrip()
        rows.append([hit["ref"], hit["title"], str(hit["year"]), hit["category"], access, holder])
    return rows


cli.add_command(init)
cli.add_command(enrol)
cli.add_command(registry)
cli.add_command(stats)
sync.add_command(repair_cmd)
cli.add_command(sync)
cli.add_command(ingest)

if __name__ == "__main__":
    main()
