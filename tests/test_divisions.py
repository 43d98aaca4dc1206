"""The shipped division table: one province, 11 cities, 90 counties, a consistent tree."""

from __future__ import annotations

import pytest

from node.divisions import Division, division_name, load_divisions, parse_divisions
from node.errors import InvalidCode
from node.identity import Level, parent_of, validate_code


def test_shipped_file_has_the_real_province() -> None:
    divisions = load_divisions()
    levels = [d.level for d in divisions.values()]
    assert levels.count(Level.PROVINCE) == 1
    assert levels.count(Level.CITY) == 11
    assert levels.count(Level.COUNTY) == 90
    assert len(divisions) == 102


def test_every_row_is_valid_and_its_parent_is_present() -> None:
    divisions = load_divisions()
    for code, division in divisions.items():
        assert division.code == code
        assert validate_code(code) == code
        assert division.name.strip() == division.name and division.name
        assert division.parent == parent_of(code)
        if division.parent is not None:
            assert division.parent in divisions
            assert divisions[division.parent].level == division.level - 1


def test_names_are_unique_within_a_parent() -> None:
    seen: set[tuple[str | None, str]] = set()
    for division in load_divisions().values():
        key = (division.parent, division.name)
        assert key not in seen
        seen.add(key)


def test_load_is_cached() -> None:
    assert load_divisions() is load_divisions()


def test_division_name() -> None:
    assert division_name("33") == "浙江省"
    assert division_name("3301") == "杭州市"
    assert division_name("330106") == "西湖区"
    assert division_name("330110") == "余杭区"
    assert division_name("330106001") is None  # townships are not in the file
    assert division_name("99") is None
    assert division_name("not a code") is None


def test_division_is_frozen() -> None:
    division = load_divisions()["33"]
    assert division == Division("33", Level.PROVINCE, "浙江省", None)
    with pytest.raises(AttributeError):
        division.name = "x"  # type: ignore[misc]


GOOD = "code,level,name,parent\n33,province,浙江省,\n3301,city,杭州市,33\n"


def test_parse_accepts_a_small_table_with_a_bom() -> None:
    divisions = parse_divisions("\ufeff" + GOOD)
    assert set(divisions) == {"33", "3301"}


@pytest.mark.parametrize(
    "text",
    [
        "code,name\n33,浙江省\n",  # wrong header
        GOOD + "3300,city,零,33\n",  # invalid code
        GOOD + "3302,county,宁波市,33\n",  # level does not match the length
        GOOD + "3302,city,,33\n",  # no name
        GOOD + "3302,city,宁波市,\n",  # parent missing
        GOOD + "330201,county,某区,3301\n",  # parent is not the prefix parent
        GOOD + "3301,city,杭州市,33\n",  # duplicate
        "code,level,name,parent\n3301,city,杭州市,33\n",  # parent not in the file
    ],
)
def test_parse_rejects_bad_rows(text: str) -> None:
    with pytest.raises(InvalidCode):
        parse_divisions(text)
