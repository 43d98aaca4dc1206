"""Typed field checks for the domain boundary: one text, integer or flag, typed and in range.

Every transport hands the domain what it parsed (JSON from the web and the CLI, protobuf from
a peer), and each one types values differently: JSON has floats, ``1e999`` (infinity),
integers of any size, nested objects and lone surrogates (``"\\ud800"``); protobuf has
unsigned 64-bit integers. What the domain accepts must also be storable (SQLite integers are
signed 64-bit, its text UTF-8) and shareable (protobuf strings are UTF-8, ``int64`` fields
signed), or an accepted record fails later, far from whoever sent it: a catalogue push
refused forever. So ``Record``, ``ContentFile`` and ``CatalogueEntry`` check each field here,
once, when they are built, and every decoder builds them.

Each check raises ``InvalidRecord`` (an ``InvalidInput``: 400 on the web, INVALID_ARGUMENT on
the wire) with a zh-CN message naming the field by its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from node.errors import InvalidRecord

MAX_INT64 = 2**63 - 1  # SQLite's INTEGER and protobuf's int64: the largest count or version
_CONTROL = frozenset(chr(c) for c in (*range(0x00, 0x20), 0x7F)) - {"\t", "\n", "\r"}


def text(value: object, label: str, max_chars: int, *, lines: bool = False) -> str:
    """``value`` if it is a string of at most ``max_chars`` that storage and the wire carry.

    Refused: not a string, too long, a lone surrogate (not UTF-8), a NUL or another control
    character (tab and line breaks only where ``lines``).
    """
    if not isinstance(value, str):
        raise InvalidRecord(f"{label}应为文本，收到 {type(value).__name__}")
    if len(value) > max_chars:
        raise InvalidRecord(f"{label}过长（最多 {max_chars} 字，收到 {len(value)} 字）")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRecord(f"{label}含有无效字符（不成对的代理码位），请删除后重试") from None
    bad = _CONTROL if lines else _CONTROL | {"\t", "\n", "\r"}
    if not bad.isdisjoint(value):
        raise InvalidRecord(f"{label}含有控制字符，请删除后重试")
    return value


def integer(value: object, label: str, low: int = 0, high: int = MAX_INT64) -> int:
    """``value`` if it is an integer (not a bool, not a float such as ``1.0`` or ``1e999``)
    between ``low`` and ``high`` inclusive."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecord(f"{label}应为整数，收到 {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidRecord(f"{label}应在 {low} 到 {high} 之间，收到 {_short(value)}")
    return value


def flag(value: object, label: str) -> bool:
    """``value`` if it is ``True`` or ``False`` (not ``0``, ``"false"`` or ``null``)."""
    if not isinstance(value, bool):
        raise InvalidRecord(f"{label}应为 true 或 false，收到 {type(value).__name__}")
    return value


def texts(value: object, label: str, max_items: int, max_chars: int) -> tuple[str, ...]:
    """``value`` as a tuple of at most ``max_items`` strings, each checked by ``text``."""
    # tuple and list first: the abstract Sequence check is slow on the ingest path
    if not isinstance(value, tuple | list) and (
        isinstance(value, str | bytes) or not isinstance(value, Sequence)
    ):
        raise InvalidRecord(f"{label}应为文本列表，收到 {type(value).__name__}")
    value = cast("Sequence[object]", value)  # checked above, without the slow ABC check
    if len(value) > max_items:
        raise InvalidRecord(f"{label}最多 {max_items} 项，收到 {len(value)} 项")
    return tuple(text(item, f"{label}第 {i} 项", max_chars) for i, item in enumerate(value, 1))


def _short(value: int) -> str:
    """An integer as a message shows it: huge ones by their size, not thousands of digits."""
    digits = str(abs(value)) if value.bit_length() < 4000 else ""
    if digits and len(digits) <= 24:
        return str(value)
    return f"{'-' if value < 0 else ''}{value.bit_length()} 位二进制的大数"
