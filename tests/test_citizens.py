"""Identity numbers: the GB 11643 check, and that the number never shows in clear."""

from __future__ import annotations

import datetime as dt

import pytest

from node.citizens import IdNumber, InvalidIdNumber, check_character

# The standard's own example number (GB 11643-1999, appendix): 11010519491231002X.
EXAMPLE = "11010519491231002X"


def test_the_standards_example_passes_and_its_check_character_is_x() -> None:
    assert check_character(EXAMPLE[:17]) == "X"
    assert IdNumber.parse(EXAMPLE.lower()).digits == EXAMPLE
    assert IdNumber.parse(f"  {EXAMPLE} ").birth_date == dt.date(1949, 12, 31)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("11010519491231002", "18 位"),
        ("110105194912310021", "校验位"),
        ("1101051949123100２X", "17 位数字"),
        ("110105194913310027", "出生日期无效"),
        ("11010518001231002X", "1850"),
        (None, "文本"),
    ],
)
def test_a_wrong_number_is_refused_with_the_reason(text: object, why: str) -> None:
    with pytest.raises(InvalidIdNumber, match=why):
        IdNumber.parse(text)


def test_a_birth_date_after_today_is_refused() -> None:
    body = "11010520300101001"
    with pytest.raises(InvalidIdNumber, match="晚于今天"):
        IdNumber.parse(body + check_character(body), today=dt.date(2026, 12, 4))


def test_the_number_shows_only_masked() -> None:
    number = IdNumber.parse(EXAMPLE)
    assert str(number) == number.masked == "110105********002X"
    assert EXAMPLE not in repr(number) and EXAMPLE not in f"{number}"
    assert EXAMPLE not in repr([number])
