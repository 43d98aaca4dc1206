"""The clerk's service-point pages on a real network (issue 10, item 5: what a clerk meets).

One host per node, real gRPC between them, real SQLite: a 档号 typed in the query box finds
the record wherever it is held; a closed record's URL answers exactly as an unknown one; a
holder whose certificate was revoked, and one whose host is down, are explained by name
in Chinese, without the transport's own words. The last tests stop hosts: they run last.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.records import Access, SearchQuery

from .network import Network, eventually, ingest, make_record, tree

PROVINCE, CITY, COUNTY, HOLDER, BINJIANG = "33", "3301", "330106", "330110", "330108"
VILLAGE = "330106001001"
NODES = tree(PROVINCE, CITY, COUNTY, "330106001", VILLAGE, HOLDER, BINJIANG)
OPEN, OPEN_DATA = make_record(HOLDER, 1, title="王秀英、李建国结婚登记档案")
CONTROLLED, CONTROLLED_DATA = make_record(
    HOLDER, 2, title="王秀英社保缴费记录", category="社保", access=Access.CONTROLLED
)
CLOSED, CLOSED_DATA = make_record(
    HOLDER, 3, title="某房产登记", category="房产", access=Access.CLOSED
)
OTHER, OTHER_DATA = make_record(COUNTY, 5, title="张三结婚登记档案")  # another 档号
FAR, FAR_DATA = make_record(BINJIANG, 7, title="滨江区结婚登记档案")
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
# What a gRPC channel or a certificate check says in English: never in the clerk's sentence.
ENGLISH = re.compile(r"[A-Za-z]{3,}")
MESSAGE = re.compile(r'<p class="(?:error )?message"[^>]*>([^<]*)</p>')


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("clerk"), NODES)
    try:
        await ingest(
            network.service(HOLDER),
            [(OPEN, OPEN_DATA), (CONTROLLED, CONTROLLED_DATA), (CLOSED, CLOSED_DATA)],
        )
        await ingest(network.service(COUNTY), [(OTHER, OTHER_DATA)])
        await ingest(network.service(BINJIANG), [(FAR, FAR_DATA)])
        province = network.node(PROVINCE).parts.catalogue
        await eventually(lambda: _shared(province), timeout=30)
        yield network
    finally:
        await network.stop()


async def _shared(catalogue: object) -> bool:
    count = catalogue.count  # type: ignore[attr-defined]
    return (await count(HOLDER), await count(COUNTY), await count(BINJIANG)) == (2, 1, 1)


def _url(net: Network, code: str = VILLAGE) -> str:
    listening = net.hosts[code].listening
    assert listening is not None
    return listening.web_url


async def _get(url: str, **params: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, params=params) as response:
        return response.status, await response.text()


def _message(page: str) -> str:
    found = MESSAGE.search(page)
    assert found, page[-1500:]
    return found.group(1)


async def test_an_archival_code_typed_in_the_query_box_finds_the_record_across_the_network(
    net: Network,
) -> None:
    # typed with a dot and without padding; the record is four hops away, the province answers
    status, page = await _get(f"{_url(net)}/n/{VILLAGE}/", q="J001-HY.2015-Y-1")
    assert status == 200, page[-800:]
    assert "共 1 条" in page and "王秀英、李建国结婚登记档案" in page
    assert "J001-HY·2015-Y-0001" in page and "余杭区档案馆" in page
    assert "张三结婚登记档案" not in page  # the county's record has another 档号
    assert "由 浙江省档案馆 答复：它的目录覆盖 杭州市" in page
    # a controlled record by its 档号, through the service: the field crosses the wire
    found = await net.service(VILLAGE).search.search(
        SearchQuery(archival_code="J001-SB·2015-Y-0002")
    )
    assert found.answered_by == PROVINCE
    assert [(h.holder, h.record_id) for h in found.hits] == [(HOLDER, CONTROLLED.record_id)]


async def test_the_page_says_which_node_answered_and_what_it_covers(net: Network) -> None:
    status, page = await _get(f"{_url(net)}/n/{VILLAGE}/", q="结婚", scope=CITY)
    assert status == 200
    assert "由 杭州市档案馆 答复：它的目录覆盖 西湖区、滨江区 和 余杭区" in page
    assert '<option value="3301" selected>杭州市（全市）</option>' in page
    # a township typed by hand: answered by the township itself, named
    status, page = await _get(f"{_url(net)}/n/{VILLAGE}/", q="结婚", scope_code="330106001")
    assert status == 200
    assert "由 北山街道档案室 答复：它的目录覆盖 " in page and "检索范围 北山街道 超出" in page


async def test_a_controlled_hit_links_to_a_request_and_its_refusal_too(net: Network) -> None:
    href = f"/n/{VILLAGE}/requests/new?holder={HOLDER}&amp;record={CONTROLLED.record_id}"
    status, page = await _get(f"{_url(net)}/n/{VILLAGE}/", q="J001-SB·2015-Y-0002")
    assert status == 200 and f'href="{href}">申请利用</a>' in page
    content = f"{_url(net)}/n/{VILLAGE}/records/{HOLDER}/{CONTROLLED.record_id}/content"
    status, page = await _get(content)
    assert status == 403
    assert "J001-SB·2015-Y-0002" in _message(page) and "利用申请" in _message(page)
    assert CONTROLLED.record_id not in _message(page)  # the 档号, not the internal id
    assert f'href="{href}">申请利用</a>' in page


async def test_a_closed_records_url_answers_exactly_like_an_unknown_one(net: Network) -> None:
    for base in (f"{_url(net)}/n/{VILLAGE}", f"{_url(net)}/api/v1/nodes/{VILLAGE}"):
        closed_status, closed = await _get(f"{base}/records/{HOLDER}/{CLOSED.record_id}/content")
        unknown_status, unknown = await _get(f"{base}/records/{HOLDER}/T-FC-2015-9999/content")
        assert closed_status == unknown_status == 404
        assert closed.replace(CLOSED.record_id, "ID") == unknown.replace("T-FC-2015-9999", "ID")
    # at the holder itself too
    base = f"{_url(net, HOLDER)}/api/v1/nodes/{HOLDER}"
    closed_status, closed = await _get(f"{base}/records/{HOLDER}/{CLOSED.record_id}/content")
    unknown_status, unknown = await _get(f"{base}/records/{HOLDER}/T-FC-2015-9999/content")
    assert closed_status == unknown_status == 404
    assert closed.replace(CLOSED.record_id, "ID") == unknown.replace("T-FC-2015-9999", "ID")


async def test_a_revoked_holder_is_explained_by_name(net: Network) -> None:
    await net.service(CITY).trust.revoke(HOLDER, "测试：密钥失窃", actor=console_actor("test"))
    village = net.node(VILLAGE).keeper
    await eventually(lambda: _revoked_at(net, VILLAGE), timeout=30)
    assert village.state.certificates[HOLDER]
    content = f"{_url(net)}/n/{VILLAGE}/records/{HOLDER}/{OPEN.record_id}/content"
    status, page = await _get(content)
    assert status == 401  # AuthError, as web/middleware.py maps it
    message = _message(page)
    assert "该馆证书已被吊销" in message and "余杭区档案馆" in message
    assert not ENGLISH.search(message), message


async def _revoked_at(net: Network, code: str) -> bool:
    state = net.node(code).keeper.state
    return bool(state.certificates.get(HOLDER)) and not state.current(HOLDER)


async def test_a_holder_that_is_down_is_named_with_what_to_do(net: Network) -> None:
    content = f"{_url(net)}/n/{VILLAGE}/records/{BINJIANG}/{FAR.record_id}/content"
    status, _ = await _get(content)
    assert status == 200  # the guard: it is served while the host runs
    await net.hosts.pop(BINJIANG).stop()
    status, page = await _get(content)
    assert status == 502
    message = _message(page)
    assert "滨江区档案馆暂时无法连接" in message and "稍后重试" in message and "联系该馆" in message
    assert not ENGLISH.search(message), message


async def test_an_answering_node_that_is_down_keeps_the_form_and_names_it(net: Network) -> None:
    await net.hosts.pop(CITY).stop()
    status, page = await _get(f"{_url(net)}/n/{VILLAGE}/", q="结婚", scope=CITY)
    assert status == 502
    message = _message(page)
    assert "杭州市档案馆暂时无法连接" in message
    assert not ENGLISH.search(message), message
    assert 'name="q" value="结婚"' in page  # the form, as the clerk filled it
