"""Staff login on a real host (real aiohttp listener, real SQLite): the form, the pause after
failed logins, the idle timeout with the node's clock moved (nothing sleeps), logout, a token
for the API, and no password in the log."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from node.actors import Role

from .network import CSRF_FIELD, Network, browser_login, staff, tree

CODE = "33"
PASSWORD = "a province password"


class Clock:
    now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[Network, str, Clock]]:
    net = await Network.start(tmp_path, tree(CODE))
    clock = Clock()
    net.node(CODE).accounts.clock = clock
    await staff(net.service(CODE), "wang", Role.OPERATOR, password=PASSWORD)
    listening = net.hosts[CODE].listening
    assert listening is not None
    yield net, listening.web_url, clock
    await net.stop()


def _browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _try(http: aiohttp.ClientSession, url: str, password: str) -> aiohttp.ClientResponse:
    async with http.get(f"{url}/n/{CODE}/login") as form:
        token = CSRF_FIELD.findall(await form.text())[-1]
    fields = {"name": "wang", "password": password, "csrf": token}
    async with http.post(f"{url}/n/{CODE}/login", data=fields, headers={"Origin": url}) as r:
        await r.read()
        return r


@pytest.mark.asyncio
async def test_failed_logins_pause_and_the_page_says_until_when(
    site: tuple[Network, str, Clock], caplog: pytest.LogCaptureFixture
) -> None:
    _, url, clock = site
    with caplog.at_level(logging.DEBUG):
        async with _browser() as http:
            for _ in range(4):
                assert (await _try(http, url, "wrong password!")).status == 401
            paused = await _try(http, url, "wrong password!")
            assert paused.status == 429 and int(paused.headers["Retry-After"]) == 900
            assert (await _try(http, url, PASSWORD)).status == 429  # even the right one
            clock.now += 901
            assert (await _try(http, url, PASSWORD)).status == 200  # after the redirect
    assert PASSWORD not in caplog.text and "wrong password!" not in caplog.text
    assert "failed login" in caplog.text  # what is logged instead: who, where, from where


@pytest.mark.asyncio
async def test_a_session_times_out_when_idle_and_ends_at_logout(
    site: tuple[Network, str, Clock],
) -> None:
    _, url, clock = site
    async with _browser() as http:
        csrf = await browser_login(http, url, CODE, "wang", PASSWORD)
        async with http.get(f"{url}/n/{CODE}/registry") as page:
            assert page.status == 200 and "wang" in await page.text()
        clock.now += 1801  # accounts.session_idle is 30 minutes
        async with http.get(f"{url}/n/{CODE}/registry") as page:
            assert page.url.path == f"/n/{CODE}/login"
        csrf = await browser_login(http, url, CODE, "wang", PASSWORD)
        async with http.post(
            f"{url}/n/{CODE}/logout", data={"csrf": csrf}, headers={"Origin": url}
        ) as done:
            assert done.url.path == f"/n/{CODE}/"
        async with http.get(f"{url}/n/{CODE}/registry") as page:
            assert page.url.path == f"/n/{CODE}/login"


@pytest.mark.asyncio
async def test_the_api_takes_a_token_and_refuses_a_foreign_host(
    site: tuple[Network, str, Clock],
) -> None:
    net, url, _ = site
    token = await staff(net.service(CODE), "script", Role.OPERATOR)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/api/v1/nodes/{CODE}/registry") as nobody:
            assert nobody.status == 401
        auth = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{url}/api/v1/nodes/{CODE}/registry", headers=auth) as ok:
            assert ok.status == 200 and (await ok.json())["node"] == CODE
        rebinding = {**auth, "Host": "attacker.example"}
        async with http.get(f"{url}/api/v1/nodes/{CODE}/registry", headers=rebinding) as r:
            assert r.status == 403
        async with http.get(f"{url}/api/v1/nodes/{CODE}/session", headers=auth) as me:
            assert await me.json() == {"account": "script", "node": CODE, "roles": ["operator"]}
