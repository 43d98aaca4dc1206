"""What a clerk meets on the search page (issue 10, item 5), over the fake services.

Scopes by name and who answered; a 档号 in the query box; an input error that keeps the
form; a holder that is down or revoked, named; the 申请利用 links; the identity number that
reaches the search service and nothing else (not the URL, the page or the log).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient
from fake_accounts import bearer
from fake_service import FakeNode

from node.actors import Role
from node.citizens import check_character
from node.errors import AccessDenied, AuthError, PeerUnavailable
from node.records import SearchPage, SearchQuery

VILLAGE, COUNTY = "330106001001", "330106"
CONTROLLED = "/n/330106001001/requests/new?holder=330106&amp;record=SB-2010-0007"
ID_NUMBER = "11010519491231002" + check_character("11010519491231002")
GRPC_DETAIL = "Stream removed (recvmsg:No route to host (113))"


def _message(page: str) -> str:
    found = re.search(r'<p class="(?:error )?message"[^>]*>([^<]*)</p>', page)
    assert found, page[-1000:]
    return found.group(1)


@pytest.mark.asyncio
async def test_the_scope_is_picked_by_name_grouped_by_city(client: TestClient) -> None:
    page = await (await client.get(f"/n/{VILLAGE}/")).text()
    assert '<option value="33" selected>全省</option>' in page
    group = page[page.index('<optgroup label="杭州市">') :]
    group = group[: group.index("</optgroup>")]
    assert '<option value="3301">杭州市（全市）</option>' in group
    assert '<option value="330106">西湖区</option>' in group
    assert '<option value="330110">余杭区</option>' in group
    assert '<optgroup label="宁波市">' in page  # every city of the province
    assert 'name="scope_code"' in page  # a raw code can still be typed


@pytest.mark.asyncio
async def test_a_typed_code_wins_and_stays_picked(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    page = await (
        await client.get(
            f"/n/{VILLAGE}/", params={"q": "张三", "scope": "33", "scope_code": "330106001"}
        )
    ).text()
    assert nodes[VILLAGE].queries[-1].scope == "330106001"
    assert '<option value="330106001" selected>留下街道（330106001）</option>' in page


@pytest.mark.asyncio
async def test_the_page_names_who_answered_and_what_it_covers(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    async def by_city(query: SearchQuery, **_: object) -> SearchPage:
        return SearchPage(total=0, hits=(), answered_by="3301")

    nodes[VILLAGE].search = by_city  # type: ignore[method-assign]
    page = await (await client.get(f"/n/{VILLAGE}/", params={"q": "张三", "scope": "3301"})).text()
    assert "由 杭州市档案馆 答复：它的目录覆盖 西湖区 和 余杭区" in page
    assert "3301（市级节点）" not in page


@pytest.mark.asyncio
async def test_an_archival_code_in_the_query_box_is_looked_up_as_one(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    page = await (await client.get(f"/n/{COUNTY}/", params={"q": " J001-SB.2010-Y-1 "})).text()
    query = nodes[COUNTY].queries[-1]
    assert (query.text, query.archival_code) == ("", "J001-SB·2010-Y-0001")
    assert "社保档案（2010年，控制使用）" in page and "共 1 条" in page
    assert 'name="q" value=" J001-SB.2010-Y-1 "' in page  # the box keeps what was typed
    # the JSON API reads the same box the same way
    await client.get(f"/api/v1/nodes/{COUNTY}/search", params={"q": "J001-HY·2015-Y-0001"})
    assert nodes[COUNTY].queries[-1].archival_code == "J001-HY·2015-Y-0001"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"q": "张三", "year_from": "abc"}, "起始年度应为整数"),
        ({"q": "张三", "scope_code": "33x"}, "检索范围应为区划代码"),
        ({"q": "张三", "year_from": "2010", "year_to": "2000"}, "请调换后重试"),
    ],
)
async def test_an_input_error_keeps_the_form_and_says_what_to_fix(
    client: TestClient, nodes: dict[str, FakeNode], params: dict[str, str], words: str
) -> None:
    response = await client.get(f"/n/{VILLAGE}/", params=params)
    assert response.status == 400
    page = await response.text()
    assert words in _message(page)
    assert '<form class="search" method="get"' in page
    for name, value in params.items():
        assert f'name="{name}" value="{value}"' in page
    assert nodes[VILLAGE].queries == []


@pytest.mark.asyncio
async def test_an_unreachable_answering_node_is_named_without_the_grpc_detail(
    client: TestClient, nodes: dict[str, FakeNode], caplog: pytest.LogCaptureFixture
) -> None:
    nodes[VILLAGE].search_error = PeerUnavailable(GRPC_DETAIL)
    with caplog.at_level(logging.WARNING, logger="node.web.pages"):
        response = await client.get(f"/n/{VILLAGE}/", params={"q": "张三", "scope": "3301"})
    assert GRPC_DETAIL in caplog.text  # the detail goes to the operator's log
    assert response.status == 502
    page = await response.text()
    message = _message(page)
    assert "杭州市档案馆暂时无法连接" in message and "联系该馆" in message
    assert "Stream removed" not in page and "recvmsg" not in page
    assert 'name="q" value="张三"' in page


@pytest.mark.asyncio
async def test_a_revoked_holder_is_named_in_chinese(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    village = nodes[VILLAGE]
    village.known = tuple(replace(n, revoked=n.code == "330110") for n in village.known)
    village.fetch_error = AuthError("certificate of 330110 (serial 1) is revoked")
    response = await client.get(f"/n/{VILLAGE}/records/330110/T-1/content")
    message = _message(await response.text())
    assert "该馆证书已被吊销" in message and "余杭区档案馆" in message
    assert "certificate" not in message and "revoked" not in message


@pytest.mark.asyncio
async def test_a_holder_down_on_the_content_page_is_named(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    nodes[VILLAGE].fetch_error = PeerUnavailable(GRPC_DETAIL)
    response = await client.get(f"/n/{VILLAGE}/records/330110/T-1/content")
    assert response.status == 502
    page = await response.text()
    assert "余杭区档案馆暂时无法连接" in _message(page) and "Stream removed" not in page


@pytest.mark.asyncio
async def test_controlled_hits_and_refusals_link_to_a_request(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    page = await (await client.get(f"/n/{VILLAGE}/", params={"category": "社保"})).text()
    assert f'<a class="button" href="{CONTROLLED}">申请利用</a>' in page
    assert "J001-SB·2010-Y-0001" in page  # the 档号 is what the row shows
    visible = re.sub(r'href="[^"]*"', "", page)
    assert "SB-2010-0007" not in visible  # the internal id only in the link
    nodes[VILLAGE].fetch_error = AccessDenied(
        "档案 J001-SB·2010-Y-0001 为控制使用，须经利用申请批准后方可调阅"
    )
    response = await client.get(f"/n/{VILLAGE}/records/330106/SB-2010-0007/content")
    assert response.status == 403
    refusal = await response.text()
    assert "需" in _message(refusal) or "申请" in _message(refusal)
    assert f'<a class="button" href="{CONTROLLED}">申请利用</a>' in refusal


@pytest.mark.asyncio
async def test_the_identity_number_field_is_for_clerks_and_posts(client: TestClient) -> None:
    anonymous = await (await client.get(f"/n/{VILLAGE}/")).text()
    assert "id_number" not in anonymous
    page = await (await client.get(f"/n/{VILLAGE}/", headers=bearer(VILLAGE, Role.CLERK))).text()
    assert "身份证号码（查本人档案）" in page
    field = re.search(r'<input type="password" name="id_number"[^>]*>', page)
    assert (
        field and 'autocomplete="off"' in field.group(0) and 'form="own-records"' in field.group(0)
    )
    assert f'<form id="own-records" method="post" action="/n/{VILLAGE}/">' in page


@pytest.mark.asyncio
async def test_the_identity_number_reaches_the_service_and_never_the_url_page_or_log(
    client: TestClient, nodes: dict[str, FakeNode], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = await client.post(
            f"/n/{VILLAGE}/",
            data={"id_number": ID_NUMBER.lower(), "scope": "3301"},
            headers=bearer(VILLAGE, Role.CLERK),
        )
    assert response.status == 200
    page = await response.text()
    (number,) = nodes[VILLAGE].id_searches
    assert number.digits == ID_NUMBER
    assert nodes[VILLAGE].queries[-1].scope == "3301"
    assert ID_NUMBER not in page and ID_NUMBER.lower() not in page
    assert ID_NUMBER not in str(response.url) and not response.url.query_string
    assert ID_NUMBER not in caplog.text and ID_NUMBER.lower() not in caplog.text
    assert "按身份证号码查找当事人本人的档案" in page and "共 " in page
    assert "下一页" not in page  # the first page only: no link could carry the number


@pytest.mark.asyncio
async def test_an_invalid_identity_number_keeps_the_form_with_the_reason(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    wrong = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    response = await client.post(
        f"/n/{VILLAGE}/",
        data={"id_number": wrong, "scope": "33"},
        headers=bearer(VILLAGE, Role.CLERK),
    )
    assert response.status == 400
    page = await response.text()
    assert "身份证号码" in _message(page) and "请核对" in _message(page)
    assert wrong not in page
    assert '<form class="search" method="get"' in page
    assert nodes[VILLAGE].queries == []


@pytest.mark.asyncio
async def test_only_a_clerk_may_search_by_identity_number(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    response = await client.post(
        f"/n/{VILLAGE}/", data={"id_number": ID_NUMBER}, headers=bearer(VILLAGE, Role.OPERATOR)
    )
    assert response.status == 403
    assert nodes[VILLAGE].queries == [] and ID_NUMBER not in await response.text()
