"""Naming nodes and scopes on the search page: the scope picker and "who answered, and why".

A clerk thinks in places (西湖区), not in division codes (330106). The picker offers the
province's cities and their counties by name, from the shipped division table
(``node.divisions``) and this node's copy of the trust directory (a node enrolled under a
code the table lacks is offered under its archive's name); any other code can still be
typed. After a search the page names the node whose catalogue answered and what that
catalogue covers: the children it aggregates, by place name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from node.divisions import division_name, load_divisions
from node.errors import InvalidCode
from node.federation.services.search import KnownNode
from node.identity import Level, ancestors, covers, level_of, parent_of, validate_code
from node.web.views.catalogue import Option

MAX_NAMED_CHILDREN = 6  # beyond this the sentence names the first few and counts the rest


@dataclass(frozen=True)
class ScopeGroup:
    """One ``<optgroup>``: a city and its counties (``label`` "" for the province row)."""

    label: str
    options: tuple[Option, ...]


def place_name(code: str, known: Mapping[str, KnownNode]) -> str:
    """A division's own name (西湖区), else the place in the name of the node enrolled there
    (北山街道档案室 -> 北山街道), else the code."""
    name = division_name(code)
    if name is not None:
        return name
    node = known.get(code)
    if node is None or not node.name:
        return code
    return node.name.removesuffix("档案馆").removesuffix("档案室") or node.name


def archive_name(code: str, known: Mapping[str, KnownNode], hosted: Mapping[str, str]) -> str:
    """The archive at ``code`` by name (余杭区档案馆): from the directory, this process's
    hosted nodes, or the division table; the code with its tier if none names it."""
    node = known.get(code)
    if node is not None and node.name:
        return node.name
    if code in hosted:
        return hosted[code]
    name = division_name(code)
    if name is not None:
        return f"{name}档案馆"
    try:
        return f"{code}（{level_of(code).zh}级节点）"
    except InvalidCode:
        return code


def scope_groups(
    province: str, selected: str, known: Mapping[str, KnownNode]
) -> tuple[ScopeGroup, ...]:
    """全省, then each city with its counties; ``selected`` is marked, and added first (by
    name) if it is a valid code that no row offers, such as a township."""
    codes = {
        code
        for code in (*load_divisions(), *known)
        if code.startswith(province) and len(code) in (4, 6)
    }
    cities = sorted(c for c in codes if len(c) == 4)
    counties = sorted(c for c in codes if len(c) == 6)

    def option(code: str, label: str) -> Option:
        return Option(code, label, code == selected)

    groups = []
    for city in cities:
        name = place_name(city, known)
        rows = [option(city, f"{name}（全市）")]
        rows += [option(c, place_name(c, known)) for c in counties if parent_of(c) == city]
        groups.append(ScopeGroup(name, tuple(rows)))
    offered = {province, *cities, *counties}
    top = [option(province, "全省")]
    if selected and selected not in offered and _valid(selected):
        top.insert(0, option(selected, f"{place_name(selected, known)}（{selected}）"))
    return (ScopeGroup("", tuple(top)), *groups)


def _valid(code: str) -> bool:
    try:
        validate_code(code)
    except InvalidCode:
        return False
    return True


def coverage(answerer: str, me: str, known: Mapping[str, KnownNode]) -> str:
    """What the answering node's catalogue covers: its children, by name: those in the
    directory, and the one on this node's own path (known before the directory arrives)."""
    on_path = {*ancestors(me), me} if covers(answerer, me) else set()
    children = sorted(c for c in {*known, *on_path} if parent_of(c) == answerer)
    if not children:
        if level_of(answerer) == Level.VILLAGE:
            return "它的目录即本馆馆藏"
        return "它的目录汇总本馆及其下级各馆的目录"
    names = [place_name(code, known) for code in children]
    if len(names) > MAX_NAMED_CHILDREN:
        shown = "、".join(names[: MAX_NAMED_CHILDREN - 1])
        return f"它的目录覆盖 {shown} 等 {len(names)} 个下级"
    if len(names) == 1:
        return f"它的目录覆盖 {names[0]}"
    return f"它的目录覆盖 {'、'.join(names[:-1])} 和 {names[-1]}"


def answered(
    me: str,
    answerer: str,
    scope: str,
    known: Mapping[str, KnownNode],
    hosted: Mapping[str, str],
) -> str:
    """ "由 杭州市档案馆 答复：它的目录覆盖 西湖区 和 余杭区。", and for a higher node why it,
    not this one, answered; "" if the answer named no node."""
    if not answerer:
        return ""
    name = archive_name(answerer, known, hosted)
    try:
        sentence = f"由 {name} 答复：{coverage(answerer, me, known)}"
    except InvalidCode:  # the answer named no division: say who, not what it covers
        return f"由 {name} 答复。"
    if answerer != me and scope:
        where = "全省" if len(scope) == 2 else place_name(scope, known)
        sentence += f"。检索范围 {where} 超出本节点目录，由覆盖它的最近一级节点答复"
    return sentence + "。"


def by_code(nodes: Iterable[KnownNode]) -> dict[str, KnownNode]:
    return {node.code: node for node in nodes}
