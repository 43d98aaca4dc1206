"""Catalogue sync on a real chain of five nodes, one host and gRPC listener each (loopback).

Push on change through four hops; a resent batch id answered from the stored
acknowledgement (also after the parent restarts) without applying anything twice; versions,
re-classification, closing, deletion and a change of holder reaching the province; a parent
down (the child serves its own records, queues, backs off persistently, catches up by
itself); backoff ended by a call from the parent; what operators see (stats, page, retry).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
import pytest_asyncio
from click.testing import CliRunner

from node.accounts import console_actor
from node.actors import Role
from node.cli import cli
from node.config import SyncSettings
from node.errors import NotFound
from node.federation.client import FederationClient
from node.federation.messages import PUSH, PushAck, PushBatch
from node.host import Host
from node.identity import parent_of
from node.records import Access, Record, SearchQuery, catalogue_entry

from .network import Network, browser_login, eventually, ingest, make_record, staff, tree

PASSWORD = "operator-password"

VILLAGE, TOWNSHIP, COUNTY, CITY, PROVINCE = (
    "330106001001",
    "330106001",
    "330106",
    "3301",
    "33",
)
CHAIN = (VILLAGE, TOWNSHIP, COUNTY, CITY, PROVINCE)
# A long timer: what arrives, arrives because a change woke the outbox. Short backoff, so a
# child catches up soon after its parent returns.
SYNC = SyncSettings(
    interval_s=600.0,
    call_timeout_s=3.0,
    fetch_timeout_s=10.0,
    batch_size=50,
    debounce_s=0.01,
    backoff_start_s=0.2,
    backoff_cap_s=1.0,
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(
        tmp_path_factory.mktemp("sync"), tree(PROVINCE, CITY, COUNTY, TOWNSHIP, VILLAGE), sync=SYNC
    )
    yield network
    await network.stop()


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def stop(net: Network, code: str) -> None:
    await net.hosts[code].stop()


async def start_again(net: Network, code: str) -> None:
    """A new host for ``code`` on the same port and data (after ``stop``)."""
    host = Host(net.hosts[code].settings)
    await host.start()
    net.hosts[code] = host


async def restart(net: Network, code: str) -> None:
    await stop(net, code)
    await start_again(net, code)


async def held_at(net: Network, code: str, record: Record) -> int:
    """The version of ``record``'s entry in ``code``'s catalogue (0: none)."""
    try:
        return (await net.node(code).parts.catalogue.get(record.holder, record.record_id)).version
    except NotFound:
        return 0


async def everywhere(net: Network, record: Record, above: tuple[str, ...] = CHAIN) -> bool:
    versions = [await held_at(net, code, record) for code in above]
    return all(v == record.version for v in versions)


async def test_a_new_village_record_reaches_the_province_on_change(net: Network) -> None:
    item = make_record(VILLAGE, 1, title="金鱼井社区王秀英出生登记", category="户籍")
    await ingest(net.service(VILLAGE), [item])
    # the scheduled push is ten minutes away: only push-on-change can carry it
    await eventually(lambda: everywhere(net, item[0]))
    page = await net.service(PROVINCE).search.search(SearchQuery(text="王秀英", scope=VILLAGE))
    assert [h.record_id for h in page.hits] == [item[0].record_id]

    async def links_record_success() -> bool:
        # a child records the acknowledgement just after its parent applied the batch
        links = [(await net.service(code).sync.sync_status()).links[0] for code in CHAIN[:-1]]
        return all(link.last_success_at is not None and link.failures == 0 for link in links)

    await eventually(links_record_success)
    county = await net.service(COUNTY).sync.sync_status()
    assert [c.child for c in county.children] == [TOWNSHIP]


async def test_versions_reclassification_closing_deletion_travel_up(net: Network) -> None:
    open_record, data = make_record(
        VILLAGE, 2, title="李建国、张丽结婚登记审查处理表", subjects=("李建国", "张丽")
    )
    gone, gone_data = make_record(VILLAGE, 3, title="赵军户口迁移证明", category="户籍")
    await ingest(net.service(VILLAGE), [(open_record, data), (gone, gone_data)])
    await eventually(lambda: everywhere(net, open_record))
    province = net.service(PROVINCE)
    assert (await province.search.search(SearchQuery(text="李建国"))).total == 1

    # re-classified open -> controlled: the redacted entry replaces the open one everywhere
    controlled = open_record.next_version(access=Access.CONTROLLED, subjects=())
    await net.service(VILLAGE).ingest.ingest([controlled], actor=console_actor("test"))
    await eventually(lambda: everywhere(net, controlled))
    entry = await net.node(PROVINCE).parts.catalogue.get(VILLAGE, controlled.record_id)
    assert entry.access == Access.CONTROLLED and "李建国" not in entry.title
    assert (await province.search.search(SearchQuery(text="李建国"))).total == 0

    # closed: its entry leaves every catalogue above, leaving a tombstone with no text
    closed = controlled.next_version(access=Access.CLOSED)
    deleted = gone.next_version(deleted=True)
    await net.service(VILLAGE).ingest.ingest([closed, deleted], actor=console_actor("test"))
    await eventually(lambda: everywhere(net, closed))
    await eventually(lambda: everywhere(net, deleted))
    for code in CHAIN[1:]:
        catalogue = net.node(code).parts.catalogue
        for record in (closed, deleted):
            tombstone = await catalogue.get(VILLAGE, record.record_id)
            assert tombstone.deleted and not tombstone.title and not tombstone.subject_index
    everything = await province.search.search(SearchQuery(scope=VILLAGE, limit=200))
    assert {h.record_id for h in everything.hits}.isdisjoint({closed.record_id, deleted.record_id})
    assert (await province.search.search(SearchQuery(text="赵军"))).total == 0


async def test_three_quick_versions_end_with_the_newest(net: Network) -> None:
    first, data = make_record(VILLAGE, 4, title="土地承包合同（第一版）", category="土地承包")
    second = first.next_version(title="土地承包合同（第二版）")
    third = second.next_version(title="土地承包合同（第三版）")
    service = net.service(VILLAGE)
    await ingest(service, [(first, data)])
    await service.ingest.ingest([second], actor=console_actor("test"))
    await service.ingest.ingest([third], actor=console_actor("test"))
    await eventually(lambda: everywhere(net, third))
    entry = await net.node(PROVINCE).parts.catalogue.get(VILLAGE, third.record_id)
    assert entry.title == "土地承包合同（第三版）"


async def test_a_change_of_holder_travels_as_new_versions(net: Network) -> None:
    # The village hands a record over to its township (进馆): the village's entry becomes a
    # tombstone (a new version), the township's a new entry; the province ends with one.
    record, data = make_record(
        VILLAGE, 5, title="金鱼井社区退役军人陈静安置审批表", category="退役军人"
    )
    await ingest(net.service(VILLAGE), [(record, data)])
    await eventually(lambda: everywhere(net, record))
    moved = replace(record, holder=TOWNSHIP, version=1)
    await ingest(net.service(TOWNSHIP), [(moved, data)])
    handed_over = record.next_version(deleted=True)
    await net.service(VILLAGE).ingest.ingest([handed_over], actor=console_actor("test"))
    await eventually(lambda: everywhere(net, handed_over))
    await eventually(lambda: everywhere(net, moved, CHAIN[1:]))
    page = await net.service(PROVINCE).search.search(SearchQuery(text="陈静安置"))
    assert [(h.holder, h.version) for h in page.hits] == [(TOWNSHIP, 1)]


async def test_a_resent_batch_id_gets_the_stored_ack_even_after_a_restart(net: Network) -> None:
    township = net.node(TOWNSHIP)
    await eventually(lambda: _idle(net, TOWNSHIP))
    await township.pusher.stop()  # we play the outbox by hand for this link
    try:
        items = [
            make_record(TOWNSHIP, 10 + i, title=f"北山街道学籍卡{i}", category="学籍")
            for i in range(3)
        ]
        await ingest(net.service(TOWNSHIP), items)
        county_log = net.node(COUNTY).parts.changelog
        head_before = await county_log.head()
        cursor = await township.parts.peers.get_cursor(COUNTY)
        rows = await township.parts.changelog.entries_after(cursor, 100)
        batch = PushBatch(
            batch_id=f"{TOWNSHIP}:{cursor}-{rows[-1][0]}",
            from_seq=cursor,
            to_seq=rows[-1][0],
            entries=tuple(e for _, e in rows),
        )
        first = await _push(township.parts, batch)
        assert (first.cursor, first.applied) == (batch.to_seq, 3)
        # the same batch again, in a new call (a new transaction): the stored answer
        assert await _push(township.parts, batch) == first
        assert await county_log.head() == head_before + 3
        # the parent restarts; the acknowledgement is on its disk, and nothing doubles
        await restart(net, COUNTY)
        assert await _push(township.parts, batch) == first
        assert await net.node(COUNTY).parts.changelog.head() == head_before + 3
        assert await net.node(COUNTY).parts.catalogue.count(
            TOWNSHIP
        ) == await township.parts.catalogue.count(TOWNSHIP)
    finally:
        await township.pusher.start()
    # the outbox never stored that cursor: it resends the window under the same id, gets
    # the stored acknowledgement, and moves on; the records travel up from the county
    await eventually(lambda: _idle(net, TOWNSHIP))
    assert await township.parts.peers.get_cursor(COUNTY) == batch.to_seq
    assert await net.node(COUNTY).parts.changelog.head() == head_before + 3
    item = items[0][0]
    await eventually(lambda: everywhere(net, item, CHAIN[1:]))


async def test_parent_down_child_serves_queues_backs_off_and_catches_up(net: Network) -> None:
    await stop(net, COUNTY)
    try:
        item = make_record(TOWNSHIP, 20, title="北山街道知青孙伟返城安置批复", category="知青")
        await ingest(net.service(TOWNSHIP), [item])
        # the township still answers for its own subtree
        page = await net.service(TOWNSHIP).search.search(SearchQuery(text="孙伟", scope=TOWNSHIP))
        assert page.total == 1 and page.answered_by == TOWNSHIP
        peers = net.node(TOWNSHIP).parts.peers
        await eventually(lambda: _failures_at_least(net, TOWNSHIP, 2))
        state = await peers.get(COUNTY)
        assert state.last_error and state.next_attempt_at is not None
        link = (await net.service(TOWNSHIP).sync.sync_status()).links[0]
        assert link.lag >= 1 and link.state == "backoff" and link.lag_s >= 0
        # the township restarts while its parent is still down: the backoff carries over
        failures = state.failures
        await restart(net, TOWNSHIP)
        assert net.node(TOWNSHIP).pusher.failures >= failures
    finally:
        await start_again(net, COUNTY)
    await eventually(lambda: everywhere(net, item[0], CHAIN[1:]))
    state = await net.node(TOWNSHIP).parts.peers.get(COUNTY)
    assert state.failures == 0 and state.next_attempt_at is None


async def test_a_call_from_the_parent_ends_the_backoff(net: Network) -> None:
    township = net.node(TOWNSHIP)
    await eventually(lambda: _idle(net, TOWNSHIP))
    await _greeted(net, COUNTY)  # the county's heartbeats at its start have arrived
    await township.pusher.stop()
    # as if the county had been unreachable for a long time: next attempt in an hour
    await township.parts.peers.record_failure(COUNTY, "测试：上级不可达", 9, time.time() + 3600)
    await township.pusher.start()
    item, data = make_record(TOWNSHIP, 30, title="北山街道社保缴费记录", category="社保")
    await ingest(net.service(TOWNSHIP), [(item, data)])
    await asyncio.sleep(0.3)  # a change does not end a backoff
    assert (await township.parts.peers.get(COUNTY)).failures == 9
    assert await held_at(net, COUNTY, item) == 0
    # the county calls the township (a fetch): a verified call from the parent
    fetched = await net.service(COUNTY).retrieval.fetch(TOWNSHIP, item.record_id)
    assert b"".join([c async for c in fetched.chunks]) == data
    await eventually(lambda: everywhere(net, item, CHAIN[1:]))
    state = await township.parts.peers.get(COUNTY)
    assert state.failures == 0 and state.next_attempt_at is None


async def test_a_parent_that_restarts_ends_its_childrens_backoff(net: Network) -> None:
    """The county restarts while the township waits out a long backoff: the county's first
    call after its start (a heartbeat to each child) ends the wait, with nobody retrying."""
    township = net.node(TOWNSHIP)
    await eventually(lambda: _idle(net, TOWNSHIP))
    await eventually(lambda: _one_directory(net))  # no announcement still on its way
    await stop(net, COUNTY)
    item, data = make_record(TOWNSHIP, 31, title="北山街道低保审批记录", category="社保")
    await ingest(net.service(TOWNSHIP), [(item, data)])
    await eventually(lambda: _failed(net, TOWNSHIP))
    await township.pusher.stop()
    # as if the county had been down for long: the next attempt is an hour away
    await township.parts.peers.record_failure(COUNTY, "测试：上级不可达", 9, time.time() + 3600)
    await township.pusher.start()
    await start_again(net, COUNTY)
    await eventually(lambda: everywhere(net, item, CHAIN[1:]))
    state = await township.parts.peers.get(COUNTY)
    assert state.failures == 0 and state.next_attempt_at is None


async def _one_directory(net: Network) -> bool:
    versions = {net.node(code).keeper.head.version for code in CHAIN}
    return len(versions) == 1


async def _greeted(net: Network, code: str) -> None:
    greeting = net.node(code).keeper.greeting
    assert greeting is not None
    await asyncio.wait_for(asyncio.shield(greeting), 10)


async def _failed(net: Network, code: str) -> bool:
    return (await net.node(code).parts.peers.get(parent_of(code) or "")).failures > 0


async def test_operators_see_links_and_can_force_a_retry(net: Network) -> None:
    await eventually(lambda: _idle(net, VILLAGE))
    url = net.hosts[VILLAGE].listening.web_url
    runner = CliRunner()
    token = await staff(net.service(VILLAGE), "ops", Role.OPERATOR, password=PASSWORD)
    province_token = await staff(net.service(PROVINCE), "ops", Role.OPERATOR)

    def run(*args: str, token: str = token):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--api", url, "--token", token, *args], catch_exceptions=False)

    result = await asyncio.to_thread(run, "stats", "--as", VILLAGE)
    assert result.exit_code == 0, result.output
    assert TOWNSHIP in result.output and "已同步" in result.output
    result = await asyncio.to_thread(run, "stats", "--as", VILLAGE, "--json")
    status = json.loads(result.output)
    [link] = status["links"]
    assert link["peer"] == TOWNSHIP and link["lag"] == 0 and link["cursor"] == link["head"] > 0
    result = await asyncio.to_thread(run, "sync", "retry", "--as", VILLAGE)
    assert result.exit_code == 0 and TOWNSHIP in result.output
    result = await asyncio.to_thread(run, "sync", "retry", "--as", VILLAGE, "330106002")
    assert result.exit_code != 0 and "不是" in result.output
    province_url = net.hosts[PROVINCE].listening.web_url
    result = await asyncio.to_thread(
        runner.invoke, cli,
        ["--api", province_url, "--token", province_token, "sync", "retry", "--as", PROVINCE],
    )  # fmt: skip
    assert result.exit_code != 0 and "没有上级" in result.output
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{url}/n/{VILLAGE}/status") as response:
            assert response.url.path == f"/n/{VILLAGE}/login"  # nobody logged in yet
        csrf = await browser_login(session, url, VILLAGE, "ops", PASSWORD)
        async with session.get(f"{url}/n/{VILLAGE}/status") as response:
            page = await response.text()
        assert response.status == 200 and "目录同步状态" in page and TOWNSHIP in page
        province = {"Authorization": f"Bearer {province_token}"}
        async with session.get(
            f"{province_url}/api/v1/nodes/{PROVINCE}/sync", headers=province
        ) as response:
            body = await response.json()
        assert body["links"] == [] and body["children"][0]["child"] == CITY
        retry = f"{url}/n/{VILLAGE}/status/retry"
        async with session.post(
            retry, data={"csrf": csrf}, headers={"Origin": "http://evil.example"}
        ) as response:
            assert response.status == 403
        async with session.post(retry, data={"csrf": csrf}, headers={"Origin": url}) as response:
            assert response.status == 200 and response.url.path == f"/n/{VILLAGE}/status"


async def test_an_older_version_pushed_late_changes_nothing(net: Network) -> None:
    """Last in the module: a hand-made batch moves the township's cursor at the county."""
    record, data = make_record(TOWNSHIP, 40, title="北山街道房屋所有权登记", category="房产")
    newer = record.next_version(title="北山街道房屋所有权登记（更正）")
    await ingest(net.service(TOWNSHIP), [(record, data)])
    await net.service(TOWNSHIP).ingest.ingest([newer], actor=console_actor("test"))
    await eventually(lambda: everywhere(net, newer, CHAIN[1:]))
    county_head = await net.node(COUNTY).parts.changelog.head()
    cursor = await net.node(COUNTY).parts.catalogue.child_cursor(TOWNSHIP)
    old_entry = catalogue_entry(record, "北山街道档案室")
    assert old_entry is not None
    stale = PushBatch(f"{TOWNSHIP}:stale", cursor, cursor + 1, (old_entry,))
    ack = await _push(net.node(TOWNSHIP).parts, stale)
    assert ack.applied == 0
    assert await held_at(net, COUNTY, newer) == 2
    assert await net.node(COUNTY).parts.changelog.head() == county_head


async def _push(parts, batch: PushBatch) -> PushAck:  # type: ignore[no-untyped-def]
    reply = await FederationClient(parts).call(
        PUSH, parent_code(parts.code), parts.codec.encode(batch)
    )
    return parts.codec.decode(PushAck, reply.payload)


def parent_code(code: str) -> str:
    parent = parent_of(code)
    assert parent
    return parent


async def _idle(net: Network, code: str) -> bool:
    links = (await net.service(code).sync.sync_status()).links
    return all(link.lag == 0 for link in links)


async def _failures_at_least(net: Network, code: str, n: int) -> bool:
    return (await net.node(code).parts.peers.get(parent_code(code))).failures >= n
