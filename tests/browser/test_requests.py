"""Utilisation requests in a real browser at phone width: a clerk at a village files one from
the form and sees it approved by rule and delivered; an archivist at the holder approves
another from the queue, and the clerk sees that one delivered too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from node.actors import Role
from node.citizens import IdNumber, check_character
from node.config import TrustSettings
from node.records import Access
from node.simulate import (
    Network,
    eventually,
    index_keys_everywhere,
    ingest,
    make_record,
    staff,
    tree,
)

from .conftest import PHONE

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
VILLAGE, HOLDER = "330106001001", "330110"
PASSWORDS = {"clerk": "clerk-password-1", "archivist": "archivist-password-1"}
BODY, OTHER = "33011019660512002", "33010619801103451"
SUBJECT = BODY + check_character(BODY)
STRANGER = OTHER + check_character(OTHER)
SCAN = "王秀英、陈国强结婚登记（扫描件）".encode() * 100
MARRIAGE, _ = make_record(
    HOLDER, 1, title="王秀英、陈国强结婚登记", access=Access.CONTROLLED, content=SCAN, year=1966
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Network, str]]:
    data: Path = tmp_path_factory.mktemp("requests-browser")
    codes = tree("33", "3301", "330106", "330106001", VILLAGE, HOLDER)
    # the directory reaches the village by the scheduled refresh, as in the demo
    net = await Network.start(
        data, codes, one_process=True, trust=TrustSettings(refresh_interval_s=1.0)
    )
    try:
        await staff(net.service(VILLAGE), "clerk", Role.CLERK, password=PASSWORDS["clerk"])
        await staff(
            net.service(HOLDER), "archivist", Role.ARCHIVIST, password=PASSWORDS["archivist"]
        )
        await index_keys_everywhere(net)  # the holder indexes its subjects' numbers
        await ingest(
            net.service(HOLDER),
            [(MARRIAGE, SCAN)],
            subject_ids={MARRIAGE.record_id: (IdNumber.parse(SUBJECT),)},
        )
        await eventually(lambda: _knows(net))
        host = net.hosts[VILLAGE]
        assert host.listening is not None
        yield net, host.listening.web_url
    finally:
        await net.stop()


async def _knows(net: Network) -> bool:
    return bool(net.node(VILLAGE).desk.directory.current(HOLDER)) and bool(
        net.node(HOLDER).desk.directory.current(VILLAGE)
    )


async def _login(page: Any, url: str, code: str, name: str) -> None:
    await page.goto(f"{url}/n/{code}/login")
    await page.fill("form.login input[name=name]", name)
    await page.fill("form.login input[name=password]", PASSWORDS[name])
    await page.click("form.login button[type=submit]")
    await page.wait_for_url(f"{url}/n/{code}/")


async def _file(page: Any, url: str, number: str, name: str) -> str:
    await page.goto(f"{url}/n/{VILLAGE}/requests/new?holder={HOLDER}&record={MARRIAGE.record_id}")
    assert await page.input_value("input[name=holder]") == HOLDER
    await page.fill("input[name=citizen_name]", name)
    await page.fill("input[name=id_number]", number)
    await page.fill("textarea[name=purpose]", "办理退休手续")
    await page.click("form.request-form button[type=submit]")
    await page.wait_for_url(f"{url}/n/{VILLAGE}/requests/{VILLAGE}-*")
    # usable at phone width: nothing wider than the screen
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    return str(page.url.rsplit("/", 1)[-1])


async def _state_becomes(page: Any, state: str) -> None:
    for _ in range(150):
        await page.reload()
        if await page.get_attribute("dd.state", "data-state") == state:
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"the request page never showed {state}")


async def test_a_clerk_files_a_request_and_sees_it_delivered(
    browser: Any, site: tuple[Network, str]
) -> None:
    _, url = site
    context = await browser.new_context(locale="zh-CN", viewport=PHONE)
    page = await context.new_page()
    try:
        await _login(page, url, VILLAGE, "clerk")
        # from the service point: her own record, found by her identity number alone
        await page.fill("input[name=id_number]", SUBJECT)
        await page.click("button.own")
        await page.wait_for_selector("table.hits")
        hits = await page.inner_text("table.hits")
        assert "婚姻登记" in hits and "1966" in hits and "王秀英" not in hits  # title redacted
        assert SUBJECT not in await page.content() and SUBJECT not in page.url
        await page.click("table.hits a.button:text('申请利用')")
        await page.wait_for_load_state()
        expected = f"/n/{VILLAGE}/requests/new?holder={HOLDER}&record={MARRIAGE.record_id}"
        assert page.url.endswith(expected)
        await _file(page, url, SUBJECT, "王秀英")
        await _state_becomes(page, "delivered")
        text = await page.inner_text("main")
        assert MARRIAGE.archival_code in text and "已送达" in text
        assert SUBJECT not in await page.content()
        assert "/content" in (await page.locator("a.button.content").get_attribute("href") or "")
        printed = await page.locator("a.button.print").get_attribute("href")
        assert printed and printed.endswith("/copy.pdf")
        answer = await page.request.get(url + printed)
        assert answer.status == 200 and (await answer.body()).startswith(b"%PDF")
    finally:
        await context.close()


async def test_an_archivist_approves_from_the_queue(
    browser: Any, site: tuple[Network, str]
) -> None:
    _, url = site
    clerk = await browser.new_context(locale="zh-CN", viewport=PHONE)
    archivist = await browser.new_context(locale="zh-CN")
    try:
        page = await clerk.new_page()
        await _login(page, url, VILLAGE, "clerk")
        request_id = await _file(page, url, STRANGER, "陈小明")
        desk = await archivist.new_page()
        await _login(desk, url, HOLDER, "archivist")
        for _ in range(150):
            await desk.goto(f"{url}/n/{HOLDER}/requests/queue")
            if await desk.locator(f"section[id='{request_id}']").count():
                break
            await desk.wait_for_timeout(100)
        item = desk.locator(f"section[id='{request_id}']")
        assert "身份证号码与档案当事人不符" in await item.inner_text()
        await item.locator("form.decide.inline button").click()
        await desk.wait_for_url(f"{url}/n/{HOLDER}/requests/queue?done=approved")
        assert await desk.locator(f"section[id='{request_id}']").count() == 0
        await _state_becomes(page, "delivered")
    finally:
        await clerk.close()
        await archivist.close()
