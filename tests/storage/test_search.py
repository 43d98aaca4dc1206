"""Catalogue search: bigram FTS against brute force, boundaries, hostile input, filters."""

from __future__ import annotations

import base64
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.errors import InvalidQuery
from node.records import Access, CatalogueEntry, Retention, SearchPage, SearchQuery
from node.storage import search, search_plan
from node.storage.catalogue import CatalogueStore, apply_entries_txn
from node.storage.db import Database
from node.storage.fts import index_text, parse_text, runs
from node.storage.search import search_txn

from .factories import chinese_text, in_txn, make_entry, memory_db

HOLDERS = ["330106", "330106001", "330106001001", "330110", "330110002"]
CATEGORIES = ["婚姻登记", "土地承包", "学籍"]


def everything(conn: sqlite3.Connection, query: SearchQuery) -> tuple[int, list[CatalogueEntry]]:
    """All hits of ``query``, page by page."""
    hits: list[CatalogueEntry] = []
    offset = 0
    while True:
        page = search_txn(conn, SearchQuery(**{**query.__dict__, "limit": 50, "offset": offset}))
        hits.extend(page.hits)
        offset += 50
        if offset >= page.total:
            return page.total, hits


@pytest.fixture(scope="module")
def corpus() -> Iterator[tuple[sqlite3.Connection, list[CatalogueEntry]]]:
    rng = random.Random(7)
    entries = []
    for i in range(400):
        shared = i % 7 != 0  # every seventh is controlled: redacted title, no names
        entries.append(
            make_entry(
                f"R{i}",
                HOLDERS[i % len(HOLDERS)],
                title=chinese_text(rng, 8, 30),
                creator=chinese_text(rng, 3, 8, punctuation=0),
                subjects=tuple(
                    chinese_text(rng, 2, 3, punctuation=0)
                    for _ in range(rng.randint(0, 3) if shared else 0)
                ),
                category=CATEGORIES[i % 3],
                year=1990 + i % 30,
                access=Access.OPEN if shared else Access.CONTROLLED,
            )
        )
    conn = memory_db()
    in_txn(conn, apply_entries_txn, entries)
    yield conn, entries
    conn.close()


def matches(entry: CatalogueEntry, word: str) -> bool:
    """What search promises: a substring of the title (of an open record: others' titles are
    redacted), the category's name, the creator or a subject's name."""
    title = entry.title if entry.access == Access.OPEN else ""
    fields = (title, entry.category, entry.creator, *entry.subjects)
    return any(word in field for field in fields)


def brute_force(entries: list[CatalogueEntry], word: str) -> set[str]:
    return {e.record_id for e in entries if matches(e, word)}


def substrings(rng: random.Random, entries: list[CatalogueEntry], length: int, n: int) -> list[str]:
    texts = [t for e in entries for t in (e.title, e.creator, *e.subjects) if len(t) >= length]
    out: list[str] = []
    while len(out) < n:
        text = rng.choice(texts)
        start = rng.randrange(len(text) - length + 1)
        word = text[start : start + length]
        if " " not in word:
            out.append(word)
    return out


@pytest.mark.parametrize("length", [1, 2, 3, 4, 6])
def test_substrings_are_found_exactly(corpus, length: int) -> None:  # type: ignore[no-untyped-def]
    conn, entries = corpus
    rng = random.Random(length)
    words = substrings(rng, entries, length, 60)
    words += ["".join(rng.choice("王李秀英华明婚姻登记") for _ in range(length)) for _ in range(20)]
    checked = 0
    for word in words:
        try:
            total, hits = everything(conn, SearchQuery(text=word))
        except InvalidQuery:
            assert not runs(word)  # only punctuation
            continue
        # punctuation at the edges of a word is not part of what is searched for
        core = word.strip("（）、，《》 ")
        expected = brute_force(entries, core)
        assert {h.record_id for h in hits} == expected, word
        assert total == len(expected) == len(hits)
        checked += 1
    assert checked > 50


def test_several_words_must_all_match(corpus) -> None:  # type: ignore[no-untyped-def]
    conn, entries = corpus
    rng = random.Random(3)
    for _ in range(30):
        a, b = substrings(rng, entries, 2, 1)[0], substrings(rng, entries, 1, 1)[0]
        if not runs(a) or not runs(b):
            continue
        total, hits = everything(conn, SearchQuery(text=f"  {a}\t{b} "))
        expected = brute_force(entries, a.strip("（）、，《》")) & brute_force(entries, b)
        assert {h.record_id for h in hits} == expected
        assert total == len(expected)


