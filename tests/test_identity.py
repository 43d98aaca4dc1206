from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import InvalidCode
from node.identity import (
    Level,
    ancestors,
    covering_ancestor,
    covers,
    level_of,
    next_hop,
    parent_of,
    route,
    validate_code,
)

# Valid codes: each level's own segment is non-zero.
seg = lambda n: st.integers(1, 10**n - 1).map(lambda v: str(v).zfill(n))  # noqa: E731
codes = st.builds(
    lambda p, c, co, t, v, depth: (p + c + co + t + v)[: (2, 4, 6, 9, 12)[depth]],
    st.integers(11, 82).map(str),
    seg(2),
    seg(2),
    seg(3),
    seg(3),
    st.integers(0, 4),
)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("33", Level.PROVINCE),
        ("3301", Level.CITY),
        ("330106", Level.COUNTY),
        ("330106001", Level.TOWNSHIP),
        ("330106001001", Level.VILLAGE),
    ],
)
def test_levels_follow_from_length(code: str, level: Level) -> None:
    assert level_of(code) == level


@pytest.mark.parametrize(
    "bad", ["", "3", "330", "33a1", "3300", "330100", "330106000", "00", " 33", "３３"]
)
def test_invalid_codes_are_refused_with_a_message(bad: str) -> None:
    with pytest.raises(InvalidCode, match="区划代码"):
        validate_code(bad)


def test_parent_and_ancestors() -> None:
    assert parent_of("330106001001") == "330106001"
    assert parent_of("33") is None
    assert ancestors("330106001") == ["33", "3301", "330106"]


def test_route_goes_up_to_the_common_ancestor_then_down() -> None:
    assert route("330106001001", "330110002") == [
        "330106001",
        "330106",
        "3301",
        "330110",
        "330110002",
    ]
    assert route("33", "330106") == ["3301", "330106"]


def test_covering_ancestor_is_lowest_node_covering_scope() -> None:
    assert covering_ancestor("330106001001", "330110") == "3301"
    assert covering_ancestor("330106001001", "330106001001") == "330106001001"
    assert covering_ancestor("330106001001", "330106002") == "330106"
    with pytest.raises(InvalidCode):
        covering_ancestor("330106", "3401")


@given(codes, codes)
def test_route_ends_at_destination_and_each_step_is_a_tree_edge(a: str, b: str) -> None:
    if a[:2] != b[:2]:
        return
    path = [a, *route(a, b)]
    assert path[-1] == b
    for x, y in pairwise(path):
        assert parent_of(x) == y or parent_of(y) == x
    assert len(path) == len(set(path))


@given(codes)
def test_every_generated_code_validates_and_covers_itself(code: str) -> None:
    assert validate_code(code) == code
    assert covers(code, code)
    for ancestor in ancestors(code):
        assert covers(ancestor, code) and not covers(code, ancestor)


def test_next_hop_refuses_itself() -> None:
    with pytest.raises(InvalidCode):
        next_hop("33", "33")
