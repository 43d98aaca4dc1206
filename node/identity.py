"""Division codes: validation, levels and prefix routing arithmetic.

A node's id is its administrative division code with only its significant digits: province
``33``, city ``3301``, county ``330106``, township ``330106001``, village ``330106001001``.
The level follows from the length and the parent is a prefix, so the tree needs no table and
routing is arithmetic: go up until the code covers the destination, then down.
"""

from __future__ import annotations

import re
from enum import IntEnum

from node.errors import InvalidCode

_DIGITS = re.compile(r"[0-9]+")


class Level(IntEnum):
    """Tier of a node; the value is the depth below the province (0..4)."""

    PROVINCE = 0
    CITY = 1
    COUNTY = 2
    TOWNSHIP = 3
    VILLAGE = 4

    @property
    def code_length(self) -> int:
        return CODE_LENGTHS[self]

    @property
    def zh(self) -> str:
        return _ZH[self]


CODE_LENGTHS: tuple[int, ...] = (2, 4, 6, 9, 12)
_LEVEL_BY_LENGTH = {length: Level(i) for i, length in enumerate(CODE_LENGTHS)}
_ZH = {
    Level.PROVINCE: "省",
    Level.CITY: "市",
    Level.COUNTY: "县（区）",
    Level.TOWNSHIP: "乡镇（街道）",
    Level.VILLAGE: "村（社区）",
}
MAX_DEPTH = len(CODE_LENGTHS)


def validate_code(code: str) -> str:
    """Return ``code`` if it is a well-formed division code, else raise ``InvalidCode``.

    Each level's own segment must be non-zero: ``3300`` is not a city.
    """
    if not isinstance(code, str) or not _DIGITS.fullmatch(code):
        raise InvalidCode(f"区划代码只能由数字组成: {code!r}")
    level = _LEVEL_BY_LENGTH.get(len(code))
    if level is None:
        raise InvalidCode(f"区划代码长度应为 2、4、6、9 或 12 位（省、市、县、乡镇、村）: {code!r}")
    start = 0
    for length in CODE_LENGTHS[: level + 1]:
        if int(code[start:length]) == 0:
            raise InvalidCode(f"区划代码 {code!r} 的第 {start + 1}-{length} 位不能全为 0")
        start = length
    return code


def level_of(code: str) -> Level:
    """The tier of a (valid) code."""
    return _LEVEL_BY_LENGTH[len(validate_code(code))]


def parent_of(code: str) -> str | None:
    """The parent's code, or ``None`` for the province."""
    level = level_of(code)
    if level == Level.PROVINCE:
        return None
    return code[: CODE_LENGTHS[level - 1]]


def ancestors(code: str) -> list[str]:
    """Codes from the province down to ``code``'s parent."""
    level = level_of(code)
    return [code[:length] for length in CODE_LENGTHS[:level]]


def covers(ancestor: str, code: str) -> bool:
    """True if ``code`` is ``ancestor`` itself or lies in its subtree."""
    return code.startswith(ancestor) and len(code) in CODE_LENGTHS and len(ancestor) <= len(code)


def covering_ancestor(me: str, scope: str) -> str:
    """The lowest node on ``me``'s path to the province that covers ``scope``.

    That node answers a search over ``scope`` from its aggregated catalogue.
    """
    validate_code(scope)
    node = me
    while not covers(node, scope):
        parent = parent_of(node)
        if parent is None:
            raise InvalidCode(f"检索范围 {scope} 不在本省之内")
        node = parent
    return node


def next_hop(me: str, destination: str) -> str:
    """The neighbour of ``me`` one step toward ``destination`` (which must differ from ``me``)."""
    validate_code(destination)
    if me == destination:
        raise InvalidCode("next_hop: already at the destination")
    if covers(me, destination):
        return destination[: CODE_LENGTHS[level_of(me) + 1]]
    parent = parent_of(me)
    if parent is None:
        raise InvalidCode(f"节点 {destination} 不在本省之内")
    return parent


def route(source: str, destination: str) -> list[str]:
    """Every node after ``source`` on the way to ``destination``."""
    path: list[str] = []
    node = source
    while node != destination:
        node = next_hop(node, destination)
        path.append(node)
    return path