def test_filters_and_scope(corpus) -> None:  # type: ignore[no-untyped-def]
    conn, entries = corpus
    for scope in ["", "33", "330106", "330106001", "330110002", "330111"]:
        for category in [None, "学籍"]:
            _check_filters(conn, entries, 1995, 2010, scope, category, "王")
            filters_only = everything(conn, SearchQuery(scope=scope, category=category))[1]
            assert [h.record_id for h in filters_only] == [  # newest first
                e.record_id
                for e in reversed(entries)
                if e.holder.startswith(scope) and category in (None, e.category)
            ]


def test_ranking_is_stable_and_pages_do_not_overlap(corpus, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, _ = corpus
    for rank_limit in (search.RANK_LIMIT, 3):  # bm25 ranking, and rowid order for large sets
        monkeypatch.setattr(search, "RANK_LIMIT", rank_limit)
        total, hits = everything(conn, SearchQuery(text="王"))
        assert total > 10
        assert len({h.record_id for h in hits}) == total
        assert everything(conn, SearchQuery(text="王"))[1] == hits
    monkeypatch.undo()
    page = search_txn(conn, SearchQuery(text="王", offset=10_000))
    assert page.hits == () and page.total > 0


def test_title_matches_rank_above_creator_matches() -> None:
    conn = memory_db()
    in_txn(
        conn,
        apply_entries_txn,
        [
            make_entry("A", title="其他档案", creator="王秀英"),
            make_entry("B", title="王秀英档案"),
            make_entry("C", title="其他档案", subjects=("王秀英",)),
        ],
    )
    page = search_txn(conn, SearchQuery(text="王秀英"))
    assert [h.record_id for h in page.hits] == ["B", "C", "A"]
    conn.close()


def test_phrases_never_cross_a_boundary() -> None:
    conn = memory_db()
    entries = [
        make_entry("P", title="王秀（秀英", creator="无"),  # punctuation between runs
        make_entry("S", title="无", creator="无", subjects=("王秀", "秀英")),  # two names
        make_entry("F", title="档案王秀", creator="秀英"),  # two fields
        make_entry("A", title="王秀a秀英", creator="无"),  # a script change
        make_entry("W", title="王秀 秀英", creator="无"),  # a space
    ]
    in_txn(conn, apply_entries_txn, entries)
    assert search_txn(conn, SearchQuery(text="王秀英")).total == 0
    assert search_txn(conn, SearchQuery(text="秀秀")).total == 0
    assert search_txn(conn, SearchQuery(text="王秀")).total == 5
    assert {h.record_id for h in search_txn(conn, SearchQuery(text="王秀（秀英")).hits} == {"P"}
    assert {h.record_id for h in search_txn(conn, SearchQuery(text="秀a秀")).hits} == {"A"}
    # a LIKE check on the stored JSON of subjects cannot join two names either
    assert search_txn(conn, SearchQuery(text='秀","秀')).total == 0
    conn.close()


def test_ascii_words_and_full_width_forms() -> None:
    conn = memory_db()
    in_txn(
        conn,
        apply_entries_txn,
        [
            make_entry("A", title="ＡＢＣ公司２０１５年报"),
            make_entry("B", title="abcd 2015"),
            make_entry("C", title="100%_完成"),
        ],
    )

    def ids(text: str) -> set[str]:
        return {h.record_id for h in search_txn(conn, SearchQuery(text=text)).hits}

    assert ids("abc") == {"A"}  # ASCII words match whole words, case-insensitively
    assert ids("ABCD") == {"B"}
    assert ids("2015") == {"A", "B"}
    assert ids("２０１５") == {"A", "B"}
    assert ids("100%_完成") == {"C"}
    assert ids("0%_完") == {"C"}
    conn.close()


HOSTILE = [
    '"', '""', "'", "*", "王*", "NEAR(", "NEAR(王 李)", "AND OR", "OR", "NOT 王", "^王", "王^",
    "%", "_", "%王_", "\\", "\x00", "王\x00李", "a" * 200, "王" * 200, "😀", "王😀李", "😀王",
    "{title}: 王", "title:王", "-王", "+王", "(王)", ":", "王 AND", "\ufffd", "\ue000",
    "\u19b0\u19b0", "ᦰ王", "x" * 10_000, "王 " * 120, "\u0301", "e\u0301", "ﷺ", "㈱",
    "\ud800", "王\ud800李", "王秀\udfff", " ".join("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑"),
]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_gives_results_or_invalid_query(corpus, text: str) -> None:  # type: ignore[no-untyped-def]
    conn, _ = corpus
    try:
        page = search_txn(conn, SearchQuery(text=text))
    except InvalidQuery:
        return
    assert isinstance(page, SearchPage)


@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=220))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_results_or_invalid_query(text: str) -> None:
    conn = _shared_small_db()
    try:
        page = search_txn(conn, SearchQuery(text=text))
    except InvalidQuery:
        return
    assert page.total >= len(page.hits)


