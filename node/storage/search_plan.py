"""Catalogue search, the part that runs no ranking: a query checked and turned into a plan
(FTS5 expressions over the text and the facet tokens, conditions on the catalogue table,
the blind-index lookup of an identity search), its fingerprint, and the opaque cursor.

Split from ``search.py``, which runs the plan's SQL and pages it; see its docstring for the
ordering and paging rules the cursor serves.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from node.errors import InvalidQuery
from node.identity import CODE_LENGTHS
from node.lookup import by_archival_code
from node.records import (
    CATEGORIES,
    MAX_INDEX_CHARS,
    MAX_QUERY_INDEX,
    MAX_YEAR,
    MIN_YEAR,
    Access,
    Retention,
    SearchQuery,
)
from node.storage import fts

MAX_CURSOR_CHARS = 600
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


def checked_int(value: object, name: str, low: int, high: int) -> int:
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
class Plan:
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


def plan_query(conn: sqlite3.Connection, query: SearchQuery) -> Plan:
    forms: tuple[str, ...] = ()
    excluded = False
    if query.archival_code:
        query, forms, excluded = by_archival_code(query)
    parsed = fts.parse_text(query.text)
    plan = Plan(text=parsed.match, title=parsed.title_match, score=parsed.scorer())
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
            year_from, checked_int(query.year_from, "起始年度", -_YEAR_BOUND, _YEAR_BOUND)
        )
    if query.year_to is not None:
        year_to = min(year_to, checked_int(query.year_to, "截止年度", -_YEAR_BOUND, _YEAR_BOUND))
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


def _by_subject(plan: Plan, values: list[str]) -> None:
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
START: dict[str, SortKey] = {RANKED: (-_MAX_INT, "", ""), TIERED: (0, _MAX_INT)}


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
