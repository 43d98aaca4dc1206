"""Catalogue search: free text through the bigram FTS index, filters as facet tokens, ranking,
totals and paging with an opaque cursor.

Filters (scope, category, years, retention, access level) are facet tokens in the same FTS
index as the text (``fts.py``), so a filtered search is one intersection inside the index and
is counted there, never by looking up every matching row in the catalogue table.

Ordering, by how many entries match (filters included):

- ``RANK_LIMIT`` (200) or fewer: by relevance, a score summed over the query's words: 3 if
  the word is in the title, 2 in a subject's name, 1 in the creator, 1 in the category's
  name (``fts.ParsedText.scorer``, computed from the candidates' own text); ties by (holder,
  record_id). The score depends only on the entry itself, never on the rest of the catalogue
  (bm25 does: its weights move whenever any entry arrives), so a page boundary stays where it
  was while a clerk pages, and the order is the same on every node.
- up to ``COUNT_LIMIT`` (1,000): two tiers, entries with every word in the title first,
  then the rest, each newest first (by rowid, which FTS5 reads in order without sorting).
- more: newest first. Scoring 100,000 matches costs more than it is worth, and so does
  looking for a sparse title tier among them: a clerk refines the query instead.
- no text (filters only): newest first.

Totals are exact up to ``COUNT_LIMIT``; past it the page says "more than" (``total_exact``
false), as web search engines do: counting every match of a common two-character term among
10M entries costs more than the page itself.

Paging: a page returns cursors for the next and previous pages. A cursor holds the query's
fingerprint (a cursor of another query is refused), the catalogue's highest rowid when the
first page was made (entries added later do not shift the pages), the total, and the sort key
of the boundary entry (keyset paging: no OFFSET scan). ``offset`` still works for old callers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from node.errors import InvalidQuery
from node.identity import CODE_LENGTHS
from node.lookup import by_archival_code
from node.records import (
    CATEGORIES,
    MAX_INDEX_CHARS,
    MAX_PAGE,
    MAX_QUERY_INDEX,
    MAX_YEAR,
    MIN_YEAR,
    Access,
    Retention,
    SearchPage,
    SearchQuery,
)
from node.storage import fts
from node.storage.entries import SELECT_ENTRY, entry_from_row

RANK_LIMIT = 200
COUNT_LIMIT = 1000
MAX_OFFSET = 100_000
MAX_CURSOR_CHARS = 600
_ID_CHUNK = 500  # rowids per IN (...) when reading the rows to rank
_YEAR_BOUND = 100_000
_MAX_INT = 2**63 - 1
_TABLE = fts.FTS_TABLE
_BAD_CURSOR = "翻页游标无效或已损坏：请不带游标重新检索，从第一页开始。"
_OTHER_QUERY = "翻页游标属于另一次检索（检索词或筛选条件不同）：请不带游标重新检索，从第一页开始。"


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


def fingerprint(query: SearchQuery) -> str:
    """What a cursor is bound to: the text and every filter (not the page size)."""
    fields = [
        query.text,
        query.scope,
        query.category,
        query.year_from,
        query.year_to,
        query.retention,
        query.access,
        *query.subject_index,
    ]
    if query.archival_code:  # only when set: the cursors of other queries stay as they were
        fields.append(query.archival_code)
    canonical = json.dumps(fields, ensure_ascii=True, default=repr)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# -- the plan ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    """A search as FTS5 expressions and conditions on the catalogue table (alias ``c``)."""

    text: str = ""  # FTS5 expression of the free text, over the text columns
    title: str = ""  # every word in the title: the first tier of a large result
    facets: str = ""  # FTS5 expression of the filters, over the facets column
    score: Callable[[str, str, str, str, str], int] | None = None  # relevance
    where: list[str] = field(default_factory=list)  # conditions the index cannot answer
    params: list[object] = field(default_factory=list)
    empty: bool = False  # the filters exclude everything

    @property
    def match(self) -> str:
        return " AND ".join(f"({e})" for e in (self.text, self.facets) if e)

    def tiers(self) -> list[str | None]:
        """FTS expressions whose matches, in this order, are all the results (None: no
        index, the catalogue table)."""
        if self.text:
            return [f"({self.title}) AND ({self.facets})" if self.facets else self.title,
                    f"({self.match}) NOT ({self.title})"]  # fmt: skip
        return [self.facets or None]


def _plan(conn: sqlite3.Connection, query: SearchQuery) -> _Plan:
    forms: tuple[str, ...] = ()
    excluded = False
    if query.archival_code:
        query, forms, excluded = by_archival_code(query)
    parsed = fts.parse_text(query.text)
    plan = _Plan(text=parsed.match, title=parsed.title_match, score=parsed.scorer())
    if excluded:
        plan.empty = True
    if forms:
        plan.where.append(f"c.archival_code IN ({', '.join('?' for _ in forms)})")
        plan.params.extend(forms)
    facets: list[str] = []
    bounds = scope_range(query.scope)
    if bounds is not None and not _covers_everything(conn, bounds):
        if len(query.scope) in CODE_LENGTHS:
            facets.append(f'"{fts.scope_token(query.scope)}"')
        else:  # a prefix that is not a whole division code: an index range
            plan.where.append("c.holder >= ? AND c.holder < ?")
            plan.params.extend(bounds)
    category = ""  # the category's facet token, which prefixes the year tokens if any
    if query.category is not None:
        if query.category not in CATEGORIES:
            raise InvalidQuery(f"门类未知: {query.category!r}（可选: {'、'.join(CATEGORIES)}）")
        category = fts.category_token(query.category)
    if query.retention is not None:
        if query.retention not in {r.value for r in Retention}:
            options = "、".join(r.value for r in Retention)
            raise InvalidQuery(f"保管期限未知: {query.retention!r}（可选: {options}）")
        facets.append(f'"{fts.retention_token(query.retention)}"')
    if query.access is not None:
        if query.access not in {a.value for a in Access}:
            options = "、".join(f"{a.value}（{a.zh}）" for a in Access)
            raise InvalidQuery(f"开放级别未知: {query.access!r}（可选: {options}）")
        if query.access == Access.CLOSED:
            plan.empty = True  # closed records never enter a catalogue
        facets.append(f'"{fts.access_token(query.access)}"')
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
        terms = fts.year_terms(year_from, year_to)  # with the category: the pair's tokens
        facets.append("(" + " OR ".join(f'"{category}{t}"' for t in terms) + ")")
    elif category:
        facets.append(f'"{category}"')
    if facets:
        plan.facets = "facets : (" + " AND ".join(facets) + ")"
    for word in parsed.like_words:
        clause, like_params = fts.like_clause(word)
        plan.where.append(clause)
        plan.params.extend(like_params)
    if query.subject_index:
        _by_subject(plan, _index_values(query.subject_index))
    return plan


def _by_subject(plan: _Plan, values: list[str]) -> None:
    """Drive the search from the blind index: the entries carrying one of ``values`` (a
    person's few records, looked up in ``subject_index``), each then checked against the
    text and filters by a seek in the full-text index for that one row. Driven from the
    full-text index instead, a common word or a category made SQLite test every match of
    it against the blind index: 100 ms at 100,000 entries (bench/bench_blind_index.py).
    The few hits come newest first."""
    conditions = [
        "c.id IN (SELECT entry_id FROM subject_index WHERE value IN "
        f"({', '.join('?' for _ in values)}))"
    ]
    params: list[object] = list(values)
    if plan.match:
        conditions.append(
            f"EXISTS (SELECT 1 FROM {_TABLE} WHERE {_TABLE} MATCH ? AND {_TABLE}.rowid = c.id)"
        )
        params.append(plan.match)
    plan.where[:0] = conditions
    plan.params[:0] = params
    plan.text = plan.title = plan.facets = ""


def _index_values(values: object) -> list[str]:
    if not isinstance(values, tuple) or len(values) > MAX_QUERY_INDEX:
        raise InvalidQuery(f"身份索引检索值应为列表，最多 {MAX_QUERY_INDEX} 个")
    for value in values:
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_INDEX_CHARS:
            raise InvalidQuery(f"身份索引检索值应为 1 到 {MAX_INDEX_CHARS} 个字符的文本")
    return list(dict.fromkeys(values))


# -- cursors ----------------------------------------------------------------------------------

RANKED, TIERED = "r", "t"
AFTER, BEFORE = "a", "b"
SortKey = tuple[int, str, str] | tuple[int, int]  # ranked: (-score, holder, record_id)
_START: dict[str, SortKey] = {RANKED: (-_MAX_INT, "", ""), TIERED: (0, _MAX_INT)}


@dataclass(frozen=True)
class Cursor:
    """Where the next (or previous) page starts; opaque to callers."""

    query: str  # fingerprint()
    snapshot: int  # the highest rowid when the first page was made
    total: int
    exact: bool
    mode: str  # RANKED or TIERED
    direction: str  # AFTER the key, or BEFORE it
    key: SortKey  # RANKED: (-score, holder, record_id); TIERED: (tier, rowid)

    def encode(self) -> str:
        body = [1, self.query, self.snapshot, self.total, self.exact, self.mode, self.direction]
        raw = json.dumps([*body, *self.key], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, query: str) -> Cursor:
        """The cursor in ``text``; ``InvalidQuery`` if it is damaged or of another query."""
        if not isinstance(text, str) or len(text) > MAX_CURSOR_CHARS or not text.isascii():
            raise InvalidQuery(_BAD_CURSOR)
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            fields = json.loads(raw.decode())
        except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidQuery(_BAD_CURSOR) from None
        if not isinstance(fields, list) or len(fields) < 7 or fields[0] != 1:
            raise InvalidQuery(_BAD_CURSOR)
        _, fp, snapshot, total, exact, mode, direction, *key = fields
        if not isinstance(fp, str) or len(fp) != len(query):
            raise InvalidQuery(_BAD_CURSOR)
        if fp != query:
            raise InvalidQuery(_OTHER_QUERY)
        numbers_ok = all(_is_count(n) for n in (snapshot, total))
        if not (numbers_ok and isinstance(exact, bool) and direction in (AFTER, BEFORE)):
            raise InvalidQuery(_BAD_CURSOR)
        names_ok = all(isinstance(part, str) and len(part) <= 100 for part in key[1:])
        if mode == RANKED and len(key) == 3 and _is_count(key[0], sign=-1) and names_ok:
            return cls(fp, snapshot, total, exact, mode, direction, (key[0], key[1], key[2]))
        tier_ok = len(key) == 2 and _is_count(key[0]) and key[0] <= 1
        if mode == TIERED and tier_ok and _is_count(key[1]):
            return cls(fp, snapshot, total, exact, mode, direction, (key[0], key[1]))
        raise InvalidQuery(_BAD_CURSOR)


def _is_count(value: object, sign: int = 1) -> bool:
    """An int (not a bool) in 0.._MAX_INT, or in -_MAX_INT..0 for ``sign=-1``."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= sign * value <= _MAX_INT


# -- searching --------------------------------------------------------------------------------


def search_txn(conn: sqlite3.Connection, query: SearchQuery) -> SearchPage:
    """One page of live entries matching ``query``; ``InvalidQuery`` if it is unusable."""
    limit = _checked_int(query.limit, "每页条数", 1, MAX_PAGE)
    offset = _checked_int(query.offset, "偏移量", 0, MAX_OFFSET)
    plan = _plan(conn, query)
    fp = fingerprint(query)
    cursor = Cursor.decode(query.cursor, fp) if query.cursor else None
    if cursor is not None and offset:
        raise InvalidQuery("翻页游标与偏移量不能同时使用：请只用游标翻页。")
    if plan.empty:
        return SearchPage(total=0, hits=())
    ids: list[int] | None = None
    if cursor is None:
        snapshot = int(conn.execute("SELECT coalesce(max(id), 0) FROM catalogue").fetchone()[0])
        # One pass over the index counts the matches (to COUNT_LIMIT) and lists the few
        # that are ranked.
        ids = _ids(conn, plan, snapshot, COUNT_LIMIT + 1)
        total = len(ids)
        exact = total <= COUNT_LIMIT
        total = min(total, COUNT_LIMIT)
        mode = RANKED if plan.text and exact and total <= RANK_LIMIT else TIERED
        cursor = Cursor(fp, snapshot, total, exact, mode, AFTER, _START[mode])
    if cursor.total == 0:
        return SearchPage(total=0, hits=())
    if cursor.mode == RANKED:
        if ids is None:  # a later page: the same matches (up to the snapshot) again
            ids = _ids(conn, plan, cursor.snapshot, RANK_LIMIT + 1)
        ordered = _ranked(conn, plan, ids[:RANK_LIMIT])
        keys = [key for key, _ in ordered]
        if cursor.direction == AFTER:
            start = offset if cursor.key == _START[RANKED] else bisect_right(keys, cursor.key)
            chosen = ordered[start : start + limit]
            has_before, has_after = start > 0, start + limit < len(ordered)
        else:
            end = bisect_left(keys, cursor.key)
            start = max(0, end - limit)
            chosen = ordered[start:end]
            has_before, has_after = start > 0, end < len(ordered)
        rows = _rows_by_id(conn, [rowid for _, rowid in chosen])
        return _page(cursor, [key for key, _ in chosen], rows, has_before, has_after)
    # Past COUNT_LIMIT, newest first: the title tier could be sparse in a huge result, and
    # finding its first page would then read the whole intersection.
    tiers = plan.tiers() if cursor.exact else [plan.match or None]
    if cursor.direction == AFTER:
        found = list(_walk(conn, plan, tiers, cursor, limit + 1, offset))
        has_before = offset > 0 or cursor.key != _START[TIERED]
        has_after = len(found) > limit
        found = found[:limit]
    else:
        found = list(_walk(conn, plan, tiers, cursor, limit + 1, 0))[::-1]
        has_before, has_after = len(found) > limit, True
        found = found[-limit:]
    return _page(cursor, [key for key, _ in found], [row for _, row in found],
                 has_before, has_after)  # fmt: skip


def _page(
    cursor: Cursor,
    keys: list[SortKey],
    rows: list[tuple[object, ...]],
    has_before: bool,
    has_after: bool,
) -> SearchPage:
    def at(key: SortKey, direction: str) -> str:
        return Cursor(cursor.query, cursor.snapshot, cursor.total, cursor.exact, cursor.mode,
                      direction, key).encode()  # fmt: skip

    return SearchPage(
        total=cursor.total,
        total_exact=cursor.exact,
        hits=tuple(entry_from_row(row) for row in rows),
        next_cursor=at(keys[-1], AFTER) if keys and has_after else "",
        prev_cursor=at(keys[0], BEFORE) if keys and has_before else "",
    )


def _source(
    plan: _Plan, tier: str | None, join: bool = False
) -> tuple[str, list[str], list[object], str]:
    """FROM, WHERE conditions, their parameters and the rowid column for one tier; the
    catalogue table is joined (as ``c``) if the conditions or ``join`` need it."""
    if tier is None:
        return "catalogue c", ["c.deleted = 0", *plan.where], list(plan.params), "c.id"
    # Tombstones are not in the index, so every FTS match is a live entry.
    joined = f"{_TABLE} JOIN catalogue c ON c.id = {_TABLE}.rowid"
    source = joined if join or plan.where else _TABLE
    return source, [f"{_TABLE} MATCH ?", *plan.where], [tier, *plan.params], f"{_TABLE}.rowid"


def _ids(conn: sqlite3.Connection, plan: _Plan, snapshot: int, cap: int) -> list[int]:
    """Rowids of the first ``cap`` matches (with the table conditions) up to ``snapshot``."""
    source, where, params, rowid = _source(plan, plan.match or None)
    sql = f"SELECT {rowid} FROM {source} WHERE {' AND '.join(where)} AND {rowid} <= ? LIMIT ?"
    return [row[0] for row in conn.execute(sql, [*params, snapshot, cap])]


def _ranked(conn: sqlite3.Connection, plan: _Plan, ids: list[int]) -> list[tuple[SortKey, int]]:
    """The matches ``ids`` (at most RANK_LIMIT) as ((-score, holder, record_id), rowid), sorted.

    Scored in Python from the entries' own text: one read of at most RANK_LIMIT rows, where
    asking the index which column matched took one intersection per word and column.
    """
    assert plan.score is not None
    ordered: list[tuple[SortKey, int]] = []
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        rows = conn.execute(
            "SELECT c.id, c.holder, c.record_id, c.title, c.creator, c.subjects, c.category, "
            f"c.access FROM catalogue c WHERE c.id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        )
        for rowid, holder, record_id, title, creator, subjects, category, access in rows:
            score = plan.score(title, creator, subjects, category, access)
            ordered.append(((-score, holder, record_id), rowid))
    ordered.sort()
    return ordered


def _rows_by_id(conn: sqlite3.Connection, ids: list[int]) -> list[tuple[object, ...]]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(
        f"SELECT c.id, {SELECT_ENTRY} FROM catalogue c WHERE c.id IN ({marks})", ids
    ).fetchall()
    by_id = {row[0]: row[1:] for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def _walk(
    conn: sqlite3.Connection,
    plan: _Plan,
    tiers: list[str | None],
    cursor: Cursor,
    want: int,
    skip: int,
) -> Iterator[tuple[SortKey, tuple[object, ...]]]:
    """Up to ``want`` (key, row) pairs from the cursor on, in its direction, after ``skip``.

    Forward is tier by tier, newest first within a tier; backward is the exact reverse.
    """
    tier_at, rowid_at = cursor.key  # type: ignore[misc]
    forward = cursor.direction == AFTER
    order = range(tier_at, len(tiers)) if forward else range(tier_at, -1, -1)
    for tier in order:
        if want <= 0:
            return
        source, where, params, rowid = _source(plan, tiers[tier], join=True)
        where = [*where, f"{rowid} <= ?"]
        params = [*params, cursor.snapshot]
        if tier == tier_at:
            where.append(f"{rowid} < ?" if forward else f"{rowid} > ?")
            params.append(rowid_at)
        if skip:  # an old caller's offset: skip whole tiers, then within one
            sql = (
                f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {' AND '.join(where)} LIMIT ?)"
            )
            in_tier = int(conn.execute(sql, [*params, skip]).fetchone()[0])
            if in_tier < skip:
                skip -= in_tier
                continue
        rows = conn.execute(
            f"SELECT {rowid}, {SELECT_ENTRY} FROM {source} WHERE {' AND '.join(where)} "
            f"ORDER BY {rowid} {'DESC' if forward else 'ASC'} LIMIT ? OFFSET ?",
            [*params, want, skip],
        ).fetchall()
        skip = 0
        for row in rows:
            yield (tier, row[0]), row[1:]
        want -= len(rows)


def count_txn(conn: sqlite3.Connection, scope: str = "") -> int:
    """Live entries held under ``scope`` (from the partial index of live entries)."""
    bounds = scope_range(scope)
    sql = "SELECT count(*) FROM catalogue c WHERE c.deleted = 0"
    if bounds is None:
        return int(conn.execute(sql).fetchone()[0])
    return int(conn.execute(sql + " AND c.holder >= ? AND c.holder < ?", bounds).fetchone()[0])