_SMALL: list[sqlite3.Connection] = []


def _shared_small_db() -> sqlite3.Connection:
    if not _SMALL:
        conn = memory_db()
        in_txn(
            conn,
            apply_entries_txn,
            [make_entry(f"R{i}", title=f"王秀英档案{i}") for i in range(20)],
        )
        _SMALL.append(conn)
    return _SMALL[0]


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(text="王" * 201),
        SearchQuery(text="   "),
        SearchQuery(text="!!! ？"),
        SearchQuery(scope="33%"),
        SearchQuery(scope="3301' OR '1'='1"),
        SearchQuery(scope="3" * 13),
        SearchQuery(category="绝密"),
        SearchQuery(year_from=10**30),
        SearchQuery(year_to="2015"),  # type: ignore[arg-type]
        SearchQuery(limit=0),
        SearchQuery(limit=10_000),
        SearchQuery(offset=-1),
        SearchQuery(offset=2**70),
        SearchQuery(text=None),  # type: ignore[arg-type]
    ],
)
def test_unusable_queries_are_invalid(query: SearchQuery) -> None:
    conn = _shared_small_db()
    if query.text == "   ":
        assert search_txn(conn, query).total == 20  # blank text: filters only
        return
    with pytest.raises(InvalidQuery):
        search_txn(conn, query)


def test_query_parsing_quotes_every_token() -> None:
    parsed = parse_text('王秀英 "NEAR(x)" 李 a*b')
    # an ASCII run starting a word may end a longer word: it does not narrow; one ending it
    # starts a word in the text: a prefix
    assert parsed.phrases == ('"王秀 秀英"', '"x"*', '"李"*', '"b"*')
    assert parsed.match == '{title creator subjects} : ("王秀 秀英" AND "x"* AND "李"* AND "b"*)'
    assert parsed.like_words == ("NEAR(x", "a*b")  # edge punctuation is not searched for
    assert index_text(["王秀英", "李"]) == "王秀 秀英 英 李"


def test_a_word_in_a_category_name_may_match_that_category() -> None:
    parsed = parse_text("婚姻 王")
    assert parsed.match == (
        '{title creator subjects} : ("王"*) AND '
        '({title creator subjects} : "婚姻" OR facets : "chy")'
    )


def test_user_text_never_matches_facet_tokens(corpus) -> None:  # type: ignore[no-untyped-def]
    conn, _ = corpus
    tokens = ["s330106", "chy", "cxj", "y1995", "d199", "chyd199", "chyy1995", "ry", "aopen"]
    for text in [*tokens, "facets", "330106"]:
        assert search_txn(conn, SearchQuery(text=text)).total == 0


@given(
    year_from=st.none() | st.integers(1980, 2030),
    year_to=st.none() | st.integers(1980, 2030),
    scope=st.sampled_from(["", "33", "330106", "330106001", "33010", "330110002"]),
    category=st.sampled_from([None, *CATEGORIES]),
    text=st.sampled_from(["", "王", "秀英", "登记"]),
    rank_limit=st.sampled_from([search.RANK_LIMIT, 3]),
)
@settings(max_examples=150, deadline=None)
def test_filters_match_brute_force(
    corpus,
    year_from: int | None,
    year_to: int | None,
    scope: str,
    category: str | None,
    text: str,
    rank_limit: int,  # type: ignore[no-untyped-def]
) -> None:
    conn, entries = corpus
    with patch.object(search, "RANK_LIMIT", rank_limit):
        _check_filters(conn, entries, year_from, year_to, scope, category, text)


