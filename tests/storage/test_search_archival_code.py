"""Finding an entry by its 档号 (``SearchQuery.archival_code``, ``node.lookup``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from node.errors import InvalidQuery
from node.lookup import archival_code_forms, archival_code_query
from node.records import Access, Retention, SearchQuery
from node.storage.catalogue import apply_entries_txn
from node.storage.search import search_txn
from node.storage.search_plan import Cursor, fingerprint

from .factories import in_txn, make_entry, memory_db

CODE = "J001-HY·2015-Y-0007"


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    db = memory_db()
    entries = [
        make_entry("A", "330106", archival_code=CODE),
        make_entry("B", "330110", archival_code="J001-HY.2015-Y-7"),  # written another way
        make_entry(
            "C",
            "330110",
            archival_code="J001-SB·2015-Y-0007",
            category="社保",
            access=Access.CONTROLLED,
            title="社保档案（2015年，控制使用）",
        ),  # fmt: skip
        make_entry("D", "330106", archival_code="J001-HY·2015-Y-0008"),
        make_entry("E", "330106", archival_code="J001-HY·2016-Y-0007", year=2016),
    ]
    in_txn(db, apply_entries_txn, entries)
    yield db
    db.close()


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        (CODE, CODE),
        (" J001-HY.2015-Y-7 ", CODE),
        ("J001-SB·2010-D30-12", "J001-SB·2010-D30-0012"),
        ("王秀英", None),
        ("J001-HY·2015-Y-0007 王秀英", None),  # a code and a name: a text search
        ("J001-QQ·2015-Y-0007", None),  # a category no catalogue has
        ("", None),
    ],
)
def test_a_code_is_recognised_only_when_it_is_the_whole_query(
    typed: str, canonical: str | None
) -> None:
    assert archival_code_query(typed) == canonical


def test_the_written_forms_cover_the_separator_and_the_padding() -> None:
    assert set(archival_code_forms(CODE)) == {
        "J001-HY·2015-Y-0007", "J001-HY·2015-Y-7", "J001-HY.2015-Y-0007", "J001-HY.2015-Y-7",
    }  # fmt: skip


def test_the_code_finds_its_entries_however_written_and_nothing_else(
    conn: sqlite3.Connection,
) -> None:
    page = search_txn(conn, SearchQuery(archival_code=CODE))
    assert sorted(h.record_id for h in page.hits) == ["A", "B"] and page.total == 2
    controlled = search_txn(conn, SearchQuery(archival_code="J001-SB·2015-Y-0007"))
    assert [h.record_id for h in controlled.hits] == ["C"]
    scoped = search_txn(conn, SearchQuery(archival_code=CODE, scope="330110"))
    assert [h.record_id for h in scoped.hits] == ["B"]


def test_filters_that_exclude_the_code_find_nothing(conn: sqlite3.Connection) -> None:
    for query in (
        SearchQuery(archival_code=CODE, category="学籍"),
        SearchQuery(archival_code=CODE, year_from=2016),
        SearchQuery(archival_code=CODE, retention=Retention.YEARS_30.value),
    ):
        assert search_txn(conn, query).total == 0, query


def test_a_bad_code_is_an_invalid_query(conn: sqlite3.Connection) -> None:
    with pytest.raises(InvalidQuery, match="档号无效"):
        search_txn(conn, SearchQuery(archival_code="not a code"))


def test_a_cursor_is_bound_to_the_code(conn: sqlite3.Connection) -> None:
    other = fingerprint(SearchQuery(archival_code="J001-HY·2015-Y-0008"))
    assert fingerprint(SearchQuery(archival_code=CODE)) != other
    assert fingerprint(SearchQuery()) == fingerprint(SearchQuery(archival_code=""))
    cursor = Cursor(other, 10, 2, True, "t", "a", (0, 10)).encode()
    with pytest.raises(InvalidQuery, match="另一次检索"):
        search_txn(conn, SearchQuery(archival_code=CODE, cursor=cursor))
