"""Record content: streamed through the tree with the manifest's headers, or an honest failure."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
from aiohttp import ClientPayloadError
from aiohttp.test_utils import TestClient
from fake_service import FakeNode

from node.errors import AccessDenied, PeerUnavailable

URL = "/api/v1/nodes/330106001001/records/330106/HY-2015-0001/content"


@pytest.mark.asyncio
async def test_content_streams_bytes_with_manifest_headers(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    expected = nodes["330106001001"].contents["330106/HY-2015-0001"].data
    response = await client.get(URL)
    assert response.status == 200
    body = await response.read()
    assert body == expected
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(len(expected))
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    assert response.headers["X-Record-Version"] == "3"
    assert response.headers["X-Record-Holder"] == "330106"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert "filename*=UTF-8''" + quote("结婚登记证明.pdf", safe="") in disposition
    assert 'filename="HY-2015-0001.pdf"' in disposition
    assert nodes["330106001001"].closed_streams == 1


@pytest.mark.asyncio
async def test_download_is_an_attachment_and_file_is_passed_on(client: TestClient) -> None:
    response = await client.get(URL, params={"download": "1", "file": "结婚登记证明.pdf"})
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    missing = await client.get(URL, params={"file": "其他.pdf"})
    assert missing.status == 404


@pytest.mark.asyncio
async def test_html_content_is_never_shown_inline(client: TestClient) -> None:
    response = await client.get("/n/330106/records/330106/XSS-1/content")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="page.html"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("error", "status"), [(AccessDenied("档案未开放"), 403), (PeerUnavailable("down"), 502)]
)
async def test_errors_before_streaming_get_their_status(
    client: TestClient, nodes: dict[str, FakeNode], error: Exception, status: int
) -> None:
    nodes["330106001001"].fetch_error = error
    api = await client.get(URL)
    assert api.status == status
    assert "error" in await api.json()
    page = await client.get("/n/330106001001/records/330106/HY-2015-0001/content")
    assert page.status == status
    assert page.content_type == "text/html"


@pytest.mark.asyncio
async def test_failure_in_the_first_chunk_is_a_proper_error(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    nodes["330106001001"].corrupt_after = 0
    response = await client.get(URL)
    assert response.status == 401
    assert (await response.json())["error"]["type"] == "AuthError"
    assert nodes["330106001001"].closed_streams == 1


@pytest.mark.asyncio
async def test_failure_mid_stream_aborts_instead_of_a_short_success(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    nodes["330106001001"].corrupt_after = 10
    response = await client.get(URL)
    assert response.status == 200  # headers were already out
    with pytest.raises(ClientPayloadError):
        await response.read()
    assert nodes["330106001001"].closed_streams == 1


@pytest.mark.asyncio
async def test_unknown_record_is_404(client: TestClient) -> None:
    response = await client.get("/api/v1/nodes/330106/records/330106/NOPE/content")
    assert response.status == 404
    assert (await response.json())["error"]["type"] == "NotFound"
