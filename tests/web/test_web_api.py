"""JSON API: node list, status, search shape and parameter validation."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from fake_accounts import bearer
from fake_service import FakeNode

from node.actors import Role
from node.records import SearchQuery


@pytest.mark.asyncio
async def test_nodes_lists_every_hosted_node(client: TestClient) -> None:
    response = await client.get("/api/v1/nodes")
    assert response.status == 200
    assert await response.json() == {
        "nodes": [
            {"code": "330106", "name": "西湖区档案馆", "level": 2, "parent": "3301"},
            {"code": "330106001001", "name": "留下村", "level": 4, "parent": "330106001"},
        ]
    }


@pytest.mark.asyncio
async def test_status_is_the_node_status_as_json(client: TestClient) -> None:
    response = await client.get("/api/v1/nodes/330106", headers=bearer("330106", Role.CLERK))
    assert response.status == 200
    body = await response.json()
    assert body["info"]["code"] == "330106"
    assert body["change_head"] == 7
    assert body["links"] == [{"peer": "3301", "cursor": 5, "lag": 2, "last_error": None}]


@pytest.mark.asyncio
async def test_search_returns_hits_with_refs(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    response = await client.get(
        "/api/v1/nodes/330106001001/search",
        params={"q": "张三", "category": "婚姻登记", "year_from": "2000", "year_to": "2020"},
    )
    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["total"] == 1
    assert body["answered_by"] == "33"
    (hit,) = body["hits"]
    assert hit == {
        "holder": "330106",
        "holder_name": "西湖区档案馆",
        "record_id": "HY-2015-0001",
        "ref": "330106/HY-2015-0001",
        "archival_code": "J001-HY·2015-Y-0001",
        "title": "张三与李四结婚登记",
        "year": 2015,
        "category": "婚姻登记",
        "retention": "永久",
        "access": "open",
        "creator": "西湖区民政局",
        "version": 1,
        "content_sha256": hit["content_sha256"],
        "content_size": hit["content_size"],
    }
    assert len(hit["content_sha256"]) == 64
    assert nodes["330106001001"].queries == [
        SearchQuery(text="张三", category="婚姻登记", year_from=2000, year_to=2020)
    ]


@pytest.mark.asyncio
async def test_search_passes_text_paging_and_scope_as_given(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    text = '张三 OR "x" NEAR(*'
    response = await client.get(
        "/api/v1/nodes/330106/search",
        params={"q": text, "scope": "3301", "limit": "200", "offset": "40"},
    )
    assert response.status == 200
    assert nodes["330106"].queries == [SearchQuery(text=text, scope="3301", limit=200, offset=40)]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"year_from": "二〇一五"}, "起始年度"),
        ({"year_to": "2015.5"}, "终止年度"),
        ({"year_from": "2020", "year_to": "2010"}, "晚于"),
        ({"year_from": "99999"}, "起始年度"),
        ({"limit": "0"}, "每页条数"),
        ({"limit": "201"}, "每页条数"),
        ({"limit": "ten"}, "每页条数"),
        ({"offset": "-1"}, "偏移量"),
        ({"category": "不存在"}, "门类"),
        ({"scope": "abc"}, "检索范围"),
        ({"scope": "3300"}, "检索范围"),
    ],
)
async def test_bad_search_parameters_are_400_in_chinese(
    client: TestClient, nodes: dict[str, FakeNode], params: dict[str, str], words: str
) -> None:
    response = await client.get("/api/v1/nodes/330106/search", params={"q": "张三", **params})
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["type"] == "InvalidQuery"
    assert words in error["message"]
    assert nodes["330106"].queries == []


@pytest.mark.asyncio
async def test_unknown_node_is_404_json(client: TestClient) -> None:
    response = await client.get("/api/v1/nodes/330110/search", params={"q": "张三"})
    assert response.status == 404
    error = (await response.json())["error"]
    assert error["type"] == "NotFound"
    assert "330110" in error["message"]


@pytest.mark.asyncio
async def test_unknown_api_path_is_404_json(client: TestClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status == 404
    assert (await response.json())["error"]["type"] == "NotFound"


@pytest.mark.asyncio
async def test_an_approval_must_name_the_key_id_checked(client: TestClient) -> None:
    path = "/api/v1/nodes/330106/registry/applications/330106001/approve"
    operator = bearer("330106", Role.OPERATOR)
    response = await client.post(path, json={}, headers=operator)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["type"] == "InvalidInput" and "key_id" in error["message"]
    key_id = {"key_id": "ed25519:0000000000000000"}
    response = await client.post(path, json=key_id, headers=operator)
    assert response.status == 404  # the fake has no application; the key id reached it
