"""``archive-node sync retry`` and ``sync repair``: catalogue sync with the parent, now.

Both act on a running daemon through its JSON API (``/api/v1/nodes/{code}/sync/...``), as one
of the nodes it hosts. ``retry`` ends a link's backoff and pushes at once. ``repair`` runs
anti-entropy, which also runs every ``sync.anti_entropy_interval``: the node compares its
subtree catalogue with its parent's copy by range digests and the parent takes exactly the
entries that differ (``federation/antientropy.py``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from node.cli.apiclient import ApiClient
from node.cli.common import node_command
from node.identity import validate_code


@click.group()
def sync() -> None:
    """目录同步：立即重试推送（retry），与上级核对并修复目录（repair）。"""


def _check_codes(as_code: str, peer: str | None, **_: Any) -> None:
    validate_code(as_code)
    if peer:
        validate_code(peer)


@sync.command()
@node_command("哪个托管节点的链路", check=_check_codes)
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@click.argument("peer", required=False, metavar="[PEER]")
def retry(api: ApiClient, as_code: str, as_json: bool, peer: str | None) -> None:
    """结束退避，立即向上级 PEER（默认本节点的上级）推送目录。"""
    answer = api.call_json("POST", api.node_path(as_code, "sync", "retry"), body={"peer": peer})
    link = answer["retrying"]
    if as_json:
        click.echo(json.dumps(link, ensure_ascii=False))
        return
    click.echo(f"已要求 {as_code} 立即向 {link['peer']} 推送（积压 {link['lag']} 条）")


@sync.command("repair")
@node_command("哪个托管节点与其上级校验")
@click.option("--deep", is_flag=True, help="逐条比对全部字段（较慢；平时只比对版本与删除标记）")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
def repair_cmd(api: ApiClient, as_code: str, deep: bool, as_json: bool) -> None:
    """立即与上级比对本节点下辖范围的目录摘要，只重发不一致的条目（反熵修复）。"""
    path = api.node_path(as_code, "sync", "repair")
    done = api.call_json("POST", path, {"deep": 1 if deep else 0})
    if as_json:
        click.echo(json.dumps(done, ensure_ascii=False))
        return
    took = f"比对 {done['ranges']} 个区段，{done['rounds']} 轮，耗时 {done['seconds']:g} 秒"
    if done["intact"]:
        click.echo(f"{as_code} 与上级 {done['parent']} 的目录一致，无需修复（{took}）")
        return
    click.echo(
        f"{as_code} 与上级 {done['parent']} 的目录有 {done['differing']} 个区段不一致（{took}）："
        f"重发 {done['sent']} 条，请上级删除 {done['removals']} 条；"
        f"上级写入 {done['written']} 条、删除 {done['removed']} 条，"
        f"{done['skipped']} 条因期间已变动留待下次校验"
    )
