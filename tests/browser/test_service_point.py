"""The service-point search page in a real browser, at desktop and phone width."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from node.records import Access
from node.simulate import Network, converged, eventually, ingest, make_record, tree

from .conftest import PHONE

pytestmark = pytest.mark.asyncio(loop_scope="module")
VILLAGE = "330106001001"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    data: Path = tmp_path_factory.mktemp("browser")
    codes = ("33", "3301", "330106", "330106001", VILLAGE, "330110")
    net = await Network.start(data, tree(*codes), one_process=True)
    try:
        items = [
            make_record("330110", i, title=f"王秀英、李建国结婚登记档案{i}", access=Access.OPEN)
            for i in range(1, 4)
        ]
        await ingest(net.service("330110"), items)
        host = net.hosts[VILLAGE]
        await eventually(lambda: converged(host), timeout=30)
        assert host.listening is not None
        yield host.listening.web_url
    finally:
        await net.stop()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE])
async def test_a_clerk_searches_and_sees_the_holder(
    browser: Any, site: str, viewport: dict[str, int]
) -> None:
    page = await browser.new_page(viewport=viewport, locale="zh-CN")
    try:
        await page.goto(f"{site}/n/{VILLAGE}/")
        await page.fill("input[name=q]", "秀英")
        await page.click("form.search button[type=submit]")
        await page.wait_for_selector("table.hits")
        assert await page.locator("table.hits tbody tr").count() == 3
        summary = await page.inner_text("p.summary")
        assert "共 3 条" in summary
        assert "余杭区档案馆" in await page.inner_text("table.hits")
        # the page itself never scrolls sideways: a wide table scrolls inside its box
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
    finally:
        await page.close()