def _check_filters(  # type: ignore[no-untyped-def]
    conn, entries, year_from, year_to, scope, category, text
) -> None:
    query = SearchQuery(
        text=text, scope=scope, category=category, year_from=year_from, year_to=year_to
    )
    total, hits = everything(conn, query)
    expected = {
        e.record_id
        for e in entries
        if e.holder.startswith(scope)
        and category in (None, e.category)
        and (year_from is None or e.year >= year_from)
        and (year_to is None or e.year <= year_to)
        and (not text or matches(e, text))
    }
    assert {h.record_id for h in hits} == expected
    assert total == len(expected) == len(hits)


@pytest.mark.parametrize(
    ("year_from", "year_to"), [(1600, 2100), (1981, 2019), (1990, 1990), (2013, 2011)]
)
def test_year_terms_cover_exactly_the_range(year_from: int, year_to: int) -> None:
    from node.storage.fts import year_terms

    covered = set()
    for term in year_terms(year_from, year_to):
        if term.startswith("d"):
            covered |= set(range(int(term[1:]) * 10, int(term[1:]) * 10 + 10))
        else:
            covered.add(int(term[1:]))
    assert covered == set(range(year_from, year_to + 1))
    assert len(year_terms(year_from, year_to)) <= 18 + (year_to - year_from) // 10 + 1


@pytest.mark.asyncio
async def test_search_through_the_store(db: Database) -> None:
    catalogue = CatalogueStore(db)
    await catalogue.apply(
        [make_entry(f"R{i}", "330106001", title=f"王秀英结婚登记{i}") for i in range(30)]
        + [make_entry("X1", "330110", title="李明土地承包合同", category="土地承包", year=1999)]
    )
    page = await catalogue.search(SearchQuery(text="秀英 登记", limit=5))
    assert page.total == 30 and len(page.hits) == 5
    page = await catalogue.search(SearchQuery(text="承包", scope="3301", year_to=2000))
    assert [h.record_id for h in page.hits] == ["X1"]
    with pytest.raises(InvalidQuery):
        await catalogue.search(SearchQuery(text="王" * 300))
    assert await catalogue.count("330106") == 30
    # the category's name finds records whose titles word it differently
    page = await catalogue.search(SearchQuery(text="婚姻登记"))
    assert page.total == 30 and page.hits[0].title.startswith("王秀英结婚登记")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
@settings(max_examples=300, deadline=None)
def test_index_text_is_the_tokens_of_each_run(text: str) -> None:
    from node.storage.fts import run_tokens

    expected = [token for is_ascii, run in runs(text) for token in run_tokens(is_ascii, run)]
    assert index_text([text]) == " ".join(expected)


# -- filters on retention and access, cursors, capped totals, the compact index -------------


def _walk_pages(conn: sqlite3.Connection, query: SearchQuery) -> list[list[CatalogueEntry]]:
    """Every page of ``query``, following next_cursor from the first page."""
    pages: list[list[CatalogueEntry]] = []
    page = search_txn(conn, query)
    while True:
        pages.append(list(page.hits))
        if not page.next_cursor:
            return pages
        page = search_txn(conn, replace(query, cursor=page.next_cursor))


