"""What the page templates are given: zh-CN labels and page URLs here, view values by page.

Handlers fetch data from the node's services; this package turns it into the plain,
already-worded values a template in ``node/web/templates/`` shows (a template never sees a
service object or a store row, and never formats a label or builds a URL itself):
``views.catalogue`` for the start and search pages, ``views.admin`` for the archivist's
registry and status pages, ``views.operator`` for the operator's forms and accounts page; a
new page adds a module beside them. Escaping is not done here:
the template environment of ``node.web.app`` escapes every value.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from node.errors import InvalidCode
from node.identity import Level, level_of
from node.records import Access

# The query parameters of the search form, the ones a pager link carries over.
FORM_FIELDS = ("q", "scope", "category", "year_from", "year_to", "retention", "access")

_HEADINGS = {
    400: "请求有误",
    401: "身份校验未通过",
    403: "无权访问",
    404: "未找到",
    405: "不支持该操作",
    429: "请稍后再试",
    502: "上级或下级节点暂时无法连接",
}


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


def registry_action_url(code: str, child: str, action: str) -> str:
    """Where the registry page's ``approve`` / ``reject`` button for ``child`` posts."""
    return f"/n/{code}/registry/applications/{child}/{action}"


def sync_retry_url(code: str) -> str:
    """Where the status page's button posts to push to the parent now."""
    return f"/n/{code}/status/retry"


def page_url(code: str, params: Mapping[str, str], page_no: int, cursor: str) -> str:
    """Page ``page_no`` of the current query, by its cursor, keeping the form's fields."""
    kept = [(name, params[name]) for name in FORM_FIELDS if params.get(name)]
    return f"/n/{code}/?" + urlencode([*kept, ("page", str(page_no)), ("cursor", cursor)])
