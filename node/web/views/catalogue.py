"""View values of the start page (``index.html``) and the search page (``search.html``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from node.records import CATEGORIES, Access, CatalogueEntry, Retention, SearchPage
from node.web.views import access_zh, content_url, level_zh, page_url, service_point_url

if TYPE_CHECKING:
    from node.federation.services import NodeInfo
    from node.web.views.scope import ScopeGroup


def request_url(code: str, holder: str, record_id: str) -> str:
    """Where a clerk at ``code`` files a utilisation request (利用申请) for a record."""
    return (
        f"/n/{code}/requests/new?holder={quote(holder, safe='')}&record={quote(record_id, safe='')}"
    )


@dataclass(frozen=True)
class NodeItem:
    """One hosted node on the start page."""

    href: str
    name: str
    code: str
    level: str


def node_item(info: NodeInfo) -> NodeItem:
    return NodeItem(service_point_url(info.code), info.name, info.code, level_zh(info.level))


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class SearchForm:
    """The clerk's search form, filled with what the URL asked for; ``error``: what to fix
    in it ("" if nothing); ``own_action``: where the identity-number search posts ("" if
    the visitor may not use it), with the session's ``csrf``."""

    name: str
    code: str
    action: str
    province: str  # the default scope: the whole province
    q: str
    scope_code: str  # a code typed by hand, as typed
    scopes: tuple[ScopeGroup, ...]
    year_from: str
    year_to: str
    categories: tuple[Option, ...]
    retentions: tuple[Option, ...]
    accesses: tuple[Option, ...]
    error: str = ""
    own_action: str = ""
    csrf: str = ""


def _options(params: Mapping[str, str], name: str, choices: dict[str, str]) -> tuple[Option, ...]:
    selected = params.get(name, "")
    return tuple(Option(value, label, value == selected) for value, label in choices.items())


def search_form(
    info: NodeInfo,
    params: Mapping[str, str],
    scopes: tuple[ScopeGroup, ...],
    *,
    error: str = "",
    own_action: str = "",
    csrf: str = "",
) -> SearchForm:
    """The form as ``params`` (the URL's query, or a POST's fields) filled it."""
    return SearchForm(
        name=info.name,
        code=info.code,
        action=service_point_url(info.code),
        province=info.code[:2],
        q=params.get("q", ""),
        scope_code=params.get("scope_code", ""),
        scopes=scopes,
        year_from=params.get("year_from", ""),
        year_to=params.get("year_to", ""),
        categories=_options(params, "category", {name: name for name in CATEGORIES}),
        retentions=_options(params, "retention", {r.value: r.value for r in Retention}),
        accesses=_options(
            params, "access", {a.value: a.zh for a in (Access.OPEN, Access.CONTROLLED)}
        ),
        error=error,
        own_action=own_action,
        csrf=csrf,
    )


@dataclass(frozen=True)
class Hit:
    """One row of the hits table; ``use`` says what the clerk may do with the record:
    ``controlled`` (ask for it), ``closed``, ``no_file`` or ``open`` (view and download)."""

    title: str
    archival_code: str
    category: str
    year: int
    retention: str
    access: str
    access_zh: str
    holder_name: str
    holder: str
    use: str
    view_href: str = ""
    download_href: str = ""
    request_href: str = ""  # 申请利用, for a controlled record


def hit(code: str, entry: CatalogueEntry) -> Hit:
    access = str(entry.access)
    view = download = ask = ""
    if access == Access.CONTROLLED:
        use = "controlled"
        ask = request_url(code, entry.holder, entry.record_id)
    elif access != Access.OPEN:
        use = "closed"
    elif not entry.content_sha256:
        use = "no_file"
    else:
        use = "open"
        view = content_url(code, entry.holder, entry.record_id)
        download = view + "?download=1"
    return Hit(
        title=entry.title,
        archival_code=entry.archival_code,
        category=entry.category,
        year=entry.year,
        retention=str(entry.retention),
        access=access,
        access_zh=access_zh(access),
        holder_name=entry.holder_name or "—",
        holder=entry.holder,
        use=use,
        view_href=view,
        download_href=download,
        request_href=ask,
    )


@dataclass(frozen=True)
class Pager:
    """上一页 / 下一页 links (``""``: none) and where we are; ``pages`` is None when the total
    is only a lower bound."""

    prev_href: str
    page: int
    pages: int | None
    next_href: str


@dataclass(frozen=True)
class Results:
    total: int
    total_exact: bool
    answered_by: str  # "由 杭州市档案馆 答复：它的目录覆盖 …。", "" if nobody said
    first: int
    last: int
    hits: tuple[Hit, ...]
    pager: Pager | None


def results(
    code: str,
    result: SearchPage,
    page_no: int,
    page_size: int,
    params: Mapping[str, str],
    answered_by: str,
) -> Results:
    first = (page_no - 1) * page_size + 1
    return Results(
        total=result.total,
        total_exact=result.total_exact,
        answered_by=answered_by,
        first=first,
        last=first + len(result.hits) - 1,
        hits=tuple(hit(code, entry) for entry in result.hits),
        pager=_pager(code, result, page_no, page_size, params),
    )


def _pager(
    code: str, result: SearchPage, page_no: int, page_size: int, params: Mapping[str, str]
) -> Pager | None:
    """By the page's cursors (bound to this query); None if everything fits on one page."""
    if not (result.prev_cursor or result.next_cursor):
        return None
    prev_href = next_href = ""
    if result.prev_cursor:
        prev_href = page_url(code, params, max(1, page_no - 1), result.prev_cursor)
    if result.next_cursor:
        next_href = page_url(code, params, page_no + 1, result.next_cursor)
    pages = max(page_no, -(-result.total // page_size)) if result.total_exact else None
    return Pager(prev_href, page_no, pages, next_href)
