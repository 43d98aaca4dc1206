"""``archive-node appraisal list|scan|open|keep|dispose``: opening and disposal review.

Through a running daemon's JSON API (``/api/v1/nodes/{code}/appraisal...``), as an
archivist of the node (``--token``). Records reach the lists by the appraisal job (every
``appraisal.interval``) or ``appraisal scan``; nothing opens or is destroyed until an
archivist decides, in a batch with a reason, and each decision is audited.
"""

from __future__ import annotations

import json
from typing import Any

import click

from node.cli.apiclient import ApiClient
from node.cli.common import node_command
from node.identity import validate_code

KIND_ZH = {"opening": "开放鉴定", "disposal": "销毁鉴定"}
DECISION_ZH = {"open": "开放", "keep": "维持现状", "dispose": "销毁"}


@click.group()
def appraisal() -> None:
    """档案鉴定：到期档案的开放鉴定与销毁鉴定清单（list、scan），作出决定（open、keep、dispose）。"""


def _check(as_code: str, **_: Any) -> None:
    validate_code(as_code)


def _kind_option(default: str) -> Any:
    return click.option(
        "--kind",
        type=click.Choice(["opening", "disposal"]),
        default=default,
        show_default=True,
        help="清单：opening 开放鉴定，disposal 销毁鉴定",
    )


_kind = _kind_option("opening")


@appraisal.command("list")
@node_command("哪个节点（馆藏单位）的清单", check=_check)
@_kind
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0, 10**9), default=0)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def list_cmd(
    api: ApiClient, as_code: str, kind: str, limit: int, offset: int, as_json: bool
) -> None:
    """列出待鉴定的档案（到期日最早的在前）。"""
    page = api.get_json(
        api.node_path(as_code, "appraisal"), {"kind": kind, "limit": limit, "offset": offset}
    )
    if as_json:
        click.echo(json.dumps(page, ensure_ascii=False))
        return
    click.echo(f"{as_code} {KIND_ZH[kind]}清单：共 {page['total']} 件待鉴定")
    for item in page["items"]:
        click.echo(
            f"{item['record_id']}\t{item['archival_code']}\t{item['title']}\t"
            f"{item['access']}\t{item['retention']}\t到期 {item['due']}"
        )


@appraisal.command("scan")
@node_command("哪个节点", check=_check)
def scan_cmd(api: ApiClient, as_code: str) -> None:
    """立即查找到期档案并列入清单（定时任务也会每隔 appraisal.interval 执行）。"""
    done = api.call_json("POST", api.node_path(as_code, "appraisal", "scan"), body={})
    click.echo(f"{as_code}: 新列入开放鉴定 {done['opening']} 件，销毁鉴定 {done['disposal']} 件")


def _decide(decision: str) -> click.Command:
    @node_command("哪个节点（馆藏单位）", check=_check)
    @_kind_option("disposal" if decision == "dispose" else "opening")
    @click.option("--reason", required=True, help="鉴定理由（必填，记入审计日志）")
    @click.argument("records", nargs=-1, required=True, metavar="RECORD_ID...")
    def command(
        api: ApiClient, as_code: str, kind: str, reason: str, records: tuple[str, ...]
    ) -> None:
        path = api.node_path(as_code, "appraisal", decision)
        body = {"kind": kind, "records": " ".join(records), "reason": reason}
        done = api.call_json("POST", path, body=body)
        click.echo(
            f"{as_code}: 已{DECISION_ZH[decision]} {len(done['records'])} 件（{KIND_ZH[kind]}）"
        )

    command.__doc__ = {
        "open": "开放清单上的档案：新版本为开放档案，真实题名随目录推送到上级。",
        "keep": "维持现状：不开放（或到期后继续保管），从清单上移除。",
        "dispose": "销毁清单上的档案：目录中留下保留档号与鉴定决定的删除记录。",
    }[decision]
    return appraisal.command(decision)(command)


for _decision in ("open", "keep", "dispose"):
    _decide(_decision)
