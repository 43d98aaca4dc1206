"""``archive-node request submit|list|show|approve|reject|withdraw``: utilisation requests.

The clerk files at the receiving node (``submit``), follows (``list``, ``show``) and may
withdraw; the archivist at the holder approves or rejects (with a reason). The citizen's
identity number is read from a hidden prompt, or from stdin with ``--id-number -`` (one
line), never from an argument that would land in the shell's history or the process list.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import click

from node.citizens import IdNumber
from node.cli.apiclient import ApiClient
from node.cli.common import CliError, node_command, table
from node.identity import validate_code

STATES = ("submitted", "approved", "rejected", "delivered", "withdrawn", "expired")
ATTORNEY_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                  ".png": "image/png"}  # fmt: skip


@click.group()
def request() -> None:
    """利用申请：提交、查看、审核、撤回。"""


def _read_id_number(source: str | None) -> str:
    if source == "-":
        line = sys.stdin.readline()
    elif source is None:
        line = click.prompt("申请人身份证号码", hide_input=True)
    else:
        raise CliError(
            "身份证号码不能写在命令行上：请省略 --id-number 以在提示中输入，"
            "或用 --id-number - 从标准输入读取"
        )
    IdNumber.parse(line)  # checked here, so a typo is told before anything is sent
    return line.strip()


def _print(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(view, ensure_ascii=False))
        return
    late = "（已超期）" if view.get("overdue") else ""
    click.echo(f"{view['request_id']}  {view['state_zh']}{late}  {view['ref']}")
    click.echo(f"  说明：{view['reason']}")
    if view.get("rule"):
        click.echo(f"  审核规则：{view['rule']}")
    if view.get("content"):
        click.echo(f"  已送达：{view['content']['name']}（{view['content']['size']} 字节）")


def _check_submit(holder: str, **_: Any) -> None:
    validate_code(holder)


@request.command()
@node_command("受理申请的托管节点（服务点）", check=_check_submit)
@click.option("--holder", required=True, metavar="CODE", help="馆藏单位代码")
@click.option("--record", "record_id", required=True, metavar="RECORD_ID", help="档案标识")
@click.option("--name", "citizen_name", required=True, help="申请人姓名")
@click.option("--id-number", "id_source", metavar="-", default=None,
              help="只能是 -：从标准输入读一行身份证号码（默认在提示中输入，不回显）")  # fmt: skip
@click.option("--relationship", type=click.Choice(["本人", "委托代理人"]), default="本人",
              show_default=True, help="与档案当事人关系")  # fmt: skip
@click.option("--purpose", required=True, help="利用目的")
@click.option("--attorney", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="授权委托书文件（PDF、JPEG 或 PNG；委托代理人必附）")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
def submit(
    api: ApiClient,
    as_code: str,
    holder: str,
    record_id: str,
    citizen_name: str,
    id_source: str | None,
    relationship: str,
    purpose: str,
    attorney: Path | None,
    as_json: bool,
) -> None:
    """为申请人提交利用申请（个人信息加密后发往馆藏单位）。"""
    body: dict[str, object] = {
        "holder": holder, "record_id": record_id, "citizen_name": citizen_name,
        "id_number": _read_id_number(id_source), "relationship": relationship,
        "purpose": purpose,
    }  # fmt: skip
    if attorney is not None:
        kind = ATTORNEY_TYPES.get(attorney.suffix.lower())
        if kind is None:
            raise CliError("授权委托书应为 .pdf、.jpg 或 .png 文件")
        try:
            body["attorney"] = base64.b64encode(attorney.read_bytes()).decode()
        except OSError as exc:
            raise CliError(f"无法读取 {attorney}：{exc.strerror or exc}") from exc
        body["attorney_type"] = kind
    _print(api.call_json("POST", api.node_path(as_code, "requests"), body=body), as_json)


@request.command("list")
@node_command("查看哪个托管节点的利用申请")
@click.option("--incoming", is_flag=True, help="本馆收到的申请（档案员审核队列），默认本节点提交的")
@click.option("--state", type=click.Choice(STATES), default=None, help="只看该状态")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="每件一行 JSON")
def list_(
    api: ApiClient, as_code: str, incoming: bool, state: str | None, limit: int, as_json: bool
) -> None:
    """列出利用申请，超期的在前。"""
    params = {"role": "incoming" if incoming else "outgoing", "state": state, "limit": limit}
    answer = api.get_json(api.node_path(as_code, "requests"), params)
    if as_json:
        for item in answer["items"]:
            click.echo(json.dumps(item, ensure_ascii=False))
        return
    rows = [
        [i["request_id"], i["state_zh"] + ("（超期）" if i["overdue"] else ""), i["ref"],
         i["citizen_name"]]
        for i in answer["items"]
    ]  # fmt: skip
    click.echo(table(["申请编号", "状态", "档案", "申请人"], rows))
    click.echo(f"共 {answer['total']} 件，本页超期 {answer['overdue']} 件")


@request.command()
@node_command("查看哪个托管节点的利用申请")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@click.argument("request_id")
def show(api: ApiClient, as_code: str, as_json: bool, request_id: str) -> None:
    """显示一件利用申请。"""
    _print(api.get_json(api.node_path(as_code, "requests", request_id)), as_json)


@request.command()
@node_command("馆藏单位（档案员所在节点）")
@click.option("--reason", default="", help="批准说明（可省略）")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@click.argument("request_id")
def approve(api: ApiClient, as_code: str, reason: str, as_json: bool, request_id: str) -> None:
    """档案员批准一件待审核的申请。"""
    path = api.node_path(as_code, "requests", request_id, "approve")
    _print(api.call_json("POST", path, body={"reason": reason}), as_json)


@request.command()
@node_command("馆藏单位（档案员所在节点）")
@click.option("--reason", required=True, help="不予批准的理由（告知受理单位和申请人）")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@click.argument("request_id")
def reject(api: ApiClient, as_code: str, reason: str, as_json: bool, request_id: str) -> None:
    """档案员不予批准一件申请（须写明理由）。"""
    path = api.node_path(as_code, "requests", request_id, "reject")
    _print(api.call_json("POST", path, body={"reason": reason}), as_json)


@request.command()
@node_command("受理申请的托管节点（服务点）")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@click.argument("request_id")
def withdraw(api: ApiClient, as_code: str, as_json: bool, request_id: str) -> None:
    """撤回一件尚未审核的申请。"""
    path = api.node_path(as_code, "requests", request_id, "withdraw")
    _print(api.call_json("POST", path, body={}), as_json)
