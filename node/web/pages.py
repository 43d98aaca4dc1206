"""Server-rendered zh-CN pages: the node list and the service-point search page.

Plain GET forms, no JavaScript: the clerk's query lives in the URL, so paging, the back
button and bookmarks work. All record and query text is escaped by ``markup.render``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from aiohttp import web

from node.errors import InvalidCode, InvalidQuery
from node.identity import Level, level_of
from node.records import CATEGORIES, Access, CatalogueEntry, Retention, SearchPage
from node.web.content import record_content
from node.web.context import hosted_nodes, node_services
from node.web.markup import Markup, join, layout, render
from node.web.params import filters, integer

if TYPE_CHECKING:
    from node.federation.services import NodeInfo

PAGE_SIZE = 20
_FORM_FIELDS = ("q", "scope", "category", "year_from", "year_to", "retention", "access")


async def index(request: web.Request) -> web.Response:
    """``GET /``: every node this process hosts, each linking to its service point."""
    nodes = hosted_nodes(request)
    items = [
        render(
            '<li><a href="$href">$name</a> <span class="code">$code</span>'
            '<span class="level">$level</span></li>',
            href=f"/n/{code}/",
            name=nodes[code].info.name,
            code=code,
            level=_level_zh(nodes[code].info.level),
        )
        for code in sorted(nodes)
    ]
    body = render(
        "<h1>选择服务点</h1><p>本服务托管以下节点，请选择所在服务点进入档案查询。</p>"
        '<ul class="nodes">$items</ul>',
        items=join(items) if items else render("<li>尚未托管任何节点。</li>"),
    )
    return _html(layout("档案共享查询服务", body))


async def service_point(request: web.Request) -> web.Response:
    """``GET /n/{code}/``: the clerk's search form and, if asked, one page of hits."""
    services = node_services(request)
    info = services.info
    params = request.query
    query = filters(params)
    page_no = integer(params, "page", "页码") or 1
    if page_no < 1:
        raise InvalidQuery(f"页码应从 1 开始，收到 {page_no}。")
    parts = [_form(info, params)]
    filters_given = (query.category, query.year_from, query.year_to, query.retention, query.access)
    if query.text.strip() or any(filters_given):
        # Pages come by cursor; a bare page number (an old bookmark) by offset.
        offset = 0 if query.cursor else (page_no - 1) * PAGE_SIZE
        query = replace(query, limit=PAGE_SIZE, offset=offset)
        result = await services.search.search(query)
        parts.append(_results(request, info.code, result, page_no, params))
    else:
        parts.append(
            render(
                '<p class="hint">请输入查询词（如当事人姓名、题名中的字词）后点击“查询”。'
                "默认在全省（范围 $province）查找；可选门类、年度、保管期限、开放状态缩小范围，"
                "或把范围改为某市、县的区划代码。</p>",
                province=info.code[:2],
            )
        )
    return _html(layout(f"{info.name} · 档案查询", join(parts), f"{info.name} 服务点"))


def _select(
    params: Mapping[str, str], name: str, everything: str, options: dict[str, str]
) -> Markup:
    """A ``<select>``'s options: ``everything`` (value ""), then ``value -> label``."""
    selected = params.get(name, "")
    return join(
        [render('<option value="">$label</option>', label=everything)]
        + [
            render(
                '<option value="$value"$selected>$label</option>',
                value=value,
                label=label,
                selected=Markup(" selected") if value == selected else Markup(""),
            )
            for value, label in options.items()
        ]
    )


def _form(info: NodeInfo, params: Mapping[str, str]) -> Markup:
    options = _select(params, "category", "全部门类", {name: name for name in CATEGORIES})
    retentions = _select(params, "retention", "全部期限", {r.value: r.value for r in Retention})
    levels = _select(
        params, "access", "全部", {a.value: a.zh for a in (Access.OPEN, Access.CONTROLLED)}
    )
    return render(
        """<h1>$name（$code）服务点 · 档案查询</h1>
<form class="search" method="get" action="/n/$code/">
<label>查询词<input name="q" value="$q" maxlength="200" autofocus
 placeholder="当事人姓名、题名中的字词"></label>
<label>范围<input name="scope" value="$scope" inputmode="numeric"
 title="区划代码：33 为全省，4 位为市，6 位为县（区）"></label>
<label>门类<select name="category">$options</select></label>
<label>年度（起）<input class="year" name="year_from" value="$year_from"
 inputmode="numeric"></label>
<label>年度（止）<input class="year" name="year_to" value="$year_to"
 inputmode="numeric"></label>
<label>保管期限<select name="retention">$retentions</select></label>
<label>开放状态<select name="access">$levels</select></label>
<button type="submit">查询</button>
</form>""",
        name=info.name,
        code=info.code,
        q=params.get("q", ""),
        scope=params.get("scope", info.code[:2]),
        options=options,
        retentions=retentions,
        levels=levels,
        year_from=params.get("year_from", ""),
        year_to=params.get("year_to", ""),
    )


