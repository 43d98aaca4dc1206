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

This module runs the SQL and pages; ``search_plan.py`` checks the query and plans it (the
FTS5 expressions, the blind-index lookup) and holds the cursor.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from node.errors import InvalidQuery
from node.records import MAX_PAGE, SearchPage, SearchQuery
from node.storage import fts
from node.storage.entries import SELECT_ENTRY, entry_from_row
from node.storage.search_plan import (
    AFTER,
    BEFORE,
    RANKED,
    START,
    TIERED,
    Cursor,
    Plan,
    SortKey,
    checked_int,
    fingerprint,
    plan_query,
    scope_range,
)

RANK_LIMIT = 200
COUNT_LIMIT = 1000
MAX_OFFSET = 100_000
_ID_CHUNK = 500  # rowids per IN (...) when reading the rows to rank
_TABLE = fts.FTS_TABLE


def search_txn(conn: sqlite3.Connection, query: SearchQuery) -> SearchPage:
    """One page of live entries matching ``query``; ``InvalidQuery`` if it is unusable."""
    limit = checked_int(query.limit, "每页条数", 1, MAX_PAGE)
    offset = checked_int(query.offset, "偏移量", 0, MAX_OFFSET)
    plan = plan_query(conn, query)
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
        cursor = Cursor(fp, snapshot, total, exact, mode, AFTER, START[mode])
    if cursor.total == 0:
        return SearchPage(total=0, hits=())
    if cursor.mode == RANKED:
        if ids is None:  # a later page: the same matches (up to the snapshot) again
            ids = _ids(conn, plan, cursor.snapshot, RANK_LIMIT + 1)
        ordered = _ranked(conn, plan, ids[:RANK_LIMIT])
        keys = [key for key, _ in ordered]
        if cursor.direction == AFTER:
            start = offset if cursor.key == START[RANKED] else bisect_right(keys, cursor.key)
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
        has_before = offset > 0 or cursor.key != START[TIERED]
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
    plan: Plan, tier: str | None, join: bool = False
) -> tuple[str, list[str], list[object], str]:
    """FROM, WHERE conditions, their parameters and the rowid column for one tier; the
    catalogue table is joined (as ``c``) if the conditions or ``join`` need it."""
    if tier is None:
        return "catalogue c", ["c.deleted = 0", *plan.where], list(plan.params), "c.id"
    # Tombstones are not in the index, so every FTS match is a live entry.
    joined = f"{_TABLE} JOIN catalogue c ON c.id = {_TABLE}.rowid"
    source = joined if join or plan.where else _TABLE
    return source, [f"{_TABLE} MATCH ?", *plan.where], [tier, *plan.params], f"{_TABLE}.rowid"


def _ids(conn: sqlite3.Connection, plan: Plan, snapshot: int, cap: int) -> list[int]:
    """Rowids of the first ``cap`` matches (with the table conditions) up to ``snapshot``."""
    source, where, params, rowid = _source(plan, plan.match or None)
    sql = f"SELECT {rowid} FROM {source} WHERE {' AND '.join(where)} AND {rowid} <= ? LIMIT ?"
    return [row[0] for row in conn.execute(sql, [*params, snapshot, cap])]


def _ranked(conn: sqlite3.Connection, plan: Plan, ids: list[int]) -> list[tuple[SortKey, int]]:
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
    plan: Plan,
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
