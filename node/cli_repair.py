"""``archive-node sync repair``: run anti-entropy with the parent now.

It also runs every ``sync.anti_entropy_interval``: the node compares its subtree catalogue
with its parent's copy by range digests and the parent takes exactly the entries that
differ (``federation/antientropy.py``). Acts on a running daemon through its JSON API.
"""

from __future__ import annotations

import json

import click

from node.cli_common import api_options, client_for


@click.command("repair")
@click.option("--as", "as_code", required=True, metavar="CODE", help="哪个托管节点与其上级校验")
@click.option("--deep", is_flag=True, help="逐条比对全部字段（较慢；平时只比对版本与删除标记）")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
@api_options
@click.pass_context
def repair_cmd(
    ctx: click.Context,
    as_code: str,
    deep: bool,
    as_json: bool,
    api_url: str | None,
    timeout: float | None,
) -> None:
    """立即与上级比对本节点下辖范围的目录摘要，只重发不一致的条目（反熵修复）。"""
    api = client_for(ctx, api_url, timeout)
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
