"""Appraisal on a real five-tier network: records due for opening or disposal are listed by
the job, nothing changes until an archivist decides (API, page with CSRF, CLI), each
decision is audited, and the new version reaches every catalogue above and every level's
OAI-PMH feed: an opened record with its real title, a disposed one as a tombstone that keeps
its 档号 and the decision.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from click.testing import CliRunner

from node import crypto
from node.actors import Role
from node.audit import AuditQuery
from node.cli import cli
from node.errors import InvalidInput
from node.records import Access, ArchivalCode, ContentFile, Record, Retention

from .network import Network, browser_login, eventually, ingest, staff, tree

pytestmark = pytest.mark.asyncio(loop_scope="module")
VILLAGE = "330106001001"
ABOVE = ("330106001", "330106", "3301", "33")
PASSWORD = "an archivist password"


def record(
    n: int, year: int, access: Access, retention: Retention, title: str
) -> tuple[Record, bytes]:
    data = f"{n} {title}".encode()
    code = ArchivalCode("J001", "SB", year, retention, n)
    return Record(
        holder=VILLAGE, record_id=f"A-{n:04d}", archival_code=str(code), fonds="J001",
        category="社保", year=year, retention=retention, title=title, creator="村委会",
        date=f"{year}-03-01", access=access, subjects=("王五",),
        files=(ContentFile(f"{n}.txt", crypto.sha256_hex(data), len(data), "text/plain"),),
    ), data  # fmt: skip


RECORDS = [
    record(1, 1990, Access.CONTROLLED, Retention.PERMANENT, "王五社保缴费记录"),  # opening due
    record(2, 1991, Access.CLOSED, Retention.PERMANENT, "村级社保台账"),  # opening due
    record(3, 2015, Access.CONTROLLED, Retention.PERMANENT, "近年社保记录"),  # not yet
    record(4, 2005, Access.OPEN, Retention.YEARS_10, "临时通知"),  # disposal due
    record(5, 2005, Access.OPEN, Retention.PERMANENT, "永久保管的通知"),  # never disposed
]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Network, str]]:
    net = await Network.start(
        tmp_path_factory.mktemp("appraisal"), tree("33", "3301", *ABOVE[:2], VILLAGE),
        one_process=True,
    )  # fmt: skip
    await ingest(net.service(VILLAGE), RECORDS)
    await staff(net.service(VILLAGE), "li", Role.ARCHIVIST, password=PASSWORD)
    listening = net.hosts[VILLAGE].listening
    assert listening is not None
    yield net, listening.web_url
    await net.stop()


async def reaches_every_catalogue(net: Network, record_id: str, version: int) -> None:
    async def everywhere() -> bool:
        for code in ABOVE:
            entry = await net.node(code).parts.catalogue.get(VILLAGE, record_id)
            if entry.version != version:
                return False
        return True

    await eventually(everywhere, timeout=20)


async def oai_get(web: str, code: str, record_id: str) -> str:
    params = {"verb": "GetRecord", "metadataPrefix": "oai_dc",
              "identifier": f"oai:archive-node:{VILLAGE}/{record_id}"}  # fmt: skip
    async with aiohttp.ClientSession() as http, http.get(f"{web}/n/{code}/oai", params=params) as r:
        return await r.text()


async def test_the_job_lists_what_is_due_and_changes_nothing(net: tuple[Network, str]) -> None:
    network, _ = net
    village = network.node(VILLAGE)
    report = await village.appraisal.run_scheduled()  # the APScheduler job's body
    assert (report.opening, report.disposal) == (2, 1)
    again = await village.appraisal.run_scheduled()
    assert (again.opening, again.disposal) == (0, 0)  # listed once
    opening = await village.appraisal.pending("opening")
    assert [i.record_id for i in opening.items] == ["A-0001", "A-0002"]
    assert opening.items[0].due == "2015-03-01"  # formed 1990-03-01, + 25 years
    disposal = await village.appraisal.pending("disposal")
    assert [i.record_id for i in disposal.items] == ["A-0004"]
    # nothing opened or destroyed by itself
    for r, _ in RECORDS:
        stored = await village.parts.records.get(r.record_id)
        assert stored.version == 1 and stored.access == r.access and not stored.deleted


async def test_an_opening_travels_to_every_catalogue_and_feed(net: tuple[Network, str]) -> None:
    network, web = net
    token = await staff(network.service(VILLAGE), "zhao", Role.ARCHIVIST)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        url = f"{web}/api/v1/nodes/{VILLAGE}/appraisal/open"
        async with http.post(url, json={"kind": "opening", "records": "A-0001"}) as r:
            assert r.status == 400 and "理由" in (await r.json())["error"]["message"]
        body = {"kind": "opening", "records": "A-0001", "reason": "已满25年，经审查可以开放"}
        async with http.post(url, json=body) as r:
            assert r.status == 200, await r.text()
        async with http.post(url, json=body) as r:  # decided already
            assert r.status == 400 and "清单" in (await r.json())["error"]["message"]
    await reaches_every_catalogue(network, "A-0001", 2)
    for code in ABOVE:
        entry = await network.node(code).parts.catalogue.get(VILLAGE, "A-0001")
        assert entry.access == Access.OPEN and entry.title == "王五社保缴费记录"
        assert entry.subjects == ("王五",)  # names appear once the record is open
        assert "王五社保缴费记录" in await oai_get(web, code, "A-0001")
    audit = await network.node(VILLAGE).parts.audit.page(AuditQuery(act="appraisal.open"))
    (entry,) = audit.entries
    assert entry.subject == f"{VILLAGE}/A-0001" and "已满25年" in str(entry.detail)
    assert "zhao" in entry.actor


async def test_a_disposal_from_the_page_leaves_a_tombstone(net: tuple[Network, str]) -> None:
    network, web = net
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        csrf = await browser_login(http, web, VILLAGE, "li", PASSWORD)
        async with http.get(f"{web}/n/{VILLAGE}/appraisal?kind=disposal") as page:
            text = await page.text()
            assert page.status == 200 and "临时通知" in text and 'value="A-0004"' in text
        form = {"kind": "disposal", "record": "A-0004", "decision": "dispose",
                "reason": "保管期限已满，无保存价值"}  # fmt: skip
        async with http.post(f"{web}/n/{VILLAGE}/appraisal", data=form,
                             headers={"Origin": web}) as refused:  # fmt: skip
            assert refused.status == 403  # no CSRF token
        async with http.post(f"{web}/n/{VILLAGE}/appraisal", data={**form, "csrf": csrf},
                             headers={"Origin": web}) as done:  # fmt: skip
            assert done.status == 200 and "已销毁 1 件" in await done.text()
    stored = await network.node(VILLAGE).parts.records.get("A-0004")
    assert stored.deleted and "无保存价值" in stored.disposal
    await reaches_every_catalogue(network, "A-0004", 2)
    for code in ABOVE:
        tombstone = await network.node(code).parts.catalogue.get(VILLAGE, "A-0004")
        assert tombstone.deleted and tombstone.archival_code == "J001-SB·2005-D10-0004"
        assert "鉴定销毁：保管期限已满，无保存价值" in tombstone.disposal
        assert not tombstone.title and not tombstone.subjects
        assert 'status="deleted"' in await oai_get(web, code, "A-0004")


async def test_the_cli_keeps_a_record_closed(net: tuple[Network, str]) -> None:
    network, web = net
    token = await staff(network.service(VILLAGE), "sun", Role.ARCHIVIST)
    base = ["--api", web, "--token", token, "appraisal"]

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, [*base, *args])
        return result.exit_code, result.output

    code, out = await asyncio.to_thread(run, "list", "--as", VILLAGE)
    assert code == 0 and "A-0002" in out and "A-0001" not in out
    code, out = await asyncio.to_thread(
        run, "keep", "--as", VILLAGE, "--reason", "涉及个人隐私，暂不开放", "A-0002"
    )
    assert code == 0 and "已维持现状 1 件" in out, out
    code, out = await asyncio.to_thread(run, "list", "--as", VILLAGE, "--json")
    assert code == 0 and '"total": 0' in out
    stored = await network.node(VILLAGE).parts.records.get("A-0002")
    assert stored.access == Access.CLOSED and stored.version == 1
    code, out = await asyncio.to_thread(
        run, "dispose", "--as", VILLAGE, "--kind", "opening", "--reason", "x", "A-0003"
    )
    assert code != 0 and re.search("开放鉴定清单上可以", out), out


async def test_a_clerk_may_not_decide_and_bad_batches_are_refused(
    net: tuple[Network, str],
) -> None:
    network, web = net
    token = await staff(network.service(VILLAGE), "qian", Role.CLERK)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        url = f"{web}/api/v1/nodes/{VILLAGE}/appraisal/open"
        body = {"kind": "opening", "records": "A-0003", "reason": "x"}
        async with http.post(url, json=body) as r:
            assert r.status == 403
    service = network.node(VILLAGE).appraisal
    archivist = network.node(VILLAGE).services.accounts
    actor = await archivist.token_actor(await staff(network.service(VILLAGE), "wu", Role.ARCHIVIST))
    for kind, ids, reason in (
        ("opening", ["A-0003"], "not on the list"),  # formed 2015: not due
        ("nonsense", ["A-0001"], "x"),
        ("opening", [], "x"),
        ("opening", [f"R{i}" for i in range(501)], "x"),
    ):
        with pytest.raises(InvalidInput):
            await service.decide("open", kind, ids, reason, actor=actor)
    assert (await network.node(VILLAGE).parts.records.get("A-0003")).version == 1


async def test_every_hosted_node_has_its_appraisal_job(net: tuple[Network, str]) -> None:
    network, _ = net
    host = network.hosts[VILLAGE]
    jobs = {job.id: job for job in host.scheduler.get_jobs()}
    for code in (VILLAGE, *ABOVE):
        job = jobs[f"appraisal:{code}"]
        assert job.trigger.interval.total_seconds() == 86400  # [appraisal] interval
        assert job.func == network.node(code).appraisal.run_scheduled
