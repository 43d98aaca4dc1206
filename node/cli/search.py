"""``archive-node search``: the province's catalogue (or ``--scope``'s part of it) from the CLI.

One page of hits as a table, or one JSON object per line with ``--json``; pages follow by
``--offset`` or by the ``--cursor`` the previous page printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from node.cli.apiclient import ApiClient
from node.cli.common import CliError, node_command, table
from node.records import CATEGORIES, MAX_PAGE, Access, Retention


def _words_or_filter(
    query: Sequence[str],
    category: str | None,
    year_from: int | None,
    year_to: int | None,
    retention: str | None,
    access: str | None,
    id_number: str | None = None,
    **_: Any,
) -> None:
    if not " ".join(query).strip() and not (
        category or year_from or year_to or retention or access or id_number
    ):
        raise CliError(
            "请给出查询词，或用 --id-number、--category、--year-from、--year-to、--retention、"
            "--access 筛选。"
        )
    if id_number is not None and id_number != "-":
        raise CliError(
            "身份证号码不要写在命令行上（会留在命令历史里）：请用 --id-number -，"
            "再按提示输入，或从标准输入传入。"
        )


def _read_id_number() -> str:
    """The number from a hidden prompt at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return str(click.prompt("当事人身份证号码", hide_input=True, err=True))
    return sys.stdin.readline().strip()


@click.command()
@node_command("以哪个托管节点的身份检索", check=_words_or_filter)
@click.option("--scope", metavar="CODE", help="检索范围（区划代码，默认全省）")
@click.option("--category", type=click.Choice(list(CATEGORIES)), help="门类")
@click.option("--year-from", type=int, metavar="N", help="起始年度")
@click.option("--year-to", type=int, metavar="N", help="终止年度")
@click.option(
    "--limit", type=click.IntRange(1, MAX_PAGE), default=20, show_default=True, help="最多条数"
)
@click.option("--retention", type=click.Choice([r.value for r in Retention]), help="保管期限")
@click.option(
    "--access",
    type=click.Choice([Access.OPEN.value, Access.CONTROLLED.value]),
    help="开放状态：open 开放，controlled 控制使用",
)
@click.option(
    "--offset", type=click.IntRange(min=0), default=0, show_default=True, help="跳过前 N 条"
)
@click.option(
    "--cursor", metavar="CURSOR", help="翻页游标：上一次输出的“下一页”游标（查询词和筛选须相同）"
)
@click.option(
    "--id-number",
    metavar="-",
    help="按当事人身份证号码检索（含控制使用档案）：写 -，再按提示输入或从标准输入读入",
)
@click.option("--json", "as_json", is_flag=True, help="每条结果输出一行 JSON")
@click.argument("query", nargs=-1)
def search(
    api: ApiClient,
    as_code: str,
    scope: str | None,
    category: str | None,
    year_from: int | None,
    year_to: int | None,
    limit: int,
    retention: str | None,
    access: str | None,
    offset: int,
    cursor: str | None,
    id_number: str | None,
    as_json: bool,
    query: Sequence[str],
) -> None:
    """在全省（或 --scope 范围内）检索档案目录。QUERY 为查询词，如当事人姓名。

    --id-number - 按当事人身份证号码检索：号码从提示或标准输入读入，不进命令历史，
    经校验后以盲索引检索，号码本身不离开本节点。
    """
    number = _read_id_number() if id_number is not None else None
    if id_number is not None and not number:
        raise CliError("没有读到身份证号码：请在提示后输入，或从标准输入传入一行号码。")
    page = api.search(
        as_code,
        " ".join(query),
        scope=scope,
        category=category,
        year_from=year_from,
        year_to=year_to,
        limit=limit,
        offset=offset,
        retention=retention,
        access=access,
        cursor=cursor,
        id_number=number,
    )
    hits: list[dict[str, Any]] = page["hits"]
    next_cursor = page.get("next_cursor") or ""
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit, ensure_ascii=False))
        if next_cursor:  # stdout stays one object per hit
            click.echo(f"下一页：--cursor {next_cursor}", err=True)
        return
    if hits:
        click.echo(table(["档案", "题名", "年度", "门类", "开放状态", "馆藏单位"], _rows(hits)))
        shown = (
            f"，本页 {len(hits)} 条" if cursor else f"，显示第 {offset + 1}–{offset + len(hits)} 条"
        )
    else:
        shown = "，未找到匹配的档案"
    by = f"，由 {page['answered_by']} 应答" if page.get("answered_by") else ""
    total = (
        f"共 {page['total']} 条" if page.get("total_exact", True) else f"超过 {page['total']} 条"
    )
    click.echo(f"{total}{shown}{by}")
    if next_cursor:
        click.echo(f"下一页：在同一命令后加 --cursor {next_cursor}")


def _rows(hits: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for hit in hits:
        try:
            access = Access(hit["access"]).zh
        except ValueError:
            access = str(hit["access"])
        holder = f"{hit.get('holder_name') or ''}（{hit['holder']}）".lstrip()
        rows.append([hit["ref"], hit["title"], str(hit["year"]), hit["category"], access, holder])
    return rows
