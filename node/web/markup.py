"""HTML building without a template engine: every interpolated value is escaped.

``render`` fills a ``string.Template``; values are HTML-escaped unless they are ``Markup``
(HTML this package built itself). Record titles, names and query text are never trusted.
"""

from __future__ import annotations

import html
from string import Template


class Markup(str):
    """HTML that is already safe to insert as is."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """``value`` as text safe in element content and quoted attributes."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def render(template: str, **values: object) -> Markup:
    """Substitute ``$name`` placeholders in ``template``, escaping each value."""
    return Markup(Template(template).substitute({k: escape(v) for k, v in values.items()}))


def join(parts: list[Markup], separator: str = "") -> Markup:
    """Concatenate already-safe fragments (``str.join`` would drop the ``Markup`` type)."""
    return Markup(escape(separator).join(parts))


_LAYOUT = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<header class="site"><a href="/">档案共享查询服务</a><span class="sub">$subtitle</span></header>
<main>
$body
</main>
<footer class="site">异地查档 · 跨馆出证 · 最多跑一次</footer>
</body>
</html>
"""


def layout(title: str, body: Markup, subtitle: str = "") -> str:
    """A whole page around ``body``."""
    return render(_LAYOUT, title=title, subtitle=subtitle, body=body)


_ERROR = """<section class="error">
<h1>$heading</h1>
<p class="message">$message</p>
<p class="links">$links</p>
</section>"""

_HEADINGS = {
    400: "请求有误",
    401: "身份校验未通过",
    403: "无权访问",
    404: "未找到",
    405: "不支持该操作",
    502: "上级或下级节点暂时无法连接",
}


def error_page(status: int, message: str, back: str | None) -> str:
    """The zh-CN page shown to a clerk when a page request fails."""
    links = [render('<a href="/">返回首页</a>')]
    if back:
        links.insert(0, render('<a href="$href">返回服务点查询页</a>', href=back))
    body = render(
        _ERROR,
        heading=_HEADINGS.get(status, "服务出错"),
        message=message,
        links=join(links, " · "),
    )
    return layout(f"{_HEADINGS.get(status, '服务出错')}（{status}）", body)
