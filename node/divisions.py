"""The real administrative divisions shipped with the package (province, cities, counties).

``node/data/zhejiang-divisions.csv`` lists 浙江省, its 11 cities and 90 counties with their
codes (significant digits only, see ``node.identity``). Townships and villages are not in the
file: demos and tests use synthetic ones that keep the code structure.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from node.errors import InvalidCode
from node.identity import Level, level_of, parent_of, validate_code

_PACKAGE = "node"
_DATA_DIR, _FILE = "data", "zhejiang-divisions.csv"
_COLUMNS = ("code", "level", "name", "parent")


@dataclass(frozen=True)
class Division:
    """One administrative division: its code, tier, official name and parent's code."""

    code: str
    level: Level
    name: str
    parent: str | None  # None for the province


def parse_divisions(text: str) -> dict[str, Division]:
    """Parse division CSV text (``code,level,name,parent``) into ``{code: Division}``.

    Every row is checked: the code is valid, the level matches the code's length, the name
    is not empty, the parent is the code's prefix parent and appears in the file, and no
    code appears twice. Raises ``InvalidCode`` naming the line at fault.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise InvalidCode(f"区划表表头应为 {','.join(_COLUMNS)}: {reader.fieldnames!r}")
    divisions: dict[str, Division] = {}
    for row in reader:
        line = reader.line_num
        code = (row["code"] or "").strip()
        try:
            validate_code(code)
        except InvalidCode as exc:
            raise InvalidCode(f"区划表第 {line} 行: {exc}") from exc
        level = level_of(code)
        if (row["level"] or "").strip() != level.name.lower():
            raise InvalidCode(
                f"区划表第 {line} 行: 代码 {code} 的层级应为 {level.name.lower()}: {row['level']!r}"
            )
        name = (row["name"] or "").strip()
        if not name:
            raise InvalidCode(f"区划表第 {line} 行: 代码 {code} 缺少名称")
        parent = (row["parent"] or "").strip() or None
        if parent != parent_of(code):
            raise InvalidCode(
                f"区划表第 {line} 行: 代码 {code} 的上级应为 {parent_of(code)}: {parent!r}"
            )
        if code in divisions:
            raise InvalidCode(f"区划表第 {line} 行: 代码 {code} 重复")
        divisions[code] = Division(code=code, level=level, name=name, parent=parent)
    for division in divisions.values():
        if division.parent is not None and division.parent not in divisions:
            raise InvalidCode(f"区划表中 {division.code} 的上级 {division.parent} 不存在")
    return divisions


@cache
def load_divisions() -> dict[str, Division]:
    """The shipped divisions, ``{code: Division}``, parsed once and cached.

    The returned dict is shared between callers: treat it as read-only.
    """
    resource = resources.files(_PACKAGE).joinpath(_DATA_DIR).joinpath(_FILE)
    return parse_divisions(resource.read_text(encoding="utf-8"))


def division_name(code: str) -> str | None:
    """The official name of a division in the shipped file (e.g. ``330106`` -> 西湖区).

    ``None`` for codes the file does not list (townships, villages, unknown codes).
    """
    division = load_divisions().get(code)
    return division.name if division else None
