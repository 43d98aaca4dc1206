"""``archive-node ingest --as CODE FILE...``: load record metadata from JSON-lines files.

Each line is one record (the fields of ``node.records.Record``; see docs/operations.md).
Files are sent in requests of at most ``MAX_INGEST_RECORDS`` records; each request is stored all or
nothing, so after a failure the records before the reported line are in, and running the
same file again refuses them (a stored record needs a higher version): start after them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from node.cli.apiclient import ApiClient, ApiError
from node.cli.common import CliError, node_command
from node.records import MAX_INGEST_RECORDS


def _lines(path: Path) -> list[tuple[int, Any]]:
    """The records of a JSON Lines file, each with its line number.

    Read as bytes and decoded line by line, so a file that is not UTF-8 (saved as GBK, say)
    is refused naming the first bad line, not with a traceback; a UTF-8 byte-order mark at
    the start is allowed. A line nested too deep for the parser is refused the same way.
    """
    items = []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"无法读取 {path}：{exc.strerror or exc}") from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CliError(
                f"{path} 第 {number} 行不是 UTF-8 编码的文本。请将文件另存为 UTF-8 后重试。"
            ) from None
        if line.strip():
            try:
                items.append((number, json.loads(line)))
            except (ValueError, RecursionError) as exc:
                reason = exc if isinstance(exc, ValueError) else "嵌套过深"
                raise CliError(f"{path} 第 {number} 行不是有效的 JSON：{reason}") from None
    return items


@click.command()
@node_command("档案由哪个托管节点保管")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def ingest(api: ApiClient, as_code: str, as_json: bool, files: tuple[Path, ...]) -> None:
    """从 JSON Lines 文件（每行一条档案）导入档案目录信息到本节点。"""
    path = api.node_path(as_code, "records")
    accepted, head = 0, 0
    for file in files:
        items = _lines(file)
        for start in range(0, len(items), MAX_INGEST_RECORDS):
            chunk = items[start : start + MAX_INGEST_RECORDS]
            try:
                done = api.call_json("POST", path, body={"records": [i for _, i in chunk]})
            except ApiError as exc:
                raise CliError(
                    f"{file} 第 {chunk[0][0]}–{chunk[-1][0]} 行未导入（此前 {accepted} 条已导入）："
                    f"{exc}"
                ) from exc
            accepted += int(done["accepted"])
            head = int(done["change_head"])
    if as_json:
        click.echo(json.dumps({"accepted": accepted, "change_head": head}))
    else:
        click.echo(f"已导入 {accepted} 条档案到 {as_code}（变更序号 {head}）")
