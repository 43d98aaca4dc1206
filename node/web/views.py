"""What the page templates are given: frozen view values, zh-CN labels and page URLs.

Handlers fetch data from the node's services; the functions here turn it into the plain,
already-worded values a template in ``node/web/templates/`` shows (a template never sees a
service object or a store row, and never formats a label or builds a URL itself). Escaping
is not done here: the template environment of ``node.web.app`` escapes every value.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from node.crypto import key_id_of
from node.errors import InvalidCode
from node.identity import Level, level_of, parent_of
from node.records import CATEGORIES, Access, CatalogueEntry, Retention, SearchPage
from node.wording import duration, link_state, when

if TYPE_CHECKING:
    from node.certificates import Application
    from node.federation.refusals import Refusal
    from node.federation.service import ChildSyncStatus, LinkStatus, NodeInfo

# The query parameters of the search form, the ones a pager link carries over.
FORM_FIELDS = ("q", "scope", "category", "year_from", "year_to", "retention", "access")

_HEADINGS = {
    400: "请求有误",
    401: "身份校验未通过",
    403: "无权访问",
    404: "未找到",
    405: "不支持该操作",
    502: "上级或下级节点暂时无法连接",
}
_APPLICATION_STATUS = {"pending": "待审批", "approved": "已批准", "rejected": "已拒绝"}


# -- labels ----------------------------------------------------------------------------------


def level_zh(level: int) -> str:
    """``村（社区）`` for a level's number; the number itself if it is not a level."""
    try:
        return Level(level).zh
    except ValueError:
        return str(level)


def access_zh(access: str) -> str:
    """``开放``, ``控制使用``, ...; an unknown value as it is."""
    try:
        return Access(access).zh
    except ValueError:
        return access


def node_label(code: str, hosted_name: str | None) -> str:
    """``name（code）`` for a node hosted here, ``code（level）`` for others, ``""`` if none."""
    if hosted_name is not None:
        return f"{hosted_name}（{code}）"
    try:
        return f"{code}（{level_of(code).zh}级节点）" if code else ""
    except InvalidCode:
        return f"{code}（未知节点）"


def error_heading(status: int) -> str:
    """The heading of the error page for an HTTP status."""
    return _HEADINGS.get(status, "服务出错")


def local_time(at: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A unix time as local time (the operator's clock)."""
    return time.strftime(fmt, time.localtime(at))


# -- URLs ------------------------------------------------------------------------------------


def service_point_url(code: str) -> str:
    """The search page of the hosted node ``code``."""
    return f"/n/{code}/"


def content_url(code: str, holder: str, record_id: str) -> str:
    """Where a clerk at ``code`` opens a record's content (fetched through the tree)."""
    return f"/n/{code}/records/{quote(holder, safe='')}/{quote(record_id, safe='')}/content"


def sync_retry_url(code: str) -> str:
    """Where the status page's button posts to push to the parent now."""
    return f"/n/{code}/status/retry"


def page_url(code: str, params: Mapping[str, str], page_no: int, cursor: str) -> str:
    """Page ``page_no`` of the current query, by its cursor, keeping the form's fields."""
    kept = [(name, params[name]) for name in FORM_FIELDS if params.get(name)]
    return f"/n/{code}/?" + urlencode([*kept, ("page", str(page_no)), ("cursor", cursor)])


# -- the node list and the search page -------------------------------------------------------


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
    """The clerk's search form, filled with what the URL asked for."""

    name: str
    code: str
    action: str
    province: str  # the default scope: the whole province
    q: str
    scope: str
    year_from: str
    year_to: str
    categories: tuple[Option, ...]
    retentions: tuple[Option, ...]
    accesses: tuple[Option, ...]


def _options(params: Mapping[str, str], name: str, choices: dict[str, str]) -> tuple[Option, ...]:
    selected = params.get(name, "")
    return tuple(Option(value, label, value == selected) for value, label in choices.items())


def search_form(info: NodeInfo, params: Mapping[str, str]) -> SearchForm:
    province = info.code[:2]
    return SearchForm(
        name=info.name,
        code=info.code,
        action=service_point_url(info.code),
        province=province,
        q=params.get("q", ""),
        scope=params.get("scope", province),
        year_from=params.get("year_from", ""),
        year_to=params.get("year_to", ""),
        categories=_options(params, "category", {name: name for name in CATEGORIES}),
        retentions=_options(params, "retention", {r.value: r.value for r in Retention}),
        accesses=_options(
            params, "access", {a.value: a.zh for a in (Access.OPEN, Access.CONTROLLED)}
        ),
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


def hit(code: str, entry: CatalogueEntry) -> Hit:
    access = str(entry.access)
    view = download = ""
    if access == Access.CONTROLLED:
        use = "controlled"
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
    answered_by: str  # a node label, "" if nobody said
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


# -- the archivist's pages -------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationRow:
    """One enrolment application; the form actions are ``""`` once it is decided."""

    code: str
    name: str
    level: str
    key_id: str
    address: str
    status: str
    approve_action: str
    reject_action: str


def application_row(code: str, application: Application) -> ApplicationRow:
    approve = reject = ""
    if application.status == "pending":
        base = f"/n/{code}/registry/applications/{application.code}"
        approve, reject = f"{base}/approve", f"{base}/reject"
    try:
        level = level_of(application.code).zh
    except InvalidCode:
        level = "?"
    direct = parent_of(application.code) == code
    status = _APPLICATION_STATUS.get(application.status, application.status)
    return ApplicationRow(
        code=application.code + ("" if direct else "（非直接下级）"),
        name=application.name,
        level=level,
        key_id=key_id_of(application.public_key),
        address=application.address or "-",
        status=status + (f"：{application.note}" if application.note else ""),
        approve_action=approve,
        reject_action=reject,
    )


@dataclass(frozen=True)
class RefusalRow:
    at: str
    origin: str
    method: str
    kind: str
    reason: str


def refusal_row(refusal: Refusal) -> RefusalRow:
    return RefusalRow(
        at=local_time(refusal.at),
        origin=refusal.origin or "（无法识别）",
        method=refusal.method.rsplit("/", 1)[-1],
        kind=refusal.kind,
        reason=refusal.reason,
    )


@dataclass(frozen=True)
class LinkRow:
    """One sync link toward the parent, worded relative to when the status was read."""

    peer: str
    state: str
    cursor: int
    head: int
    lag: int
    lag_s: str
    success: str
    error: str
    retry: str


def link_row(link: LinkStatus, now: float) -> LinkRow:
    return LinkRow(
        peer=link.peer,
        state=link_state(link.state),
        cursor=link.cursor,
        head=link.head,
        lag=link.lag,
        lag_s=duration(link.lag_s) if link.lag else "-",
        success=when(link.last_success_at, now),
        error=_link_error(link, now),
        retry=when(link.next_retry_at, now),
    )


def _link_error(link: LinkStatus, now: float) -> str:
    if not link.last_error:
        return "-"
    failing = f"，连续失败 {link.failures} 次" if link.failures else "，之后已恢复"
    return f"{link.last_error}（{when(link.last_error_at, now)}{failing}）"


@dataclass(frozen=True)
class ChildRow:
    child: str
    cursor: int
    at: str


def child_row(child: ChildSyncStatus, now: float) -> ChildRow:
    return ChildRow(child.child, child.cursor, when(child.last_batch_at, now))
