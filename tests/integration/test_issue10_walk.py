"""Issue 10's "done when", walked on the demo network's shape: the 16 nodes and sample records
of ``archive-node demo`` (``node.sample_data``), one host per node so that the holder's host
can be stopped, real gRPC on loopback, real SQLite files, the real CLI in a subprocess.

A clerk at the village service point 330106001001 finds 林秀英's controlled 婚姻登记 record,
held by 余杭区档案馆 (330110), by her identity number; files a request for her (本人); the
holder approves it by rule; the sealed content arrives; the PDF prints; ``archive-node verify``
accepts it with the root key and refuses it with one byte changed. With another person's
number the request waits in the holder's queue until the archivist approves it on the queue
page over HTTP. A closed record is refused as an unknown one is. A request filed while the
holder's host is down is delivered once it is started again. Each step is asserted in more
depth elsewhere (test_blind_index, test_requests, test_requests_outbox, test_copies_node);
here they are walked in order on the demo's own records.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from node.actors import Actor, ActorKind, Role
from node.citizens import IdNumber, check_character
from node.demo import DEMO_CITIZEN, DEMO_VILLAGE, demo_password, load_samples
from node.federation.request_rules import RULE_NO_MATCH, RULE_SELF
from node.host import Host
from node.records import Access, SearchQuery
from node.requests import Relationship, State
from node.requests import Role as RequestRole
from node.sample_data import DEMO_NETWORK, sample_records

from .network import Network, browser_login, eventually, index_keys_everywhere, staff

HOLDER = DEMO_CITIZEN.holder  # 330110, 余杭区档案馆
CLERK = Actor(ActorKind.ACCOUNT, "clerk", DEMO_VILLAGE, frozenset({Role.CLERK}))
STRANGER = IdNumber.parse("33010619801103451" + check_character("33010619801103451"))
UNKNOWN = "HY-1966-Y-0999"
CLI = [sys.executable, "-m", "node.cli"]
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


def closed_record_id() -> str:
    samples = sample_records(HOLDER, DEMO_CITIZEN.holder_name)
    return next(r.record_id for r, _ in samples if r.access == Access.CLOSED)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("walk"), DEMO_NETWORK)
    try:
        await index_keys_everywhere(network)  # the demo indexes its subjects' numbers blind
        for host in {id(h): h for h in network.hosts.values()}.values():
            await load_samples(host)  # as ``archive-node demo`` ingests its samples
        # the demo's accounts that this walk logs in with (password NAME-demo)
        await staff(network.service(DEMO_VILLAGE), "clerk", Role.CLERK,
                    password=demo_password("clerk"))  # fmt: skip
        await staff(network.service(HOLDER), "archivist", Role.ARCHIVIST,
                    password=demo_password("archivist"))  # fmt: skip
        await eventually(lambda: _knows(network, DEMO_VILLAGE, HOLDER), timeout=30)
        await eventually(lambda: _knows(network, HOLDER, DEMO_VILLAGE), timeout=30)
        yield network
    finally:
        await network.stop()


async def _knows(net: Network, at: str, code: str) -> bool:
    return bool(net.node(at).desk.directory.current(code))


async def file(net: Network, record_id: str, number: IdNumber, name: str) -> str:
    view = await net.service(DEMO_VILLAGE).requests.submit(
        HOLDER, record_id, name, number, Relationship.SELF, "办理退休手续", actor=CLERK
    )
    assert view.filed.state == State.SUBMITTED
    return view.filed.request_id


async def reaches(net: Network, code: str, request_id: str, state: State, timeout=40.0) -> None:  # type: ignore[no-untyped-def]
    async def check() -> bool:
        filed = await net.node(code).parts.requests.get(request_id)
        return filed is not None and filed.state == state

    await eventually(check, timeout=timeout)


def holders_content() -> bytes:
    samples = dict((r.record_id, d) for r, d in sample_records(HOLDER, DEMO_CITIZEN.holder_name))
    return samples[DEMO_CITIZEN.record_id]


async def cli_verify(pdf: Path, root_key: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "verify", str(pdf), "--root-key", str(root_key),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_the_clerk_finds_files_gets_prints_and_the_copy_verifies(
    net: Network, tmp_path: Path
) -> None:
    village = net.service(DEMO_VILLAGE)

    # 1. her name finds nothing controlled; her number finds the 1966 婚姻登记 at 余杭区档案馆
    async def found() -> bool:
        page = await village.search.search(
            SearchQuery(), actor=CLERK, id_number=DEMO_CITIZEN.id_number
        )
        return [h.ref for h in page.hits] == [DEMO_CITIZEN.ref]

    await eventually(found, timeout=60)  # the holder's catalogue has reached the province
    page = await village.search.search(SearchQuery(), actor=CLERK, id_number=DEMO_CITIZEN.id_number)
    hit = page.hits[0]
    assert (hit.category, hit.year, hit.access) == ("婚姻登记", 1966, Access.CONTROLLED)
    assert hit.holder_name == "余杭区档案馆" and DEMO_CITIZEN.name not in hit.title
    by_name = await village.search.search(SearchQuery(text=DEMO_CITIZEN.name), actor=CLERK)
    assert DEMO_CITIZEN.ref not in [h.ref for h in by_name.hits]
    # 2. the clerk files for her (本人); 3. approved by rule at the holder
    request_id = await file(net, DEMO_CITIZEN.record_id, DEMO_CITIZEN.id_number, DEMO_CITIZEN.name)
    await reaches(net, HOLDER, request_id, State.DELIVERED)
    held = await net.node(HOLDER).parts.requests.get(request_id)
    assert held is not None and held.rule == RULE_SELF
    # 4. the sealed content arrives, byte for byte the holder's
    await reaches(net, DEMO_VILLAGE, request_id, State.DELIVERED)
    content = await village.requests.content(request_id, actor=CLERK)
    got = b"".join([c async for c in content.chunks])
    assert got == holders_content()
    holder_blob = net.node(HOLDER).parts.blobs.path(content.content.sha256).read_bytes()
    assert got == holder_blob
    # 5. the PDF prints
    printed = await village.requests.copy_pdf(request_id, actor=CLERK)
    assert printed.pdf.startswith(b"%PDF-") and printed.code
    # 6. the real CLI, offline with the root public key: accepted; one byte changed: refused
    root_key = tmp_path / "root.pub"
    root_key.write_text(net.root.public_key.hex())
    pdf = tmp_path / "证明.pdf"
    pdf.write_bytes(printed.pdf)
    code, out = await cli_verify(pdf, root_key)
    assert code == 0 and "核验通过" in out and printed.code in out, out
    at = len(printed.pdf) // 2  # the page's drawing: the attachments still read back intact
    changed = tmp_path / "改过.pdf"
    changed.write_bytes(printed.pdf[:at] + bytes([printed.pdf[at] ^ 1]) + printed.pdf[at + 1 :])
    code, out = await cli_verify(changed, root_key)
    assert code == 1 and "核验未通过" in out and "在打印后被改动过" in out, out


async def test_another_persons_request_waits_and_the_archivist_approves_on_the_queue_page(
    net: Network,
) -> None:
    request_id = await file(net, DEMO_CITIZEN.record_id, STRANGER, "陈小明")
    await reaches(net, HOLDER, request_id, State.SUBMITTED)
    holder = net.service(HOLDER).requests
    archivist = Actor(ActorKind.ACCOUNT, "archivist", HOLDER, frozenset({Role.ARCHIVIST}))
    queue = await holder.list(RequestRole.INCOMING, (State.SUBMITTED,), actor=archivist)
    waiting = [v for v in queue.items if v.filed.request_id == request_id]
    assert waiting and waiting[0].filed.rule == RULE_NO_MATCH
    web_url = net.hosts[HOLDER].listening.web_url  # type: ignore[union-attr]
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        csrf = await browser_login(http, web_url, HOLDER, "archivist", demo_password("archivist"))
        async with http.get(f"{web_url}/n/{HOLDER}/requests/queue") as page:
            html = await page.text()
            assert page.status == 200 and request_id in html
        approve = f"{web_url}/n/{HOLDER}/requests/{request_id}/approve"
        fields = {"reason": "核实为当事人之子，同意", "csrf": csrf}
        async with http.post(approve, data={"reason": "x"}, headers={"Origin": web_url}) as bad:
            assert bad.status == 403  # no CSRF token: refused
        async with http.post(approve, data=fields, headers={"Origin": web_url}) as done:
            assert done.status == 200 and done.url.path == f"/n/{HOLDER}/requests/queue"
    await reaches(net, DEMO_VILLAGE, request_id, State.DELIVERED)
    held = await net.node(HOLDER).parts.requests.get(request_id)
    assert held is not None and held.rule == RULE_NO_MATCH  # delivered by the approval


async def test_a_closed_record_is_refused_as_an_unknown_one(net: Network) -> None:
    closed = closed_record_id()
    ids = [await file(net, r, DEMO_CITIZEN.id_number, DEMO_CITIZEN.name) for r in (closed, UNKNOWN)]
    for request_id in ids:
        await reaches(net, DEMO_VILLAGE, request_id, State.REJECTED)
    filed = [await net.node(DEMO_VILLAGE).parts.requests.get(r) for r in ids]
    reasons = [f.reason for f in filed if f is not None]
    assert len(reasons) == 2 and "不存在、已删除或不开放" in reasons[0]
    assert reasons[0].replace(closed, "X") == reasons[1].replace(UNKNOWN, "X")


async def test_a_request_filed_while_the_holder_is_down_is_delivered_when_it_returns(
    net: Network,
) -> None:
    stopped = net.hosts[HOLDER]
    await stopped.stop()
    try:
        request_id = await file(
            net, DEMO_CITIZEN.record_id, DEMO_CITIZEN.id_number, DEMO_CITIZEN.name
        )

        async def attempted() -> bool:
            items = await net.node(DEMO_VILLAGE).parts.requests.pending()
            return any(i.request_id == request_id and i.attempts >= 1 for i in items)

        await eventually(attempted, timeout=30)
        filed = await net.node(DEMO_VILLAGE).parts.requests.get(request_id)
        assert filed is not None and filed.state == State.SUBMITTED
    finally:
        host = Host(stopped.settings)
        await host.start()
        net.hosts[HOLDER] = host
    await reaches(net, DEMO_VILLAGE, request_id, State.DELIVERED, timeout=90)
    content = await net.service(DEMO_VILLAGE).requests.content(request_id, actor=CLERK)
    assert b"".join([c async for c in content.chunks]) == holders_content()
