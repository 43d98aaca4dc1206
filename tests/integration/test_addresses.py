"""A node's certified address (issue 14): a child whose certificate names an address that
answers as another node is reported at its parent (status and audit), and a node moves to
another address by a renewal its parent grants and logs.

Real hosts on loopback (``node.simulate``): the county's certificate is renewed naming the
city's own listener, as an ``init`` that applied with the listen address did before, so the
city's announcements to the county land on the city's own listener ("no node hosted here
takes calls for '330106'"); then the county's ``advertise`` is set right and renewed again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from node.actors import Role
from node.audit import Act, AuditQuery

from .network import Network, eventually, staff, tree

CITY, COUNTY = "3301", "330106"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("addr"), tree("33", CITY, COUNTY))
    yield network
    await network.stop()


async def _move(net: Network, address: str) -> None:
    """The county's node.toml says ``address``; its upkeep renews; the city learns it."""
    county = net.node(COUNTY)
    county.keeper.credentials.advertise = address
    assert county.keeper.credentials.address_changed()
    assert await county.keeper.credentials.renew_if_due()
    assert county.parts.signer.chain[0].address == address
    assert not county.keeper.credentials.address_changed()

    async def city_knows() -> bool:
        await net.node(CITY).keeper.directory.refresh_logged()
        certs = net.node(CITY).keeper.state.current(COUNTY)
        return bool(certs) and certs[-1].address == address

    await eventually(city_knows)


async def _entries(net: Network, code: str, act: str) -> list[dict[str, object]]:
    page = await net.service(code).audit.entries(AuditQuery(act=act, limit=50))
    return [e.details for e in page.entries]


async def test_a_child_whose_address_answers_as_another_is_reported_then_moves(
    net: Network,
) -> None:
    right = net.node(COUNTY).parts.signer.chain[0].address
    city_address = net.node(CITY).parts.signer.chain[0].address
    await _move(net, city_address)  # wrong: the city's own listener
    renewed = await _entries(net, CITY, Act.CHILD_RENEWED)
    assert any(d.get("previous_address") == right for d in renewed), renewed

    city = net.node(CITY).keeper
    await city.directory.announce()
    problems = (await net.service(CITY).trust.overview()).child_address_problems
    assert COUNTY in problems and city_address in problems[COUNTY]
    assert "no node hosted here" in problems[COUNTY]
    assert "下级节点地址有误" in await _registry_page(net) and COUNTY in await _registry_page(net)
    await city.directory.announce()  # seen again: logged, but one audit entry per address
    flagged = await _entries(net, CITY, Act.CHILD_ADDRESS)
    assert [d["address"] for d in flagged] == [city_address]

    await _move(net, right)  # the operator corrects advertise: the next renewal fixes it
    await city.directory.announce()
    assert (await net.service(CITY).trust.overview()).child_address_problems == {}
    assert "下级节点地址有误" not in await _registry_page(net)


async def _registry_page(net: Network) -> str:
    """The city's registry page, as its operator sees it."""
    global _TOKEN
    if not _TOKEN:
        _TOKEN = await staff(net.service(CITY), "ops", Role.OPERATOR)
    listening = net.hosts[CITY].listening
    assert listening is not None
    headers = {"Authorization": f"Bearer {_TOKEN}"}
    url = f"{listening.web_url}/n/{CITY}/registry"
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        assert r.status == 200
        return await r.text()


_TOKEN = ""
