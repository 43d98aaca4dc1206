"""Catalogue search: free text through the bigram FTS index, plus scope/category/year filters.

Filters are facet tokens in the same FTS index (the holder's code and its ancestors', the
category, the year and decade), so a filtered search is an intersection inside the index
and the total is counted there, never by looking up every matching row in the catalogue
table: at 1M entries that lookup cost 60-80 ms for a common term, the intersection
10-20 ms. A scope that covers every holder in the catalogue (the usual case: a node
answering for its own subtree) is dropped after two index probes.

Ordering: when the free text matches few entries (``RANK_LIMIT`` or fewer, filters aside)
they are ranked by bm25 (title weighs most, then subject names, then creator) with (holder,
record_id) as the tie-break; the filters are then applied to those few rows as table
conditions, because bm25 would otherwise weigh every facet term over its whole doclist.
When the text matches more, ranking every match costs more than it is worth (a clerk
refines the query rather than paging through thousands), so pages come newest first in
rowid order, which FTS5 reads without sorting. Searches without text are also listed
newest first. ``bench/bench_search.py`` measures these choices.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from node.errors import InvalidQuery
from node.identity import CODE_LENGTHS
from node.records import CATEGORIES, MAX_PAGE, MAX_YEAR, MIN_YEAR, SearchPage, SearchQuery
from node.storage import fts
from node.storage.entries import SELECT_ENTRY, entry_from_row

RANK_LIMIT = 2000
MAX_OFFSET = 100_000
_YEAR_BOUND = 100_000


def scope_range(scope: str) -> tuple[str, str] | None:
    """Bounds for ``holder >= lo AND holder < hi`` (an index range), None for everything.

    Division codes are digits, and ``~`` sorts after every digit.
    """
    if not isinstance(scope, str) or (scope and not (scope.isascii() and scope.isdigit())):
        raise InvalidQuery(f"检索范围应为区划代码（数字）: {scope!r}")
    if len(scope) > 12:
        raise InvalidQuery(f"检索范围过长: {scope!r}")
    return (scope, scope + "~") if scope else None


def _checked_int(value: object, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidQuery(f"{name} 应为 {low} 到 {high} 之间的整数: {value!r}")
    return value


def _covers_everything(conn: sqlite3.Connection, bounds: tuple[str, str]) -> bool:
    # Searches nearly always name a scope (the service defaults it to the province) that
    # covers the whole catalogue; two index probes spare filtering on it.
    lo, hi = conn.execute(
        "SELECT (SELECT min(holder) FROM catalogue), (SELECT max(holder) FROM catalogue)"
    ).fetchone()
    return lo is None or (lo >= bounds[0] and hi < bounds[1])


@dataclass
class _Plan:
    """A search as FTS5 expressions and as conditions on the catalogue table (alias ``c``)."""

    text: str = ""  # FTS5 expression of the free text, over the text columns
    facets: str = ""  # FTS5 expression of the filters, over the facets column
    filters: list[str] = field(default_factory=list)  # the same filters as SQL conditions
    filter_params: list[object] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # conditions the index cannot answer
    params: list[object] = field(default_factory=list)
    empty: bool = False  # the filters exclude everything

    def filter(self, sql: str, *params: object) -> None:
        self.filters.append(sql)
        self.filter_params.extend(params)


def _plan(conn: sqlite3.Connection, query: SearchQuery) -> _Plan:
    parsed = fts.parse_text(query.text)
    plan = _Plan(text=parsed.match)
    facets: list[str] = []
    bounds = scope_range(query.scope)
    if bounds is not None and not _covers_everything(conn, bounds):
        if len(query.scope) in CODE_LENGTHS:
            facets.append(f'"{fts.scope_token(query.scope)}"')
            plan.filter("c.holder >= ? AND c.holder < ?", *bounds)
        else:  # a prefix that is not a whole division code: an index range
            plan.where.append("c.holder >= ? AND c.holder < ?")
            plan.params.extend(bounds)
    if query.category is not None:
        if query.category not in CATEGORIES:
            raise InvalidQuery(f"门类未知: {query.category!r}（可选: {'、'.join(CATEGORIES)}）")
        facets.append(f'"{fts.category_token(query.category)}"')
        plan.filter("c.category = ?", query.category)
    year_from, year_to = MIN_YEAR, MAX_YEAR  # every stored entry lies within these
    if query.year_from is not None:
        year_from = max(
            year_from, _checked_int(query.year_from, "起始年度", -_YEAR_BOUND, _YEAR_BOUND)
        )
    if query.year_to is not None:
        year_to = min(year_to, _checked_int(query.year_to, "截止年度", -_YEAR_BOUND, _YEAR_BOUND))
    if year_from > year_to:
        plan.empty = True
    elif (year_from, year_to) != (MIN_YEAR, MAX_YEAR):
        facets.append("(" + " OR ".join(f'"{t}"' for t in fts.year_terms(year_from, year_to)) + ")")
        plan.filter("c.year BETWEEN ? AND ?", year_from, year_to)
    if facets:
        plan.facets = "facets : (" + " AND ".join(facets) + ")"
    for word in parsed.like_words:
        clause, like_params = fts.like_clause(word)
        plan.where.append(clause)
        plan.params.extend(like_params)
    return plan


def search_txn(conn: sqlite3.Connection, query: SearchQuery) -> SearchPage:
    """One page of live entries matching ``query``; ``InvalidQuery`` if it is unusable."""
    limit = _checked_int(query.limit, "每页条数", 1, MAX_PAGE)
    offset = _checked_int(query.offset, "偏移量", 0, MAX_OFFSET)
    plan = _plan(conn, query)
    if plan.empty:
        return SearchPage(total=0, hits=())
    table = fts.FTS_TABLE
    joined = f"{table} JOIN catalogue c ON c.id = {table}.rowid"
    if plan.text or plan.facets:
        # Tombstones are not in the index, so every FTS match is a live entry.
        match = " AND ".join(e for e in (plan.text, plan.facets) if e)
        where = [f"{table} MATCH ?", *plan.where]
        params: list[object] = [match, *plan.params]
        # Without table conditions the index counts alone, never reading the table.
        total = _count(conn, joined if plan.where else table, where, params)
        source, order = joined, f"{table}.rowid DESC"
        if plan.text and total and offset < total:
            # bm25 would compute the weight of every facet term over its whole doclist
            # (20 ms for a county at 1M entries), so rank on the text alone and apply the
            # filters to its matches as table conditions, when those are few enough.
            text_total = (
                total if not plan.facets else _count(conn, table, [f"{table} MATCH ?"], [plan.text])
            )
            if text_total <= RANK_LIMIT:
                weights = ", ".join(str(w) for w in fts.BM25_WEIGHTS)
                order = f"bm25({table}, {weights}), c.holder, c.record_id"
                where = [f"{table} MATCH ?", *plan.filters, *plan.where]
                params = [plan.text, *plan.filter_params, *plan.params]
    else:
        source, order = "catalogue c", "c.id DESC"
        where = ["c.deleted = 0", *plan.where]
        params = plan.params
        total = _count(conn, source, where, params)
    if offset >= total:
        return SearchPage(total=total, hits=())
    rows = conn.execute(
        f"SELECT {SELECT_ENTRY} FROM {source} WHERE {' AND '.join(where)} "
        f"ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return SearchPage(total=total, hits=tuple(entry_from_row(row) for row in rows))


def _count(conn: sqlite3.Connection, source: str, where: list[str], params: list[object]) -> int:
    sql = f"SELECT count(*) FROM {source} WHERE {' AND '.join(where)}"
    return int(conn.execute(sql, params).fetchone()[0])


def count_txn(conn: sqlite3.Connection, scope: str = "") -> int:
    """Live entries held under ``scope`` (from the partial index of live entries)."""
    bounds = scope_range(scope)
    sql = "SELECT count(*) FROM catalogue c WHERE c.deleted = 0"
    if bounds is None:
        return int(conn.execute(sql).fetchone()[0])
    return int(conn.execute(sql + " AND c.holder >= ? AND c.holder < ?", bounds).fetchone()[0])