@pytest.mark.parametrize("rank_limit", [search.RANK_LIMIT, 3])
@pytest.mark.parametrize("text", ["王", "婚姻", "王 李", ""])
def test_cursor_pages_cover_every_hit_once_and_go_back(
    corpus, monkeypatch, rank_limit, text
) -> None:  # type: ignore[no-untyped-def]
    conn, _ = corpus
    monkeypatch.setattr(search, "RANK_LIMIT", rank_limit)
    query = SearchQuery(text=text, category=None if text else "学籍", limit=7)
    total, everything_at_once = everything(conn, replace(query, limit=50))
    pages = _walk_pages(conn, query)
    assert [h for page in pages for h in page] == everything_at_once
    assert total > 7 and len(pages) == -(-total // 7)
    # from the last page, prev_cursor walks back through the same pages
    page = search_txn(conn, replace(query, cursor=""))
    cursors = []
    while page.next_cursor:
        cursors.append(page.next_cursor)
        page = search_txn(conn, replace(query, cursor=page.next_cursor))
    back = [list(page.hits)]
    while page.prev_cursor:
        page = search_txn(conn, replace(query, cursor=page.prev_cursor))
        back.append(list(page.hits))
    assert back[::-1] == pages


def test_paging_is_stable_while_entries_arrive() -> None:
    conn = memory_db()
    in_txn(
        conn,
        apply_entries_txn,
        [make_entry(f"A{i:02d}", title=f"王秀英档案{i}") for i in range(25)],
    )
    query = SearchQuery(text="王秀英", limit=10)
    first = search_txn(conn, query)
    # newer matching entries, and a change to one already seen, arrive between pages
    in_txn(
        conn,
        apply_entries_txn,
        [make_entry(f"B{i:02d}", title=f"王秀英新档案{i}") for i in range(30)],
    )
    in_txn(conn, apply_entries_txn, [make_entry("A03", version=2, title="王秀英档案（更正）")])
    second = search_txn(conn, replace(query, cursor=first.next_cursor))
    third = search_txn(conn, replace(query, cursor=second.next_cursor))
    seen = [h.record_id for page in (first, second, third) for h in page.hits]
    assert sorted(seen) == sorted(f"A{i:02d}" for i in range(25))  # each once, none new
    assert second.total == third.total == first.total == 25 and not third.next_cursor
    # a new search sees everything
    assert search_txn(conn, query).total == 55
    conn.close()


def test_a_cursor_of_another_query_is_refused_in_chinese(corpus) -> None:  # type: ignore[no-untyped-def]
    conn, _ = corpus
    page = search_txn(conn, SearchQuery(text="王", limit=5))
    assert page.next_cursor
    for other in [
        SearchQuery(text="李", cursor=page.next_cursor),
        SearchQuery(text="王", category="学籍", cursor=page.next_cursor),
        SearchQuery(text="王", scope="330106", cursor=page.next_cursor),
        SearchQuery(text="王", retention="永久", cursor=page.next_cursor),
    ]:
        with pytest.raises(InvalidQuery, match="另一次检索"):
            search_txn(conn, other)
    # the page size may change between pages
    assert search_txn(conn, SearchQuery(text="王", limit=9, cursor=page.next_cursor)).hits
    with pytest.raises(InvalidQuery, match="不能同时使用"):
        search_txn(conn, SearchQuery(text="王", cursor=page.next_cursor, offset=5))


def _forged(fields: object) -> str:
    raw = json.dumps(fields, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_damaged_cursors_are_refused_in_chinese(corpus) -> None:  # type: ignore[no-untyped-def]
    conn, _ = corpus
    query = SearchQuery(text="王", limit=5)
    fp = search_plan.fingerprint(query)
    good = search_txn(conn, query).next_cursor
    forged = [
        [1],
        {},
        [1, fp, 1, 1, True, "t", "a", 0],  # fields missing
        [1, fp, -1, 1, True, "t", "a", 0, 1],  # negative snapshot
        [1, fp, 1, 1, True, "t", "a", True, 1],  # a bool for a tier
        [1, fp, 1, 1, True, "t", "a", 2, 1],  # no such tier
        [1, fp, 1, 1, True, "r", "a", 5, "h", "r"],  # a positive negated score
        [1, fp, 1, 1, True, "r", "a", "0", "h", "r"],
        [1, fp, 1, 1, True, "r", "x", 0, "h", "r"],  # no such direction
        [1, fp, 1, 1, 1, "r", "a", 0, "h", "r"],  # an int for "exact"
        [1, fp, 2**64, 1, True, "t", "a", 0, 1],
        [2, fp, 1, 1, True, "t", "a", 0, 1],  # another version
        [1, [fp], 1, 1, True, "t", "a", 0, 1],
        [1, fp, 1, 1, True, "r", "a", 0, "h" * 200, "r"],
    ]
    bad = [good[:-3], good + "A", "x", "====", "王", "\x00", "a" * 5000]
    bad += [_forged(fields) for fields in forged]
    bad.append(base64.urlsafe_b64encode(b"[" * 200 + b"]" * 200).decode())
    for cursor in bad:
        with pytest.raises(InvalidQuery, match="游标"):
            search_txn(conn, replace(query, cursor=cursor))
    # well-formed but pointing anywhere: still just a page of this query's hits
    page = search_txn(conn, replace(query, cursor=_forged([1, fp, 10**6, 3, True, "t", "b", 1, 0])))
    assert all(matches(h, "王") for h in page.hits)


@given(
    st.text(max_size=120)
    | st.binary(max_size=90).map(lambda b: base64.urlsafe_b64encode(b).decode())
)
@settings(max_examples=200, deadline=None)
def test_any_cursor_gives_a_page_or_invalid_query(cursor: str) -> None:
    conn = _shared_small_db()
    try:
        page = search_txn(conn, SearchQuery(text="王秀英", limit=3, cursor=cursor))
    except InvalidQuery as exc:
        assert "游标" in str(exc)
        return
    assert len(page.hits) <= 3


@given(
    retention=st.sampled_from([None, "永久", "30年", "10年"]),
    access=st.sampled_from([None, "open", "controlled", "closed"]),
    scope=st.sampled_from(["", "330106", "33011"]),
    text=st.sampled_from(["", "王", "秀英"]),
    rank_limit=st.sampled_from([search.RANK_LIMIT, 3]),
)
@settings(max_examples=80, deadline=None)
def test_retention_and_access_filters_match_brute_force(
    retention_corpus,
    retention,
    access,
    scope,
    text,
    rank_limit,  # type: ignore[no-untyped-def]
) -> None:
    conn, entries = retention_corpus
    query = SearchQuery(text=text, scope=scope, retention=retention, access=access)
    if not text and not (retention or access) and not scope:
        return
    with patch.object(search, "RANK_LIMIT", rank_limit):
        total, hits = everything(conn, query)
    expected = {
        e.record_id
        for e in entries
        if e.holder.startswith(scope)
        and retention in (None, e.retention.value)
        and access in (None, e.access.value)
        and (not text or matches(e, text))
    }
    assert {h.record_id for h in hits} == expected
    assert total == len(expected) == len(hits)


@pytest.fixture(scope="module")
def retention_corpus() -> Iterator[tuple[sqlite3.Connection, list[CatalogueEntry]]]:
    rng = random.Random(11)
    retentions = list(Retention)
    entries = []
    for i in range(150):
        shared = i % 4 != 0
        entries.append(
            make_entry(
                f"R{i}",
                HOLDERS[i % len(HOLDERS)],
                title=chinese_text(rng, 8, 20),
                retention=retentions[i % 3],
                access=Access.OPEN if shared else Access.CONTROLLED,
                subjects=(chinese_text(rng, 2, 3, punctuation=0),) if shared else (),
            )
        )
    conn = memory_db()
    in_txn(conn, apply_entries_txn, entries)
    yield conn, entries
    conn.close()


@pytest.mark.parametrize("value", ["永远", "Y", "open ", "开放", ""])
def test_unknown_retention_or_access_is_refused_in_chinese(value: str) -> None:
    conn = _shared_small_db()
    with pytest.raises(InvalidQuery, match="保管期限未知"):
        search_txn(conn, SearchQuery(text="王", retention=value))
    with pytest.raises(InvalidQuery, match="开放级别未知"):
        search_txn(conn, SearchQuery(text="王", access=value))


def test_totals_past_the_count_limit_say_more_than(corpus, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, entries = corpus
    expected = brute_force(entries, "王")
    monkeypatch.setattr(search, "COUNT_LIMIT", 10)
    monkeypatch.setattr(search, "RANK_LIMIT", 5)
    page = search_txn(conn, SearchQuery(text="王", limit=4))
    assert page.total == 10 and not page.total_exact and len(expected) > 10
    pages = _walk_pages(conn, SearchQuery(text="王", limit=4))
    assert {h.record_id for p in pages for h in p} == expected  # paging still reaches all
    small = search_txn(conn, SearchQuery(text="王", category="学籍", year_from=1990, year_to=1991))
    assert small.total_exact and small.total == len(small.hits)


def test_large_results_put_title_matches_first() -> None:
    conn = memory_db()
    entries = [
        make_entry("C1", title="其他档案", creator="王秀英"),
        make_entry("T1", title="王秀英档案"),
        make_entry("S1", title="其他档案", subjects=("王秀英",)),
        make_entry("T2", title="王秀英结婚登记"),
        make_entry("C2", title="其他", creator="王秀英"),
    ]
    in_txn(conn, apply_entries_txn, entries)
    with patch.object(search, "RANK_LIMIT", 2):  # too many to score: tiers, newest first
        ids = [h.record_id for h in search_txn(conn, SearchQuery(text="王秀英")).hits]
    assert ids == ["T2", "T1", "C2", "S1", "C1"]
    ranked = [h.record_id for h in search_txn(conn, SearchQuery(text="王秀英")).hits]
    assert ranked == ["T1", "T2", "S1", "C1", "C2"]  # score, then holder and record_id
    with patch.object(search, "RANK_LIMIT", 2), patch.object(search, "COUNT_LIMIT", 3):
        page = search_txn(conn, SearchQuery(text="王秀英"))  # past the count: newest first
    assert [h.record_id for h in page.hits] == ["C2", "T2", "S1", "T1", "C1"]
    assert not page.total_exact
    conn.close()


def test_an_index_of_the_previous_format_is_rebuilt_with_the_new_facets() -> None:
    from node.storage.migrations import MIGRATIONS, migrate

    conn = sqlite3.connect(":memory:", isolation_level=None)
    before = [step for step in MIGRATIONS if not step[0].startswith("0005_search")]
    migrate(conn, before)
    in_txn(conn, apply_entries_txn, [make_entry("R1", retention=Retention.YEARS_30)])
    assert "columnsize" not in _fts_sql(conn)
    migrate(conn)
    assert "columnsize=0" in _fts_sql(conn)
    page = search_txn(conn, SearchQuery(text="婚姻", retention="30年"))
    assert [h.record_id for h in page.hits] == ["R1"]
    assert search_txn(conn, SearchQuery(text="婚姻", retention="永久")).total == 0
    conn.close()


def _fts_sql(conn: sqlite3.Connection) -> str:
    sql = "SELECT sql FROM sqlite_master WHERE name = 'catalogue_fts'"
    return str(conn.execute(sql).fetchone()[0])


A_VALUE, B_VALUE, C_VALUE = ("v1:" + c * 22 for c in "abc")


def _index_rows(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT value, record_id FROM subject_index JOIN catalogue c ON c.id = entry_id "
        "ORDER BY value, record_id"
    ).fetchall()


def test_a_search_by_blind_index_finds_the_entries_carrying_a_value() -> None:
    conn = memory_db()
    controlled = {"access": Access.CONTROLLED, "subjects": ()}
    a = make_entry("A", title="婚姻登记档案（1966年，控制使用）",
                   subject_index=(A_VALUE, B_VALUE), **controlled)  # fmt: skip
    b = make_entry("B", title="社保档案（2001年，控制使用）", creator="余杭区社保局",
                   year=2001, subject_index=(B_VALUE,), **controlled)  # fmt: skip
    in_txn(conn, apply_entries_txn, [a, b, make_entry("C", title="王秀英结婚登记")])

    def found(*values: str, text: str = "", **filters: object) -> list[str]:
        query = SearchQuery(text=text, subject_index=values, **filters)  # type: ignore[arg-type]
        return sorted(h.record_id for h in search_txn(conn, query).hits)

    assert found(A_VALUE) == ["A"]
    assert found(B_VALUE) == ["A", "B"]
    assert found(A_VALUE, B_VALUE) == ["A", "B"]  # any of the values (one per key version)
    assert found(C_VALUE) == []
    assert found(B_VALUE, text="社保局") == ["B"]  # with text (a controlled title is not indexed)
    assert found(B_VALUE, year_from=2010) == ["A"]  # with filters
    assert found(B_VALUE, scope="330106") == ["A", "B"]
    # a new version replaces the entry's values; a tombstone has none
    newer = [replace(a, version=2, subject_index=(C_VALUE,)), replace(b, version=2, deleted=True)]
    in_txn(conn, apply_entries_txn, newer)
    assert found(A_VALUE) == [] and found(B_VALUE) == [] and found(C_VALUE) == ["A"]
    assert _index_rows(conn) == [(C_VALUE, "A")]
    conn.close()


def test_a_cursor_of_one_persons_search_is_refused_for_anothers() -> None:
    conn = memory_db()
    in_txn(
        conn, apply_entries_txn, [make_entry(f"R{i}", subject_index=(A_VALUE,)) for i in range(5)]
    )
    page = search_txn(conn, SearchQuery(subject_index=(A_VALUE,), limit=2))
    assert page.total == 5 and page.next_cursor
    with pytest.raises(InvalidQuery, match="另一次检索"):
        search_txn(conn, SearchQuery(subject_index=(B_VALUE,), limit=2, cursor=page.next_cursor))
    conn.close()


@pytest.mark.parametrize(
    "values", [tuple(f"v1:{i}" for i in range(9)), ("",), ("x" * 129,), ["v1:a"]]
)
def test_unusable_index_values_are_refused(values: object) -> None:
    conn = memory_db()
    with pytest.raises(InvalidQuery, match="身份索引"):
        search_txn(conn, SearchQuery(subject_index=values))  # type: ignore[arg-type]
    conn.close()
