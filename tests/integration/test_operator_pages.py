"""An operator revokes a township through the registry page's form on a real host (real
aiohttp listener, real SQLite, the real trust keeper): logged in by the login form, the form's
CSRF token and confirmation box, the notice by name, the directory holding the revocation;
a clerk's same form is refused and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.actors import Role
from node.sample_data.network import archive_name

from .network import CSRF_FIELD, Network, browser_login, eventually, staff, tree

COUNTY, TOWNSHIP = "330106", "330106001"
PASSWORD = "an operator's password"


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[Network, str]]:
    net = await Network.start(tmp_path, tree("33", "3301", COUNTY, TOWNSHIP), one_process=True)
    await staff(net.service(COUNTY), "wang", Role.OPERATOR, password=PASSWORD)
    await staff(net.service(COUNTY), "zhao", Role.CLERK, password=PASSWORD)
    listening = net.hosts[COUNTY].listening
    assert listening is not None
    yield net, listening.web_url
    await net.stop()


async def _known(net: Network, code: str) -> bool:
    """Whether the county's directory holds ``code``'s certificate; pulls it down if not (the
    township's certificate reaches the root registry as a report, then comes back down)."""
    if code not in net.node(COUNTY).keeper.state.certificates:
        for node in ("3301", COUNTY):
            await net.service(node).trust.refresh(actor=console_actor(node))
    return code in net.node(COUNTY).keeper.state.certificates


def _browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


@pytest.mark.asyncio
async def test_an_operator_revokes_a_township_through_the_page(
    site: tuple[Network, str],
) -> None:
    net, url = site
    registry = f"{url}/n/{COUNTY}/registry"
    fields = {"code": TOWNSHIP, "reason": "设备被盗", "confirm": "yes"}
    async with _browser() as http:
        csrf = await browser_login(http, url, COUNTY, "zhao", PASSWORD)
        async with http.post(
            f"{registry}/revocations", data={**fields, "csrf": csrf}, headers={"Origin": url}
        ) as refused:
            assert refused.status == 403 and "operator" in await refused.text()
    assert (TOWNSHIP, 0) not in net.node(COUNTY).keeper.state.revoked
    # the name shown comes from the township's certificate in the county's directory
    await eventually(lambda: _known(net, TOWNSHIP))
    async with _browser() as http:
        await browser_login(http, url, COUNTY, "wang", PASSWORD)
        async with http.get(registry) as page:
            text = await page.text()
            assert page.status == 200
            assert (
                f'<form class="revoke" method="post" action="/n/{COUNTY}/registry/revocations">'
                in text
            )
            csrf = CSRF_FIELD.findall(text)[-1]  # every form of the page carries the session's
        async with http.post(
            f"{registry}/revocations", data={**fields, "csrf": csrf}, headers={"Origin": url}
        ) as done:
            text = await done.text()
            assert done.status == 200 and done.url.path == f"/n/{COUNTY}/registry", text[:500]
    name = archive_name(TOWNSHIP)
    assert f'<p class="notice">已吊销 {TOWNSHIP}（{name}）' in text
    table = text.split('<table class="revoked">', 1)[1].split("</table>", 1)[0]
    assert f"<td>{TOWNSHIP}（{name}）</td>" in table and "设备被盗" in table
    revocation = net.node(COUNTY).keeper.state.revoked[(TOWNSHIP, 0)]
    assert revocation.by == COUNTY and revocation.reason == "设备被盗"
    listing = await net.service(COUNTY).trust.listing()
    assert [(r.code, r.name) for r in listing.revoked] == [(TOWNSHIP, name)]
