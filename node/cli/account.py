"""``archive-node account``: staff accounts of a node, offline (the bootstrap) or through the API.

Offline, on the daemon's machine, against the data folder (like a database's superuser):

    archive-node account create --data DIR --node CODE --role operator NAME
    archive-node account token  --data DIR --node CODE NAME

Online, as an operator of the node (``--token`` or ``$ARCHIVE_NODE_TOKEN``):

    archive-node account list|create|grant|revoke|disable|enable|token --as CODE ...

A password is asked for at the terminal (twice), or read from the first line of stdin with
``--password-stdin``; it is never an option (it would show in the shell history and in ``ps``).
``token`` prints only the token on stdout, so ``export ARCHIVE_NODE_TOKEN=$(...)`` works; it
is shown this once and stored only as its digest.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from node.accounts import console_actor
from node.cli.apiclient import ApiClient
from node.cli.common import (
    CliError,
    api_option,
    client_for,
    node_command,
    table,
    timeout_option,
    token_option,
)
from node.identity import validate_code
from node.node import offline_accounts

AS_HELP = "在哪个托管节点管理账号（须为该节点的运维管理员）"


@click.group()
def account() -> None:
    """工作人员账号：开设、授权、停用，生成 API 令牌。"""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    value: str = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    return value


def _where(data_dir: Path | None, node: str | None, as_code: str | None) -> str:
    """``offline`` or ``online``, refusing a mix or neither."""
    if data_dir is not None or node is not None:
        if data_dir is None or node is None or as_code is not None:
            raise CliError("离线操作请同时给出 --data 与 --node（不用 --as）；在线操作用 --as CODE")
        validate_code(node)
        return "offline"
    if as_code is None:
        raise CliError(
            "请用 --as CODE 指定节点（在线，经守护进程），或用 --data DIR --node CODE 离线操作"
        )
    validate_code(as_code)
    return "online"


def _both_ways(command: Any) -> Any:
    """The options of a command that runs offline (``--data``/``--node``) or online (``--as``)."""
    for option in reversed(
        [
            click.option(
                "--data", "data_dir", type=click.Path(path_type=Path), help="数据目录（离线）"
            ),
            click.option("--node", default=None, metavar="CODE", help="节点代码（离线）"),
            click.option(
                "--as", "as_code", default=None, metavar="CODE", help=AS_HELP + "（在线）"
            ),
        ]
    ):
        command = option(command)
    command.__click_params__.extend([timeout_option(), api_option(), token_option()])
    return command


def _show(answer: dict[str, Any], verb: str) -> None:
    roles = ", ".join(answer["roles"]) or "无"
    click.echo(f"{verb}账号 {answer['name']}（{answer['display_name']}），角色：{roles}")


@account.command("create")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="角色：clerk、archivist、operator（可重复）",
)
@click.option("--display-name", default="", help="页面上显示的姓名")
@click.option("--password-stdin", is_flag=True, help="从标准输入的第一行读取密码")
@_both_ways
def create(
    name: str,
    roles: tuple[str, ...],
    display_name: str,
    password_stdin: bool,
    data_dir: Path | None,
    node: str | None,
    as_code: str | None,
    timeout: float | None,
    api_url: str | None,
    token: str | None,
) -> None:
    """开设账号 NAME。首个运维管理员须在守护进程所在机器上离线开设（--data --node）。"""
    where = _where(data_dir, node, as_code)
    password = _password(password_stdin)
    if where == "offline":
        assert data_dir is not None and node is not None

        async def run() -> dict[str, Any]:
            async with offline_accounts(data_dir, node) as accounts:
                made = await accounts.create(
                    console_actor(node), name, password, roles, display_name
                )
                return {
                    "name": made.name,
                    "display_name": made.display_name,
                    "roles": list(made.roles),
                }

        _show(asyncio.run(run()), f"已在 {node} 开设")
        return
    assert as_code is not None
    api = client_for(click.get_current_context(), api_url, timeout, token)
    body = {"name": name, "password": password, "roles": list(roles), "display_name": display_name}
    answer = api.call_json("POST", api.node_path(as_code, "accounts"), body=body)
    _show(answer["created"], f"已在 {as_code} 开设")


@account.command("token")
@click.argument("name")
@click.option("--label", default="", help="令牌用途备注，如 “备份脚本”")
@_both_ways
def token_cmd(
    name: str,
    label: str,
    data_dir: Path | None,
    node: str | None,
    as_code: str | None,
    timeout: float | None,
    api_url: str | None,
    token: str | None,
) -> None:
    """为账号 NAME 生成 API 令牌（只显示这一次）。"""
    where = _where(data_dir, node, as_code)
    if where == "offline":
        assert data_dir is not None and node is not None

        async def run() -> str:
            async with offline_accounts(data_dir, node) as accounts:
                return (await accounts.create_token(console_actor(node), name, label)).token

        issued, code = asyncio.run(run()), node
    else:
        assert as_code is not None
        api = client_for(click.get_current_context(), api_url, timeout, token)
        path = api.node_path(as_code, "accounts", name, "tokens")
        issued, code = str(api.call_json("POST", path, body={"label": label})["token"]), as_code
    click.echo(issued)
    click.echo(
        f"以上是 {code} 账号 {name} 的 API 令牌，只显示这一次。使用：export ARCHIVE_NODE_TOKEN=令牌"
        "，或在命令后加 --token 令牌。",
        err=True,
    )


@account.command("list")
@node_command(AS_HELP)
@click.option("--json", "as_json", is_flag=True, help="每个账号输出一行 JSON")
def list_cmd(api: ApiClient, as_code: str, as_json: bool) -> None:
    """列出节点的全部账号。"""
    accounts = api.call_json("GET", api.node_path(as_code, "accounts"))["accounts"]
    if as_json:
        for item in accounts:
            click.echo(json.dumps(item, ensure_ascii=False))
        return
    rows = [
        [a["name"], a["display_name"], ",".join(a["roles"]), "已停用" if a["disabled"] else "正常",
         time.strftime("%Y-%m-%d", time.localtime(a["created_at"]))]
        for a in accounts
    ]  # fmt: skip
    click.echo(table(["账号", "姓名", "角色", "状态", "开设日期"], rows))


@account.command("grant")
@node_command(AS_HELP)
@click.argument("name")
@click.argument("role")
def grant_cmd(api: ApiClient, as_code: str, name: str, role: str) -> None:
    """授予账号 NAME 角色 ROLE（clerk、archivist、operator）。"""
    answer = api.call_json(
        "POST", api.node_path(as_code, "accounts", name, "roles"), body={"role": role}
    )
    _show(answer["account"], "已授权：")


@account.command("revoke")
@node_command(AS_HELP)
@click.argument("name")
@click.argument("role")
def revoke_cmd(api: ApiClient, as_code: str, name: str, role: str) -> None:
    """撤销账号 NAME 的角色 ROLE。"""
    answer = api.call_json("DELETE", api.node_path(as_code, "accounts", name, "roles", role))
    _show(answer["account"], "已撤销角色：")


@account.command("disable")
@node_command(AS_HELP)
@click.argument("name")
def disable_cmd(api: ApiClient, as_code: str, name: str) -> None:
    """停用账号 NAME：其会话与 API 令牌立即失效。"""
    answer = api.call_json("POST", api.node_path(as_code, "accounts", name, "disable"))
    _show(answer["account"], "已停用")


@account.command("enable")
@node_command(AS_HELP)
@click.argument("name")
def enable_cmd(api: ApiClient, as_code: str, name: str) -> None:
    """恢复已停用的账号 NAME（须重新生成 API 令牌）。"""
    answer = api.call_json("POST", api.node_path(as_code, "accounts", name, "enable"))
    _show(answer["account"], "已恢复")
