"""Catalogue sync as operators see it: each link's cursor, lag, last error and next retry.

    GET  /api/v1/nodes/{code}/sync          links toward the parent, and children's cursors
    POST /api/v1/nodes/{code}/sync/retry    end the backoff and push now (``{"peer": ...}``)
    GET  /n/{code}/status                   the same as a zh-CN page, with a retry button

What ``archive-node stats`` and ``archive-node sync retry`` call. A browser POST must come
from this site's own pages (its ``Origin`` is checked).
"""

from __future__ import annotations

import dataclasses

from aiohttp import web

from node.federation.services import LinkStatus
from node.web.context import json_response, node_services, post_fields
from node.web.markup import Markup, join, layout, render
from node.wording import duration, link_state, when


async def sync_status(request: web.Request) -> web.Response:
    """``GET .../sync``."""
    status = await node_services(request).sync.sync_status()
    return json_response(dataclasses.asdict(status))


async def retry(request: web.Request) -> web.Response:
    """``POST .../sync/retry``: body ``{"peer": CODE}`` (optional: the parent)."""
    peer = (await post_fields(request)).get("peer") or None
    link = await node_services(request).sync.retry_sync(peer)
    return json_response({"retrying": dataclasses.asdict(link)})


async def retry_form(request: web.Request) -> web.Response:
    await post_fields(request)
    await node_services(request).sync.retry_sync()
    raise web.HTTPSeeOther(f"/n/{request.match_info['code']}/status")


async def status_page(request: web.Request) -> web.Response:
    """``GET /n/{code}/status``: the node's sync links, for the archivist on duty."""
    services = node_services(request)
    info = services.info
    status = await services.sync.sync_status()
    now = status.at
    links = [
        render(
            "<tr><td>$peer</td><td>$state</td><td>$cursor / $head</td><td>$lag</td>"
            "<td>$lag_s</td><td>$success</td><td>$error</td><td>$retry</td></tr>",
            peer=link.peer,
            state=link_state(link.state),
            cursor=link.cursor,
            head=link.head,
            lag=link.lag,
            lag_s=duration(link.lag_s) if link.lag else "-",
            success=when(link.last_success_at, now),
            error=_error(link, now),
            retry=when(link.next_retry_at, now),
        )
        for link in status.links
    ]
    children = [
        render(
            "<tr><td>$child</td><td>$cursor</td><td>$at</td></tr>",
            child=c.child,
            cursor=c.cursor,
            at=when(c.last_batch_at, now),
        )
        for c in status.children
    ]
    retry_button = (
        render(
            '<form method="post" action="$action" class="inline">'
            '<button type="submit">立即重试推送</button></form>',
            action=f"/n/{info.code}/status/retry",
        )
        if info.parent
        else render("")
    )
    body = render(
        "<h1>目录同步状态</h1>"
        "<p>本节点 $name（$code），变更日志序号 $head。</p>"
        "<h2>向上级推送</h2>"
        '<p class="hint">“积压”是上级尚未确认的变更条数，“积压时长”是其中最早一条的等待时间。'
        "推送失败后按指数退避重试（最长数分钟），上级节点一恢复并来电即立即重试；"
        "也可点击按钮立即重试。</p>"
        '<table class="results"><tr><th>上级</th><th>状态</th><th>已确认 / 本地序号</th>'
        "<th>积压</th><th>积压时长</th><th>最近成功</th><th>最近错误</th><th>下次重试</th></tr>"
        "$links</table>$retry_button"
        "<h2>下级推送到本节点</h2>"
        '<table class="results"><tr><th>下级</th><th>已确认序号</th><th>最近一批</th></tr>'
        "$children</table>",
        name=info.name,
        code=info.code,
        head=status.change_head,
        links=_rows(links, 8, "本节点是省级节点，没有上级。"),
        retry_button=retry_button,
        children=_rows(children, 3, "尚无下级推送过目录。"),
    )
    return web.Response(
        text=layout(f"{info.name} · 目录同步状态", body, f"{info.name} 运维"),
        content_type="text/html",
    )


def _error(link: LinkStatus, now: float) -> str:
    if not link.last_error:
        return "-"
    failing = f"，连续失败 {link.failures} 次" if link.failures else "，之后已恢复"
    return f"{link.last_error}（{when(link.last_error_at, now)}{failing}）"


def _rows(rows: list[Markup], columns: int, empty: str) -> Markup:
    if rows:
        return join(rows)
    return render('<tr><td colspan="$n">$text</td></tr>', n=columns, text=empty)


def add_routes(app: web.Application) -> None:
    """Register the sync routes on ``app``."""
    app.router.add_get("/api/v1/nodes/{code}/sync", sync_status)
    app.router.add_post("/api/v1/nodes/{code}/sync/retry", retry)
    app.router.add_get("/n/{code}/status", status_page)
    app.router.add_post("/n/{code}/status/retry", retry_form)
