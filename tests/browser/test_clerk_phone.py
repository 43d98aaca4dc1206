"""The clerk's search page on a 375 px phone (issue 10, item 5), in a real browser.

A 档号 typed in the query box finds a controlled record four hops away; the hit's 申请利用
button and an open hit's 在线查看 / 下载 are inside the screen, not covered, and lead where
they say; the page never scrolls sideways. Screenshots land in pytest's tmp dir for a look.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio

from node.records import Access
from node.simulate import Network, converged, eventually, ingest, make_record, tree

from .conftest import PHONE

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
VILLAGE, HOLDER = "330106001001", "330110"
CONTROLLED, CONTROLLED_DATA = make_record(
    HOLDER, 2, title="王秀英社保缴费记录", category="社保", access=Access.CONTROLLED
)
LONG = "王秀英、李建国结婚登记档案（附婚姻登记审查处理表、申请结婚登记声明书及身份证明复印件）"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    data: Path = tmp_path_factory.mktemp("phone")
    codes = ("33", "3301", "330106", "330106001", VILLAGE, HOLDER)
    net = await Network.start(data, tree(*codes), one_process=True)
    try:
        items = [make_record(HOLDER, 1, title=LONG), (CONTROLLED, CONTROLLED_DATA)]
        await ingest(net.service(HOLDER), items)
        host = net.hosts[VILLAGE]
        await eventually(lambda: converged(host), timeout=30)
        assert host.listening is not None
        yield host.listening.web_url
    finally:
        await net.stop()


async def _sideways(page: Any) -> int:
    """How far the page, or any box on it (a wide table's), would scroll sideways."""
    return int(
        await page.evaluate(
            "Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth,"
            " ...[...document.querySelectorAll('.table-box')].map("
            "b => b.scrollWidth - b.clientWidth))"
        )
    )


async def _reachable(page: Any, selector: str) -> None:
    """Scrolling the page down only, the element is inside the screen's width and nothing
    covers its centre (a button past a table's right edge would need a sideways scroll)."""
    element = page.locator(selector).first
    await element.evaluate(
        "e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 100)"
    )
    box = await element.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    assert box["height"] >= 24, (selector, box)  # a thumb's target, not a sliver
    on_top = await element.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
        " return hit === e || e.contains(hit); }"
    )
    assert on_top, selector


async def test_a_clerk_on_a_phone_finds_a_record_by_its_code_and_can_ask_for_it(
    browser: Any, site: str, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    try:
        await page.goto(f"{site}/n/{VILLAGE}/")
        assert await _sideways(page) <= 0
        await page.fill("input[name=q]", "J001-SB·2015-Y-0002")
        await page.click("form.search button[type=submit]")
        await page.wait_for_selector("table.hits")
        await page.screenshot(path=str(tmp_path / "phone-controlled.png"), full_page=True)
        assert await _sideways(page) <= 0
        assert "J001-SB·2015-Y-0002" in await page.inner_text("table.hits")
        await _reachable(page, "table.hits a.button:text('申请利用')")
        await page.click("table.hits a.button:text('申请利用')")
        await page.wait_for_load_state()
        expected = f"/n/{VILLAGE}/requests/new?holder={HOLDER}&record={CONTROLLED.record_id}"
        # nobody is logged in: the login form comes first, and leads on to the request form
        url = urlsplit(page.url)
        assert url.path == f"/n/{VILLAGE}/login" and parse_qs(url.query)["next"] == [expected]
    finally:
        await page.close()


async def test_an_open_hits_buttons_fit_a_phone_with_a_long_title(
    browser: Any, site: str, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    try:
        await page.goto(f"{site}/n/{VILLAGE}/")
        await page.fill("input[name=q]", "李建国")
        await page.click("form.search button[type=submit]")
        await page.wait_for_selector("table.hits")
        await page.screenshot(path=str(tmp_path / "phone-open.png"), full_page=True)
        assert await _sideways(page) <= 0
        await _reachable(page, "table.hits a.button:text('在线查看')")
        await _reachable(page, "table.hits a.button:text('下载')")
        await _reachable(page, "form.search button[type=submit]")
    finally:
        await page.close()
