"""档号 (archival codes) as DA/T 22-2015 writes them, the 保管期限 they carry and the 门类 codes.

``全宗号-门类代码·年度-保管期限-[机构或问题代码-]件号``, e.g. ``J001-HY·2015-Y-0001``. The parser
accepts what records were filed with before issue 11 (a 1-8 character 全宗号, a 1-6 digit
件号, 永久 / 30年 / 10年 for the retention, ``.`` for ``·``); ``nonstandard_reason`` says
where a code is not as the standard writes it, which a transfer package must be. Split from
``node/records.py`` (which re-exports every name) to keep modules small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from node.errors import InvalidRecord


class Retention(StrEnum):
    """保管期限; the value is how clerks write it, ``code`` is the 档号 segment."""

    PERMANENT = "永久"
    YEARS_30 = "30年"
    YEARS_10 = "10年"

    @property
    def code(self) -> str:
        return _RETENTION_CODES[self.value]

    @classmethod
    def from_code(cls, code: str) -> Retention:
        """The retention a 档号 segment or a spreadsheet cell names: ``Y`` / ``D30`` / ``D10``
        as DA/T 22 writes it, or ``永久`` / ``30年`` / ``10年`` (aliases, as clerks write it)."""
        try:
            return cls(_RETENTION_BY_CODE.get(code, code))
        except ValueError:
            raise InvalidRecord(
                f"保管期限代码应为 Y、D30 或 D10（或 永久、30年、10年）: {code!r}"
            ) from None


_RETENTION_CODES = {"永久": "Y", "30年": "D30", "10年": "D10"}
_RETENTION_BY_CODE = {code: value for value, code in _RETENTION_CODES.items()}


# 门类: the categories clerks meet daily, with the code used in the 档号.
CATEGORIES: dict[str, str] = {
    "婚姻登记": "HY",
    "土地承包": "TD",
    "学籍": "XJ",
    "知青": "ZQ",
    "退役军人": "TY",
    "房产": "FC",
    "社保": "SB",
    "户籍": "HJ",
}
CATEGORY_BY_CODE = {code: name for name, code in CATEGORIES.items()}

# 档号, after DA/T 22-2015: 全宗号-门类代码·年度-保管期限代码-机构或问题代码-件号, the
# organisation (or subject) code optional, e.g. J001-HY·2015-Y-0001, J001-HY·2015-D30-BGS-0012.
# The retention is also accepted as 永久 / 30年 / 10年 (the codes this parser always took).
_ARCHIVAL_CODE = re.compile(
    r"(?P<fonds>[A-Z0-9]{1,8})-(?P<category>[A-Z]{2,4})[·.](?P<year>[0-9]{4})"
    r"-(?P<retention>Y|D30|D10|永久|30年|10年)(?:-(?P<org>[A-Z0-9]{1,10}))?-(?P<item>[0-9]{1,6})"
)


@dataclass(frozen=True)
class ArchivalCode:
    """A parsed 档号."""

    fonds: str
    category_code: str
    year: int
    retention: Retention
    item: int
    org: str = ""  # 机构或问题代码, "" if the 档号 has none

    @property
    def series(self) -> str:
        """The 档号 without its item number: the series whose items are numbered 1, 2, 3..."""
        org = f"-{self.org}" if self.org else ""
        return f"{self.fonds}-{self.category_code}·{self.year}-{self.retention.code}{org}"

    def __str__(self) -> str:
        return f"{self.series}-{self.item:04d}"


def nonstandard_reason(text: str) -> str:
    """Why a 档号 that parses is not as DA/T 22 writes it ("" if it is): a 4-character 全宗号,
    the retention as Y / D30 / D10, a 4-digit item number from 0001. The parser accepts more
    (records filed before this check); a transfer package's 档号 must be standard."""
    code = parse_archival_code(text)
    match = _ARCHIVAL_CODE.fullmatch(text.strip())
    assert match is not None  # parse_archival_code matched it
    if len(code.fonds) != 4:
        return f"全宗号应为 4 位（收到 {code.fonds}）"
    if match["retention"] != code.retention.code:
        return f"保管期限在档号中应写作 {code.retention.code}（收到 {match['retention']}）"
    if len(match["item"]) != 4 or code.item < 1:
        return f"件号应为 4 位数字，从 0001 起（收到 {match['item']}）"
    if "." in text:
        return "门类代码与年度之间应为间隔号 ·"
    return ""


def parse_archival_code(text: str) -> ArchivalCode:
    """Parse a 档号 such as ``J001-HY·2015-Y-0001`` (a ``.`` is accepted for the ``·``)."""
    if not isinstance(text, str):
        raise InvalidRecord(f"档号应为文本: {text!r:.40}")
    return _parse_code(text)


@lru_cache(maxsize=4096)  # a record's checks parse its 档号 several times: once is enough
def _parse_code(text: str) -> ArchivalCode:
    match = _ARCHIVAL_CODE.fullmatch(text.strip())
    if match is None:
        raise InvalidRecord(
            "档号格式应为 全宗号-门类代码·年度-保管期限代码-[机构代码-]件号"
            "（如 J001-HY·2015-Y-0001；全宗号 1 到 8 位大写字母或数字，年度 4 位，"
            "保管期限代码 Y、D30 或 D10，件号 1 到 6 位数字；"
            "门类代码见 docs/operations.md「Ingesting records」）: "
            f"{text!r}"
        )
    if match["category"] not in CATEGORY_BY_CODE:
        known = "、".join(f"{code} {name}" for code, name in CATEGORY_BY_CODE.items())
        raise InvalidRecord(f"档号中的门类代码未知: {match['category']!r}（可选: {known}）")
    return ArchivalCode(
        fonds=match["fonds"],
        category_code=match["category"],
        year=int(match["year"]),
        retention=Retention.from_code(match["retention"]),
        item=int(match["item"]),
        org=match["org"] or "",
    )
