"""``archive-node copy get REQUEST_ID -o FILE``: the certified copy delivered for a request.

By default the printed 档案证明 (a PDF with the holder's signed credential and the content
attached, which ``archive-node verify`` checks offline); ``--content`` the delivered content
itself. Either is checked against the sha256 the daemon announces before it is kept, as
``fetch`` does.
"""

from __future__ import annotations

import json

import click

from node.cli.apiclient import ApiClient, safe_file_name
from node.cli.common import node_command
from node.cli.fetch import _target, _to_file, _to_stdout


@click.group()
def copy() -> None:
    """利用申请送达的档案（出证）。"""


@copy.command()
@node_command("受理申请的托管节点（服务点）")
@click.option("-o", "--output", metavar="FILE", help="保存到的文件或目录（- 为标准输出）")
@click.option("--content", "content_only", is_flag=True, help="只取送达的档案内容，不取证明")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON 说明保存结果")
@click.argument("request_id")
def get(
    api: ApiClient,
    as_code: str,
    output: str | None,
    content_only: bool,
    as_json: bool,
    request_id: str,
) -> None:
    """取回利用申请的档案证明（PDF，附档案内容），校验 sha256 后保存。"""
    what = "content" if content_only else "copy.pdf"
    path = api.node_path(as_code, "requests", request_id, what)
    with api.open_content(path) as stream:
        if output == "-":
            size, saved = _to_stdout(stream), "-"
        else:
            target = _target(output, safe_file_name(stream.file_name, request_id))
            size, saved = _to_file(stream, target), str(target)
    summary = {"request_id": request_id, "file": saved, "sha256": stream.sha256, "bytes": size}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False), err=output == "-")
    else:
        click.echo(f"已保存 {saved}（{size} 字节，sha256 {stream.sha256}）", err=output == "-")
