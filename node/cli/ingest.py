"""``archive-node ingest --as CODE FILE...``: load records, or transfer packages with content.

A folder, a ``.zip`` (a package or a BagIt bag) or a ``.csv`` is a transfer package: it is
sent whole, checked by the daemon (四性检测, docs/ingest.md) and ingested as the archivist
chose with ``--mode`` (``all``: nothing unless everything passes; ``good``: the good rows, the
others reported); ``node/cli/packages.py`` follows it with a progress bar. Re-sending the same
package changes nothing. ``--package`` sends a JSON-lines file the same way.

A ``.jsonl`` file otherwise is record metadata, one record per line (the fields of
``node.records.Record``; see docs/operations.md), its content already on the node.
Files are sent in requests of at most ``MAX_INGEST_RECORDS`` records; each request is stored all or
nothing, so after a failure the records before the reported line are in, and running the
same file again refuses them (a stored record needs a higher version): start after them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from node.cli import packages
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
@click.option(
    "--mode",
    type=click.Choice(["all", "good"]),
    default="all",
    help="移交包：all 全部通过才导入（默认）；good 只导入合格条目并报告其余",
)
@click.option(
    "--package", "as_package", is_flag=True, help="把 JSON Lines 文件也作为移交包检测导入"
)
@click.option(
    "--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
    help="把四性检测报告（可打印的 HTML）保存到此文件",
)  # fmt: skip
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def ingest(
    api: ApiClient,
    as_code: str,
    as_json: bool,
    mode: str,
    as_package: bool,
    report_path: Path | None,
    files: tuple[Path, ...],
) -> None:
    """导入档案：移交包（文件夹、zip、BagIt 包、CSV）经四性检测后导入；JSONL 导入目录信息。"""
    is_package = [as_package or f.is_dir() or f.suffix.lower() in (".zip", ".csv") for f in files]
    if any(is_package):
        if not all(is_package):
            raise CliError("移交包与 JSON Lines 目录文件请分开导入（或对 JSON Lines 加 --package）")
        _packages(api, as_code, as_json, mode, report_path, files)
        return
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
            if accepted // 1000 > (accepted - len(chunk)) // 1000:
                click.echo(f"{file}: 已导入 {accepted} 条", err=True)
    if as_json:
        click.echo(json.dumps({"accepted": accepted, "change_head": head}))
    else:
        click.echo(f"已导入 {accepted} 条档案到 {as_code}（变更序号 {head}）")


def _packages(
    api: ApiClient,
    as_code: str,
    as_json: bool,
    mode: str,
    report_path: Path | None,
    files: tuple[Path, ...],
) -> None:
    failed = []
    for file in files:
        try:
            job = packages.send(api, as_code, file, mode)
            job = packages.follow(api, job["status_url"], file.name)
        except ApiError as exc:
            raise CliError(f"{file} 未导入：{exc}") from exc
        if job["state"] == "failed":
            raise CliError(f"{file} 导入失败：{job['error']}")
        outcome = job["outcome"]
        if report_path is not None:
            page = f"/n/{as_code}/ingest/jobs/{job['job_id']}/report"
            with open(report_path, "wb") as out:
                api.download(page, {}, out)
        if as_json:
            click.echo(json.dumps(outcome, ensure_ascii=False))
        else:
            click.echo(f"{file}: " + packages.summary(outcome))
        if outcome["report"]["findings"] and not outcome["stored"]:
            failed.append(str(file))
    if failed:
        raise CliError(
            f"未导入（四性检测未通过）：{'、'.join(failed)}。请按上面列出的原因修改后重新移交。"
        )
