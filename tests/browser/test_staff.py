"""Staff at their node in a real browser: logging in, a failed login, an operator revoking a
node through the registry page, and a clerk who may not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from node.actors import Role
from node.simulate import Network, staff, tree

pytestmark = pytest.mark.asyncio(loop_scope="module")
COUNTY, TOWNSHIP = "330106", "330106002"
PASSWORDS = {"ops": "ops-password-1", "clerk": "clerk-password-1"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Network, str]]:
    data: Path = tmp_path_factory.mktemp("staff")
    net = await Network.start(data, tree("33", "3301", COUNTY, TOWNSHIP), one_process=True)
    try:
        county = net.service(COUNTY)
        await staff(county, "ops", Role.OPERATOR, password=PASSWORDS["ops"])
        await staff(county, "clerk", Role.CLERK, password=PASSWORDS["clerk"])
        host = net.hosts[COUNTY]
        assert host.listening is not None
        yield net, host.listening.web_url
    finally:
        await net.stop()


async def _login(page: Any, url: str, name: str, password: str) -> None:
    await page.goto(f"{url}/n/{COUNTY}/login")
    await page.fill("form.login input[name=name]", name)
    await page.fill("form.login input[name=password]", password)
    await page.click("form.login button[type=submit]")


async def test_a_clerk_logs_in_and_out(browser: Any, site: tuple[Network, str]) -> None:
    _, url = site
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    try:
        await _login(page, url, "clerk", PASSWORDS["clerk"])
        await page.wait_for_url(f"{url}/n/{COUNTY}/")
        assert "clerk" in await page.inner_text("header .who")
        cookies = {c["name"]: c for c in await context.cookies()}
        session = cookies[f"archive_session_{COUNTY}"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        await page.click("header .who button[type=submit]")  # 退出登录
        await page.wait_for_url(f"{url}/n/{COUNTY}/**")
        assert "工作人员登录" in await page.inner_text("header")
    finally:
        await context.close()


async def test_a_wrong_password_says_so_and_logs_nobody_in(
    browser: Any, site: tuple[Network, str]
) -> None:
    _, url = site
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    try:
        await _login(page, url, "ops", "not-the-password")
        alert = page.locator("p.error[role=alert]")
        await alert.wait_for()
        assert "账号或密码" in await alert.inner_text()
        assert f"archive_session_{COUNTY}" not in {c["name"] for c in await context.cookies()}
        await page.goto(f"{url}/n/{COUNTY}/registry")
        assert "/login" in page.url  # still nobody: sent to log in
    finally:
        await context.close()


async def test_an_operator_revokes_a_township_through_the_registry_page(
    browser: Any, site: tuple[Network, str]
) -> None:
    net, url = site
    county = net.node(COUNTY).keeper.directory
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    try:
        await _login(page, url, "ops", PASSWORDS["ops"])
        await page.wait_for_url(f"{url}/n/{COUNTY}/")
        await page.click(f"nav.node a[href='/n/{COUNTY}/registry']")
        form = page.locator("form.revoke")
        await form.locator("input[name=code]").fill(TOWNSHIP)
        await form.locator("input[name=reason]").fill("密钥失窃")
        await form.locator("button[type=submit]").click()
        # not confirmed: the browser's own check stops the form (the box is required)
        assert not county.state.revoked
        await form.locator("input[name=confirm]").check()
        await form.locator("button[type=submit]").click()
        notice = page.locator("p.notice")
        await notice.wait_for()
        assert f"已吊销 {TOWNSHIP}" in await notice.inner_text()
        assert TOWNSHIP in await page.inner_text("table.revoked")
        assert TOWNSHIP in {node for node, _serial in county.state.revoked}
    finally:
        await context.close()


async def test_a_clerk_may_not_open_the_registry(browser: Any, site: tuple[Network, str]) -> None:
    net, url = site
    revoked = dict(net.node(COUNTY).keeper.directory.state.revoked)
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    try:
        await _login(page, url, "clerk", PASSWORDS["clerk"])
        await page.wait_for_url(f"{url}/n/{COUNTY}/")
        response = await page.goto(f"{url}/n/{COUNTY}/registry")
        assert response is not None and response.status == 403
        text = await page.inner_text("main")
        assert "operator" in text and "角色" in text
        # and the revoke form's action, posted from the clerk's session, changes nothing
        posted = await page.evaluate(
            """async ([url, code]) => {
                const body = new URLSearchParams({code, reason: "x", confirm: "yes"});
                const r = await fetch(url, {method: "POST", body});
                return r.status;
            }""",
            [f"{url}/n/{COUNTY}/registry/revocations", "330106"],
        )
        assert posted in (400, 403)
        assert dict(net.node(COUNTY).keeper.directory.state.revoked) == revoked
    finally:
        await context.close()
