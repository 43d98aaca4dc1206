"""``archive-node registry ...``: enrolment approval, certificates and trust, online.

The operator commands act on a running daemon through its JSON API, as one of the nodes it
hosts (``--as CODE``): approve or reject a child's enrolment, revoke, rotate, renew, refresh
the trust directory, ban keys, register code changes, list refused calls. The group also
holds the offline commands ``init-root``, ``issue`` and ``show`` (``node.cli.setup``), which
work on key and chain files.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from node.cli.apiclient import ApiClient
from node.cli.common import node_command, table
from node.cli.setup import init_root, issue_cmd, show
from node.config import is_local_address


@click.group(commands=[init_root, issue_cmd, show])
def registry() -> None:
    """入网、证书与信任管理：离线签发（init-root、issue、show）与在线运维（其余命令）。"""


AS_HELP = "以哪个托管节点的身份"


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


def _date(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ms / 1000))


@registry.command("status")
@node_command(AS_HELP)
def status_cmd(api: ApiClient, as_code: str) -> None:
    """本节点证书与信任目录的状态。"""
    _print_json(api.get_json(api.node_path(as_code, "registry")))


@registry.group("enrol")
def enrol_group() -> None:
    """审批下级节点的入网申请。"""


@enrol_group.command("list")
@node_command(AS_HELP)
@click.option("--all", "show_all", is_flag=True, help="包括已批准、已拒绝的申请")
def enrol_list(api: ApiClient, as_code: str, show_all: bool) -> None:
    """列出入网申请（默认只列待审批的）。"""
    params = {} if show_all else {"status": "pending"}
    found = api.get_json(api.node_path(as_code, "registry", "applications"), params)
    rows = [
        [a["code"], a["name"], a["key_id"], a["address"] or "-", a["status"]]
        for a in found["applications"]
    ]
    if not rows:
        click.echo("没有待审批的入网申请" if not show_all else "没有入网申请")
        return
    click.echo(table(["代码", "名称", "密钥标识", "地址", "状态"], rows))
    if any(is_local_address(a["address"]) for a in found["applications"]):
        click.echo(
            "注意：有申请的地址是本机或未指定的地址（0.0.0.0、127.0.0.1 等），批准后本节点无法"
            "连接它；单机测试以外，请对方用 init --advertise 写明对外地址后重新申请。"
        )


@enrol_group.command("approve")
@node_command(AS_HELP)
@click.argument("child")
@click.option(
    "--key-id",
    required=True,
    help="与申请方线下核对过的密钥标识（见 enrol list）；申请的密钥与之不符时不予批准",
)
def enrol_approve(api: ApiClient, as_code: str, child: str, key_id: str) -> None:
    """批准 CHILD 的入网申请并签发证书（须先核对密钥标识与对方线下提交的一致）。"""
    path = api.node_path(as_code, "registry", "applications", child, "approve")
    cert = api.call_json("POST", path, body={"key_id": key_id})["approved"]
    expires = _date(cert["not_after_ms"])
    click.echo(f"已批准 {cert['name']}（{child}），证书序列号 {cert['serial']}，有效期至 {expires}")


@enrol_group.command("reject")
@node_command(AS_HELP)
@click.argument("child")
@click.option("--note", default="", help="拒绝原因（申请方可见）")
def enrol_reject(api: ApiClient, as_code: str, child: str, note: str) -> None:
    """拒绝 CHILD 的入网申请。"""
    path = api.node_path(as_code, "registry", "applications", child, "reject")
    api.call_json("POST", path, body={"note": note})
    click.echo(f"已拒绝 {child} 的入网申请")


@registry.command("revoke")
@node_command(AS_HELP)
@click.argument("code")
@click.option("--reason", required=True, help="吊销原因，如“密钥失窃”")
def revoke_cmd(api: ApiClient, as_code: str, code: str, reason: str) -> None:
    """吊销下级节点 CODE 现有的全部证书（由其上级或更高级节点执行）。"""
    path = api.node_path(as_code, "registry", "revocations")
    api.call_json("POST", path, body={"code": code, "reason": reason})
    click.echo(f"已吊销 {code} 的证书；本节点立即拒绝其调用，全网在一个刷新周期内拒绝")


@registry.command("rotate")
@node_command(AS_HELP)
def rotate_cmd(api: ApiClient, as_code: str) -> None:
    """为本节点换用新密钥：新证书先发布，再切换，旧密钥随后停用。"""
    done = api.call_json("POST", api.node_path(as_code, "registry", "rotate"))
    click.echo(f"已轮换密钥 {done['old_key_id']} -> {done['new_key_id']}")


@registry.command("rotate-index-key")
@node_command(AS_HELP)
def rotate_index_key_cmd(api: ApiClient, as_code: str) -> None:
    """省级根注册节点：生成新版本的身份索引密钥（各节点随后同步，馆藏节点重建索引）。"""
    done = api.call_json("POST", api.node_path(as_code, "registry", "index-keys", "rotate"))
    live = "、".join(f"v{v}" for v in done["live_versions"])
    click.echo(
        f"已生成身份索引密钥 v{done['newest_version']}（在用：{live}）；"
        "各节点在下一个信任刷新周期取得新密钥，馆藏节点随即重建身份索引"
    )


@registry.command("index-keys")
@node_command(AS_HELP)
def index_keys_cmd(api: ApiClient, as_code: str) -> None:
    """本节点持有的身份索引密钥版本（不显示密钥本身）。"""
    _print_json(api.get_json(api.node_path(as_code, "registry", "index-keys")))


@registry.command("renew")
@node_command(AS_HELP)
def renew_cmd(api: ApiClient, as_code: str) -> None:
    """立即向上级续签本节点证书（平时到期前自动续签）。"""
    done = api.call_json("POST", api.node_path(as_code, "registry", "renew"))
    click.echo(f"已续签，证书序列号 {done['serial']}，有效期至 {_date(done['not_after_ms'])}")


@registry.command("refresh")
@node_command(AS_HELP)
def refresh_cmd(api: ApiClient, as_code: str) -> None:
    """立即向上级拉取最新的信任目录（平时按刷新周期和上级通知自动拉取）。"""
    done = api.call_json("POST", api.node_path(as_code, "registry", "refresh"))
    click.echo(f"信任目录现为第 {done['directory_version']} 版")


@registry.command("ban")
@node_command(AS_HELP)
@click.argument("key_id")
@click.option("--reason", required=True, help="封禁原因")
def ban_cmd(api: ApiClient, as_code: str, key_id: str, reason: str) -> None:
    """在本节点立即拒绝密钥 KEY_ID 签名的一切调用（本地封禁，不经目录）。"""
    path = api.node_path(as_code, "registry", "bans")
    api.call_json("POST", path, body={"key_id": key_id, "reason": reason})
    click.echo(f"已在 {as_code} 封禁密钥 {key_id}")


@registry.command("unban")
@node_command(AS_HELP)
@click.argument("key_id")
def unban_cmd(api: ApiClient, as_code: str, key_id: str) -> None:
    """解除本地封禁。"""
    found = api.call_json("DELETE", api.node_path(as_code, "registry", "bans", key_id))
    click.echo(f"已解除封禁 {key_id}" if found["unbanned"] else f"{key_id} 未被封禁")


@registry.command("alias")
@node_command(AS_HELP)
@click.argument("old")
@click.argument("new")
def alias_cmd(api: ApiClient, as_code: str, old: str, new: str) -> None:
    """登记区划代码变更：OLD 由 NEW 承继（仅省级根登记处）。"""
    api.call_json(
        "POST", api.node_path(as_code, "registry", "aliases"), body={"old": old, "new": new}
    )
    click.echo(f"已登记 {old} -> {new}；原代码的引用与签名继续有效")


@registry.command("audit")
@node_command(AS_HELP)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def audit_cmd(api: ApiClient, as_code: str, limit: int, as_json: bool) -> None:
    """最近被本节点拒绝的调用及原因。"""
    found = api.get_json(api.node_path(as_code, "audit"), {"limit": limit})
    if as_json:
        _print_json(found)
        return
    rows = [
        [
            time.strftime("%m-%d %H:%M:%S", time.localtime(r["at"])),
            r["origin"] or "?",
            r["method"].rsplit("/", 1)[-1],
            r["kind"],
            r["reason"][:80],
        ]
        for r in found["refusals"]
    ]
    counts = "，".join(f"{k} {v}" for k, v in sorted(found["refused_by_kind"].items())) or "无"
    click.echo(f"已接受调用 {found['accepted']} 次；拒绝：{counts}")
    if rows:
        click.echo(table(["时间", "来源", "方法", "类别", "原因"], rows))