def _results(
    request: web.Request, code: str, result: SearchPage, page_no: int, params: Mapping[str, str]
) -> Markup:
    by = _node_label(request, result.answered_by)
    if not result.hits:
        summary = render(
            '<p class="summary">$total$by。未找到匹配的档案：可减少查询词、放宽年度或'
            "扩大范围后重试。</p>",
            total=_total_zh(result),
            by=f"，由 {by}应答" if by else "",
        )
        return join([summary, _pager(code, result, page_no, params)])
    first = (page_no - 1) * PAGE_SIZE + 1
    summary = render(
        '<p class="summary">$total$by，当前显示第 $first–$last 条。</p>',
        total=_total_zh(result),
        by=f"，由 {by}应答" if by else "",
        first=first,
        last=first + len(result.hits) - 1,
    )
    table = render(
        '<table class="hits"><thead><tr><th>题名</th><th>档号</th><th>门类</th><th>年度</th>'
        "<th>保管期限</th><th>开放状态</th><th>馆藏单位</th><th>利用</th></tr></thead>"
        "<tbody>$rows</tbody></table>",
        rows=join([_row(code, entry) for entry in result.hits]),
    )
    return join([summary, table, _pager(code, result, page_no, params)])


def _row(code: str, entry: CatalogueEntry) -> Markup:
    return render(
        '<tr><td>$title</td><td class="code">$archival_code</td><td>$category</td>'
        '<td>$year</td><td>$retention</td><td class="access-$access">$access_zh</td>'
        '<td>$holder_name<br><span class="code">$holder</span></td><td>$actions</td></tr>',
        title=entry.title,
        archival_code=entry.archival_code,
        category=entry.category,
        year=entry.year,
        retention=str(entry.retention),
        access=str(entry.access),
        access_zh=_access_zh(str(entry.access)),
        holder_name=entry.holder_name or "—",
        holder=entry.holder,
        actions=_actions(code, entry),
    )


def _actions(code: str, entry: CatalogueEntry) -> Markup:
    if str(entry.access) == Access.CONTROLLED:
        return render('<span class="note">控制使用：需提交利用申请</span>')
    if str(entry.access) != Access.OPEN:
        return render('<span class="note">不开放</span>')
    if not entry.content_sha256:
        return render("无电子文件")
    href = content_url(code, entry.holder, entry.record_id)
    return render(
        '<a href="$view" target="_blank" rel="noopener">在线查看</a> · '
        '<a href="$download">下载</a>',
        view=href,
        download=href + "?download=1",
    )


def content_url(code: str, holder: str, record_id: str) -> str:
    """Where a clerk at ``code`` opens a record's content (fetched through the tree)."""
    return f"/n/{code}/records/{quote(holder, safe='')}/{quote(record_id, safe='')}/content"


def _total_zh(result: SearchPage) -> str:
    """``共 N 条``, or ``超过 N 条`` when counting stopped at N."""
    return f"共 {result.total} 条" if result.total_exact else f"超过 {result.total} 条"


def _pager(code: str, result: SearchPage, page_no: int, params: Mapping[str, str]) -> Markup:
    """上一页 / 下一页 by the page's cursors (bound to this query), and where we are."""
    if not (result.prev_cursor or result.next_cursor):
        return Markup("")
    links = []
    link = '<a href="$href" rel="$rel">$label</a>'
    if result.prev_cursor:
        href = _page_url(code, params, max(1, page_no - 1), result.prev_cursor)
        links.append(render(link, href=href, rel="prev", label="上一页"))
    if result.total_exact:
        pages = max(page_no, -(-result.total // PAGE_SIZE))
        links.append(render("<span>第 $page / $pages 页</span>", page=page_no, pages=pages))
    else:
        links.append(render("<span>第 $page 页</span>", page=page_no))
    if result.next_cursor:
        href = _page_url(code, params, page_no + 1, result.next_cursor)
        links.append(render(link, href=href, rel="next", label="下一页"))
    return render('<nav class="pager">$links</nav>', links=join(links))


def _page_url(code: str, params: Mapping[str, str], page_no: int, cursor: str) -> str:
    kept = [(name, params[name]) for name in _FORM_FIELDS if params.get(name)]
    return f"/n/{code}/?" + urlencode([*kept, ("page", str(page_no)), ("cursor", cursor)])


def _node_label(request: web.Request, code: str) -> str:
    """``name（code）`` for a node hosted here, ``code（level）`` for others, ``""`` if none."""
    hosted = hosted_nodes(request).get(code)
    if hosted is not None:
        return f"{hosted.info.name}（{code}）"
    try:
        return f"{code}（{level_of(code).zh}级节点）" if code else ""
    except InvalidCode:
        return f"{code}（未知节点）"


def _level_zh(level: int) -> str:
    try:
        return Level(level).zh
    except ValueError:
        return str(level)


def _access_zh(access: str) -> str:
    try:
        return Access(access).zh
    except ValueError:
        return access


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def add_routes(app: web.Application) -> None:
    """Register the page routes on ``app``."""
    app.router.add_get("/", index)
    app.router.add_get("/n/{code}", _to_service_point)
    app.router.add_get("/n/{code}/", service_point)
    app.router.add_get(
        "/n/{code}/records/{holder}/{record_id}/content", record_content, allow_head=False
    )


async def _to_service_point(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"/n/{quote(request.match_info['code'], safe='')}/")
