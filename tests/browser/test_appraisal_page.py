"""The archivist's appraisal page in a real browser at a phone's width: the list fits without
sideways scrolling, a batch is opened with a reason, and the page says what was done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from node import crypto
from node.actors import Role
from node.records import Access, ArchivalCode, ContentFile, Record, Retention
from node.simulate import Network, ingest, staff, tree

from .conftest import PHONE

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOWNSHIP = "330106001"
PASSWORD = "archivist-password-1"


def old_record(n: int) -> tuple[Record, bytes]:
    data = f"{n}".encode()
    return Record(
        holder=TOWNSHIP, record_id=f"OLD-{n}", fonds="J001", category="户籍", year=1980,
        archival_code=str(ArchivalCode("J001", "HJ", 1980, Retention.PERMANENT, n)),
        retention=Retention.PERMANENT, title=f"一九八〇年户籍迁移登记第{n}号（含较长的说明文字）",
        creator="派出所", date="1980-06-01", access=Access.CONTROLLED,
        files=(ContentFile(f"{n}.txt", crypto.sha256_hex(data), len(data), "text/plain"),),
    ), data  # fmt: skip


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Network, str]]:
    net = await Network.start(
        tmp_path_factory.mktemp("appraise"), tree("33", "3301", "330106", TOWNSHIP),
        one_process=True,
    )  # fmt: skip
    try:
        await ingest(net.service(TOWNSHIP), [old_record(n) for n in (1, 2, 3)])
        await staff(net.service(TOWNSHIP), "li", Role.ARCHIVIST, password=PASSWORD)
        await net.node(TOWNSHIP).appraisal.run_scheduled()
        host = net.hosts[TOWNSHIP]
        assert host.listening is not None
        yield net, host.listening.web_url
    finally:
        await net.stop()


async def test_an_archivist_opens_a_batch_on_a_phone(
    browser: Any, site: tuple[Network, str]
) -> None:
    net, url = site
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    try:
        await page.goto(f"{url}/n/{TOWNSHIP}/login")
        await page.fill("form.login input[name=name]", "li")
        await page.fill("form.login input[name=password]", PASSWORD)
        await page.click("form.login button[type=submit]")
        await page.wait_for_url(f"{url}/n/{TOWNSHIP}/")
        await page.goto(f"{url}/n/{TOWNSHIP}/appraisal")
        assert "共 3 件待鉴定" in await page.inner_text("main")
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0  # the page does not scroll sideways (the table scrolls in its box)
        await page.check("input[name=record][value='OLD-1']")
        await page.check("input[name=record][value='OLD-2']")
        await page.fill("textarea[name=reason]", "已满25年，经审查可以开放")
        await page.click("button[name=decision][value=open]")
        await page.wait_for_selector("p.notice")
        assert "已开放 2 件" in await page.inner_text("p.notice")
        assert "共 1 件待鉴定" in await page.inner_text("main")
    finally:
        await page.close()
    for n, access in ((1, Access.OPEN), (2, Access.OPEN), (3, Access.CONTROLLED)):
        assert (await net.node(TOWNSHIP).parts.records.get(f"OLD-{n}")).access == access
