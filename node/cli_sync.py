"""``archive-node stats`` and ``archive-node sync retry``: catalogue sync for operators.

Both act on a running daemon through its JSON API (``/api/v1/nodes/{code}/sync``), as one
of the nodes it hosts (``--as CODE``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from node.cli_common import api_options, client_for, table
from node.identity import validate_code
from node.wording import duration, link_state, when


def _link_row(link: dict[str, Any], now: float) -> list[str]:
    error = link.get("last_error") or "-"
    if link.get("failures"):
        error = f"{error}（连续失败 {link['failures']} 次）"
    return [
        link["peer"],
        link_state(link["state"]),
        f"{link['cursor']}/{link['head']}",
        str(link["lag"]),
        duration(link["lag_s"]) if link["lag"] else "-",
        when(link.get("last_success_at"), now),
        error,
        when(link.get("next_retry_at"), now),
    ]


LINK_HEADER = [
    "上级",
    "状态",
    "已确认/本地",
    "积压条数",
    "积压时长",
    "最近成功",
    "最近错误",
    "下次重试",
]


@click.command()
@click.option("--as", "as_code", required=True, metavar="CODE", help="查看哪个托管节点")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@api_options
@click.pass_context
def stats(
    ctx: click.Context, as_code: str, as_json: bool, api_url: str | None, timeout: float | None
) -> None:
    """目录同步状态：每条链路的游标、积压（条数与时长）、最近错误和下次重试时间。"""
    validate_code(as_code)
    client = client_for(ctx, api_url, timeout)
    status = client.get_json(client.node_path(as_code, "sync"))
    if as_json:
        click.echo(json.dumps(status, ensure_ascii=False))
        return
    now = float(status["at"])
    click.echo(f"节点 {status['code']}，变更日志序号 {status['change_head']}")
    links = status["links"]
    if links:
        click.echo(table(LINK_HEADER, [_link_row(link, now) for link in links]))
    else:
        click.echo("本节点是省级节点，没有上级链路。")
    children = status["children"]
    if children:
        click.echo("下级推送到本节点：")
        rows = [[c["child"], str(c["cursor"]), when(c["last_batch_at"], now)] for c in children]
        click.echo(table(["下级", "已确认序号", "最近一批"], rows))


@click.group()
def sync() -> None:
    """目录同步：立即重试推送（retry），与上级核对并修复目录（repair）。"""


@sync.command()
@click.option("--as", "as_code", required=True, metavar="CODE", help="哪个托管节点的链路")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@api_options
@click.argument("peer", required=False, metavar="[PEER]")
@click.pass_context
def retry(
    ctx: click.Context,
    as_code: str,
    as_json: bool,
    api_url: str | None,
    timeout: float | None,
    peer: str | None,
) -> None:
    """结束退避，立即向上级 PEER（默认本节点的上级）推送目录。"""
    validate_code(as_code)
    if peer:
        validate_code(peer)
    client = client_for(ctx, api_url, timeout)
    answer = client.call_json(
        "POST", client.node_path(as_code, "sync", "retry"), body={"peer": peer}
    )
    link = answer["retrying"]
    if as_json:
        click.echo(json.dumps(link, ensure_ascii=False))
        return
    click.echo(f"已要求 {as_code} 立即向 {link['peer']} 推送（积压 {link['lag']} 条）")
