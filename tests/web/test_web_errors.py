"""The one error middleware: NodeError subclasses -> status, JSON for /api, zh-CN pages else."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient
from fake_service import FakeNode

from node.errors import (
    AccessDenied,
    AuthError,
    InvalidQuery,
    Misaddressed,
    NodeError,
    NotFound,
    PeerUnavailable,
    ProtocolError,
    StorageError,
)

CASES = [
    (InvalidQuery("查询词过长（最多 200 字）"), 400, "InvalidQuery", "查询词过长"),
    (NotFound("未找到档案 330106/X"), 404, "NotFound", "未找到档案"),
    (AccessDenied("档案未开放"), 403, "AccessDenied", "利用申请"),
    (AuthError("bad signature from 3301"), 401, "AuthError", "校验未通过"),
    (Misaddressed("destination is 330110"), 403, "Misaddressed", "正确的节点"),
    (PeerUnavailable("3301 unreachable"), 502, "PeerUnavailable", "暂时无法连接"),
    (ProtocolError("oversized message"), 502, "ProtocolError", "无法识别"),
    (StorageError("disk I/O error"), 500, "StorageError", "节点处理出错"),
    (NodeError(""), 500, "NodeError", "节点处理出错"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("error", "status", "kind", "words"), CASES)
async def test_api_maps_each_error_to_status_and_json(
    client: TestClient,
    nodes: dict[str, FakeNode],
    error: NodeError,
    status: int,
    kind: str,
    words: str,
) -> None:
    nodes["330106"].search_error = error
    response = await client.get("/api/v1/nodes/330106/search", params={"q": "张三"})
    assert response.status == status
    body = await response.json()
    assert body["error"]["type"] == kind
    assert words in body["error"]["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize(("error", "status", "kind", "words"), CASES)
async def test_pages_map_each_error_to_status_and_a_chinese_page(
    client: TestClient,
    nodes: dict[str, FakeNode],
    error: NodeError,
    status: int,
    kind: str,
    words: str,
) -> None:
    nodes["330106"].search_error = error
    response = await client.get("/n/330106/", params={"q": "张三"})
    assert response.status == status
    assert response.content_type == "text/html"
    page = await response.text()
    assert '<html lang="zh-CN">' in page
    assert words in page
    assert 'href="/n/330106/"' in page  # back to the form


@pytest.mark.asyncio
async def test_unexpected_error_is_500_generic_and_logged(
    client: TestClient, nodes: dict[str, FakeNode], caplog: pytest.LogCaptureFixture
) -> None:
    nodes["330106"].search_error = ZeroDivisionError("secret internals")
    with caplog.at_level(logging.ERROR, logger="node.web.middleware"):
        api = await client.get("/api/v1/nodes/330106/search", params={"q": "张三"})
        page = await client.get("/n/330106/", params={"q": "张三"})
    assert api.status == 500
    error = (await api.json())["error"]
    assert error["type"] == "InternalError"
    assert "服务器内部错误" in error["message"]
    assert page.status == 500
    text = await page.text()
    assert "服务器内部错误" in text
    for shown in (error["message"], text):
        assert "secret internals" not in shown
        assert "Traceback" not in shown
    assert any(record.exc_info for record in caplog.records)


@pytest.mark.asyncio
async def test_unknown_page_is_a_chinese_404(client: TestClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status == 404
    assert "页面或接口不存在" in await response.text()


@pytest.mark.asyncio
async def test_the_error_page_escapes_the_message(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    nodes["330106"].search_error = NotFound("未找到档案 <script>alert(1)</script>\"x\"'y'")
    response = await client.get("/n/330106/", params={"q": "张三"})
    assert response.status == 404
    page = await response.text()
    assert "<script>" not in page
    escaped = "未找到档案 &lt;script&gt;alert(1)&lt;/script&gt;&quot;x&quot;&#x27;y&#x27;"
    assert f'<p class="message">{escaped}</p>' in page
    assert "<title>未找到（404）</title>" in page
