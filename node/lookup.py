"""Finding a record by its 档号 (archival code): recognised in a query box, looked up by facets.

A clerk often has the 档号 from a receipt or an old letter and types it where names go. No
catalogue indexes the code as text, so the query carries it in its own field
(``SearchQuery.archival_code``, on the wire too: the node that answers a search is often
another one). A 档号 names its category, year and retention, the facets every catalogue
indexes; the answering node narrows by them inside the index and compares only the few
entries left with the ways the code may have been written at ingest.
"""

from __future__ import annotations

from dataclasses import replace

from node.errors import InvalidQuery, InvalidRecord
from node.records import CATEGORY_BY_CODE, SearchQuery, parse_archival_code


def archival_code_query(text: str) -> str | None:
    """The canonical 档号 if ``text`` is one and nothing else (``J001-HY.2015-Y-1`` ->
    ``J001-HY·2015-Y-0001``), else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return str(parse_archival_code(text))
    except InvalidRecord:  # not the shape, or a category code no catalogue has
        return None


def archival_code_forms(code: str) -> tuple[str, ...]:
    """How a stored 档号 equal to ``code`` may be written: ``·`` or ``.`` before the year,
    the item number as four digits or without padding."""
    parsed = parse_archival_code(code)
    head = f"{parsed.fonds}-{parsed.category_code}"
    tail = f"{parsed.year}-{parsed.retention.code}"
    items = dict.fromkeys((f"{parsed.item:04d}", str(parsed.item)))
    return tuple(f"{head}{sep}{tail}-{item}" for sep in "·." for item in items)


def by_archival_code(query: SearchQuery) -> tuple[SearchQuery, tuple[str, ...], bool]:
    """``query`` narrowed to its 档号's category, year and retention; the code's written
    forms; and whether the query's own filters exclude the code (nothing can match).

    Raises:
        InvalidQuery: ``query.archival_code`` is not a 档号.
    """
    try:
        code = parse_archival_code(query.archival_code)
        forms = archival_code_forms(query.archival_code)
    except InvalidRecord as exc:
        raise InvalidQuery(f"档号无效：{exc}") from None
    category = CATEGORY_BY_CODE[code.category_code]
    year_from = code.year if query.year_from is None else max(code.year, query.year_from)
    year_to = code.year if query.year_to is None else min(code.year, query.year_to)
    excluded = query.category not in (None, category) or query.retention not in (
        None,
        code.retention.value,
    )
    narrowed = replace(
        query,
        category=category,
        year_from=year_from,
        year_to=year_to,
        retention=code.retention.value,
    )
    return narrowed, forms, excluded
