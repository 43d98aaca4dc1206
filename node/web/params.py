"""Reading search parameters from a query string into a ``SearchQuery``.

Shared by the JSON API and the service-point page so both accept and refuse the same input.
Bad values raise ``InvalidQuery`` (-> 400) with a zh-CN message naming the field.
Query text goes to ``SearchQuery`` as typed (storage escapes it), unless it is a 档号, which
goes to ``SearchQuery.archival_code`` (``node.lookup``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from node.errors import InvalidCode, InvalidQuery
from node.identity import validate_code
from node.lookup import archival_code_query
from node.records import (
    CATEGORIES,
    MAX_PAGE,
    MAX_YEAR,
    MIN_YEAR,
    Access,
    Retention,
    SearchQuery,
)

DEFAULT_LIMIT = 20
_INTEGER = re.compile(r"[+-]?[0-9]{1,9}")


def integer(params: Mapping[str, str], name: str, label: str) -> int | None:
    """The ASCII integer in ``params[name]``, ``None`` if absent or blank."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not _INTEGER.fullmatch(raw):
        raise InvalidQuery(f"{label}应为整数，收到 {raw!r}。请改为数字后重试。")
    return int(raw)


# What clerks and scripts may write for a retention period / an access level.
RETENTIONS = {
    **{r.value: r.value for r in Retention},
    **{r.code: r.value for r in Retention},
    **{r.code.lower(): r.value for r in Retention},
}
ACCESS_LEVELS = {
    **{a.value: a.value for a in (Access.OPEN, Access.CONTROLLED)},
    **{a.zh: a.value for a in (Access.OPEN, Access.CONTROLLED)},
}


def choice(
    params: Mapping[str, str], name: str, label: str, options: Mapping[str, str]
) -> str | None:
    """``options[params[name]]``; ``None`` if absent or blank, ``InvalidQuery`` if unknown."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if raw not in options:
        allowed = "、".join(dict.fromkeys(options))
        raise InvalidQuery(f"{label}未知：{raw!r}。可选：{allowed}。")
    return options[raw]


def filters(params: Mapping[str, str]) -> SearchQuery:
    """Text, scope and filters from ``params``, with the default page."""
    scope = params.get("scope", "").strip()
    if scope:
        try:
            validate_code(scope)
        except InvalidCode as exc:
            raise InvalidQuery(f"检索范围应为区划代码（如 33 或 3301）：{exc}") from exc
    category = params.get("category", "").strip() or None
    if category is not None and category not in CATEGORIES:
        raise InvalidQuery(f"门类未知：{category!r}。可选：{'、'.join(CATEGORIES)}。")
    year_from = integer(params, "year_from", "起始年度")
    year_to = integer(params, "year_to", "终止年度")
    for label, year in (("起始年度", year_from), ("终止年度", year_to)):
        if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
            raise InvalidQuery(f"{label}应在 {MIN_YEAR} 到 {MAX_YEAR} 之间，收到 {year}。")
    if year_from is not None and year_to is not None and year_from > year_to:
        raise InvalidQuery(f"起始年度 {year_from} 晚于终止年度 {year_to}。请调换后重试。")
    text = params.get("q", "")
    code = archival_code_query(text)  # a 档号 typed in the query box finds that record
    return SearchQuery(
        text="" if code else text,
        scope=scope,
        category=category,
        year_from=year_from,
        year_to=year_to,
        limit=DEFAULT_LIMIT,
        retention=choice(params, "retention", "保管期限", RETENTIONS),
        access=choice(params, "access", "开放状态", ACCESS_LEVELS),
        cursor=params.get("cursor", "").strip(),
        archival_code=code or "",
    )


def search_query(params: Mapping[str, str]) -> SearchQuery:
    """A full query for the API: filters, ``cursor``, ``limit`` (1..MAX_PAGE), ``offset``."""
    query = filters(params)
    limit = integer(params, "limit", "每页条数")
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise InvalidQuery(f"每页条数应在 1 到 {MAX_PAGE} 之间，收到 {limit}。")
    offset = integer(params, "offset", "偏移量")
    if offset is not None and offset < 0:
        raise InvalidQuery(f"偏移量不能为负数，收到 {offset}。")
    return replace(query, limit=DEFAULT_LIMIT if limit is None else limit, offset=offset or 0)
