"""``archive-node audit verify`` and ``audit list``: a hosted node's audit log.

``verify`` asks the daemon (``/api/v1/nodes/{code}/audit-log/verify``) to walk the whole hash chain
and compare it with every checkpoint: the node's own signed ones and what its parent
witnessed (asked at that moment). It prints where the log stands, or names the first entry
that was edited, deleted, moved or rewritten, and then exits 1. ``list`` prints entries,
newest first, filtered like the page ``/n/{code}/audit-log``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from node.cli.apiclient import ApiClient
from node.cli.common import CliError, node_command, table
from node.identity import validate_code


def _check_code(as_code: str, **_: Any) -> None:
    validate_code(as_code)


@click.group()
def audit() -> None:
    """审计日志：核对哈希链与检查点（verify），查看日志（list）。"""


@audit.command()
@node_command("核对哪个托管节点的审计日志", check=_check_code)
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
def verify(api: ApiClient, as_code: str, as_json: bool) -> None:
    """逐条核对审计日志的哈希链和全部检查点；发现改动时指出第一条有问题的日志并以 1 退出。"""
    report = api.get_json(api.node_path(as_code, "audit-log", "verify"))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
    finding = report.get("finding")
    if finding:
        raise CliError(
            f"{as_code} 的审计日志未通过核对：{finding['message']}"
            f"（第一条有问题的日志：第 {finding['seq']} 条，类别 {finding['kind']}）"
        )
    if not as_json:
        click.echo(
            f"{as_code} 的审计日志完好：共 {report['size']} 条，核对检查点 "
            f"{report['checkpoints_checked']} 个，链头 {report['head'][:16]}…。"
            f"{report['parent_note']}"
        )


@audit.command("list")
@node_command("查看哪个托管节点的审计日志", check=_check_code)
@click.option("--person", default="", help="人员（账号名或节点代码，部分匹配）")
@click.option("--act", default="", help="操作，如 search、fetch、ingest、trust.revoke")
@click.option("--record", default="", metavar="HOLDER/RECORD_ID", help="档案")
@click.option("--limit", type=click.IntRange(1, 200), default=20, help="条数（1-200）")
@click.option("--json", "as_json", is_flag=True, help="每条一行 JSON")
def list_cmd(
    api: ApiClient, as_code: str, person: str, act: str, record: str, limit: int, as_json: bool
) -> None:
    """最新的审计日志（新的在前）。"""
    params = {"person": person, "act": act, "record": record, "limit": limit}
    page = api.get_json(api.node_path(as_code, "audit-log"), {k: v for k, v in params.items() if v})
    if as_json:
        for entry in page["entries"]:
            click.echo(json.dumps(entry, ensure_ascii=False))
        return
    rows = [
        [
            str(e["seq"]),
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["at_ms"] / 1000)),
            e["actor"],
            e["act"],
            e["subject"] or "-",
            json.dumps(e["detail"], ensure_ascii=False),
        ]
        for e in page["entries"]
    ]
    if not rows:
        click.echo("没有符合条件的日志。")
        return
    click.echo(table(["序号", "时间", "人员", "操作", "对象", "详情"], rows))
    click.echo(f"共 {page['size']} 条日志。")
