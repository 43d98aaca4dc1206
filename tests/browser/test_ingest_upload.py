"""An archivist uploads a transfer package through the upload page in a real browser: the
page sends it, follows the background job and shows the four-property report; a package
with a bad row shows the row and its reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from preservation.kit import good_package, row, write_package, zip_folder

from node.actors import Role
from node.simulate import Network, staff, tree

pytestmark = pytest.mark.asyncio(loop_scope="module")
COUNTY = "330106"
PASSWORD = "archivist-password-1"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Network, str]]:
    net = await Network.start(
        tmp_path_factory.mktemp("upload"), tree("33", "3301", COUNTY), one_process=True
    )
    try:
        await staff(net.service(COUNTY), "zhao", Role.ARCHIVIST, password=PASSWORD)
        host = net.hosts[COUNTY]
        assert host.listening is not None
        yield net, host.listening.web_url
    finally:
        await net.stop()


async def _upload(browser: Any, url: str, package: Path, mode: str = "all") -> Any:
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{url}/n/{COUNTY}/login")
    await page.fill("form.login input[name=name]", "zhao")
    await page.fill("form.login input[name=password]", PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url(f"{url}/n/{COUNTY}/")
    await page.click("nav.node a[href$='/ingest/upload']")
    await page.set_input_files("#package", str(package))
    await page.check(f"input[name=mode][value={mode}]")
    await page.click("#upload button[type=submit]")
    await page.wait_for_url(f"{url}/n/{COUNTY}/ingest/jobs/**")
    await page.locator("text=结论").wait_for(timeout=20_000)
    return context, page


async def test_an_archivist_uploads_a_package_and_sees_the_report(
    browser: Any, site: tuple[Network, str], tmp_path: Path
) -> None:
    net, url = site
    packed = zip_folder(good_package(tmp_path / "p", 3), tmp_path / "p.zip")
    context, page = await _upload(browser, url, packed)
    try:
        text = await page.inner_text("main")
        assert "结论：通过" in text and "导入 3 条" in text
        await net.node(COUNTY).parts.records.get("J001-HY.2015-Y-0003")
        await page.click("text=打印检测报告")
        assert "四性检测报告" in await page.inner_text("body")
    finally:
        await context.close()


async def test_a_bad_row_is_shown_with_its_reason(
    browser: Any, site: tuple[Network, str], tmp_path: Path
) -> None:
    _, url = site
    rows = [
        row(1, 档号="J001-ZQ·1975-Y-0001"),
        row(2, 档号="J001-ZQ·1975-Y-0002", 形成日期="1975-02-30"),
    ]
    package = write_package(tmp_path / "bad", rows, {})
    context, page = await _upload(browser, url, package / "metadata.csv", mode="good")
    try:
        text = await page.inner_text("main")
        assert "结论：未通过" in text and "导入 1 条" in text
        assert "第 3 行" in text and "形成日期" in text
    finally:
        await context.close()
