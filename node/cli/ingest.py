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

``--content DIR``: the content of every file a record names (``files[].name``) is read from
``DIR/NAME``, checked against the line's ``sha256`` and ``size`` before anything is sent, and
sent with its record (base64 in the request's ``contents``), so record and content are stored
together. Requests are cut smaller when their content would pass ``MAX_REQUEST_CONTENT``.
"""

from __future__ import annotations

import base64
import hashlib
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


MAX_REQUEST_CONTENT = 32 * 1024 * 1024  # raw bytes per request (the node takes 64 MiB of JSON)


def _content(folder: Path, number: int, item: Any) -> dict[str, bytes]:
    """The content of the files line ``number`` names, read from ``folder`` and checked."""
    found: dict[str, bytes] = {}
    files = item.get("files", []) if isinstance(item, dict) else []
    for file in files if isinstance(files, list) else []:
        if not isinstance(file, dict) or not isinstance(file.get("name"), str):
            continue  # the node names what is wrong with the record
        path = folder / file["name"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CliError(
                f"第 {number} 行的文件 {file['name']} 无法读取（{path}：{exc.strerror or exc}）。"
                "--content 目录中应有与 files 中 name 同名的文件"
            ) from None
        sha = hashlib.sha256(data).hexdigest()
        if sha != str(file.get("sha256", "")).lower() or len(data) != file.get("size"):
            raise CliError(
                f"第 {number} 行的文件 {file['name']} 与登记的不符：{path} 为 {len(data)} 字节，"
                f"sha256 {sha}。请更正 sha256 与 size 后重试"
            )
        found[sha] = data
    return found


def _requests(
    items: list[tuple[int, Any]], folder: Path | None
) -> list[tuple[list[tuple[int, Any]], dict[str, bytes]]]:
    """The lines in requests of at most ``MAX_INGEST_RECORDS`` records and, with content,
    about ``MAX_REQUEST_CONTENT`` bytes (a record is never split from its content)."""
    batches: list[tuple[list[tuple[int, Any]], dict[str, bytes]]] = []
    chunk: list[tuple[int, Any]] = []
    contents: dict[str, bytes] = {}
    for number, item in items:
        mine = _content(folder, number, item) if folder is not None else {}
        size = sum(len(d) for d in contents.values()) + sum(len(d) for d in mine.values())
        if chunk and (len(chunk) >= MAX_INGEST_RECORDS or size > MAX_REQUEST_CONTENT):
            batches.append((chunk, contents))
            chunk, contents = [], {}
        chunk.append((number, item))
        contents.update(mine)
    if chunk:
        batches.append((chunk, contents))
    return batches


@click.command()
@node_command("档案由哪个托管节点保管")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@click.option(
    "--content",
    "content_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="JSON Lines 导入时：档案数字化文件所在目录（按 files 中的 name 查找），与档案一并上传",
)
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
    content_dir: Path | None,
    mode: str,
    as_package: bool,
    report_path: Path | None,
    files: tuple[Path, ...],
) -> None:
    """导入档案：移交包（文件夹、zip、BagIt 包、CSV）经四性检测后导入；JSON Lines 文件每行一条
    档案，--content 目录中的文件一并上传。"""
    is_package = [as_package or f.is_dir() or f.suffix.lower() in (".zip", ".csv") for f in files]
    if any(is_package):
        if not all(is_package):
            raise CliError("移交包与 JSON Lines 目录文件请分开导入（或对 JSON Lines 加 --package）")
        if content_dir is not None:
            raise CliError("移交包自带内容文件：--content 只用于 JSON Lines 导入")
        _packages(api, as_code, as_json, mode, report_path, files)
        return
    path = api.node_path(as_code, "records")
    accepted, head = 0, 0
    for file in files:
        for chunk, contents in _requests(_lines(file), content_dir):
            body: dict[str, Any] = {"records": [i for _, i in chunk]}
            if contents:
                body["contents"] = {
                    sha: base64.b64encode(data).decode("ascii") for sha, data in contents.items()
                }
            try:
                done = api.call_json("POST", path, body=body)
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
