"""``archive-node stats --as CODE``: catalogue sync as one hosted node sees it.

Reads ``/api/v1/nodes/{code}/sync`` of a running daemon: each link to the parent (cursor,
backlog in entries and in time, last error, next retry) and what the children have pushed.
The wording of states and times is ``node.wording``'s, shared with the status page.
"""

from __future__ import annotations

import json
from typing import Any

import click

from node.cli.apiclient import ApiClient
from node.cli.common import node_command, table
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


def _check_code(as_code: str, **_: Any) -> None:
    validate_code(as_code)


@click.command()
@node_command("查看哪个托管节点", check=_check_code)
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
def stats(api: ApiClient, as_code: str, as_json: bool) -> None:
    """目录同步状态：每条链路的游标、积压（条数与时长）、最近错误和下次重试时间。"""
    status = api.get_json(api.node_path(as_code, "sync"))
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
