"""The audit log page and its JSON: filters by person, act and record, paging by seq,
escaped values, and a 400 (zh-CN) for filters out of range."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient
from fake_accounts import bearer
from fake_service import FakeNode

from node.actors import Role
from node.audit import AuditFinding

CODE = "330106"
ARCHIVIST = bearer(CODE, Role.ARCHIVIST)  # the log is the archivists' to read


def _fill(node: FakeNode, n: int = 60) -> None:
    for i in range(1, n + 1):
        actor = "account:wang@330106" if i % 2 else "node:330106001@330106"
        act = "search" if i % 3 else "fetch"
        node.audit.add(actor, act, f"330106/R-{i % 5}", json.dumps({"q": f"<b>{i}</b>"}))


@pytest.mark.asyncio
async def test_the_page_shows_the_newest_entries_with_labels_and_links(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    _fill(nodes[CODE])
    response = await client.get(f"/n/{CODE}/audit-log", headers=ARCHIVIST)
    assert response.status == 200
    page = await response.text()
    assert "审计日志" in page and "archive-node audit verify --as 330106" in page
    for header in ("序号", "时间", "人员", "操作", "对象", "详情"):
        assert f"<th>{header}</th>" in page
    assert "<td>60</td>" in page and "<td>11</td>" in page and "<td>10</td>" not in page
    assert "&lt;b&gt;60&lt;/b&gt;" in page and "<b>60</b>" not in page
    assert '<a href="/n/330106/audit-log?record=330106%2FR-0">330106/R-0</a>' in page
    assert 'href="/n/330106/audit-log?before=11&amp;page=2" rel="next"' in page
    assert "<td>调阅</td>" in page and "<td>检索</td>" in page
    assert 'href="/n/330106/"' in page and 'href="/n/330106/status"' in page


@pytest.mark.asyncio
async def test_filters_and_the_older_and_newer_pages(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    _fill(nodes[CODE])
    params = {"person": "wang", "act": "fetch", "record": "330106/R-3"}
    response = await client.get(f"/n/{CODE}/audit-log", params=params, headers=ARCHIVIST)
    assert response.status == 200
    query = nodes[CODE].audit.queries[-1]
    assert (query.actor, query.act, query.subject) == ("wang", "fetch", "330106/R-3")
    page = await response.text()
    assert '<option value="fetch" selected>' in page and "清除筛选" in page
    older = await client.get(
        f"/n/{CODE}/audit-log", params={"before": "11", "page": "2"}, headers=ARCHIVIST
    )
    text = await older.text()
    assert "<td>10</td>" in text and "<td>11</td>" not in text and "第 2 页" in text
    assert 'href="/n/330106/audit-log?after=10&amp;page=1" rel="prev"' in text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "params", [{"before": "-1"}, {"limit": "500"}, {"person": "x" * 300}, {"before": "9" * 30}]
)
async def test_filters_out_of_range_are_a_400_in_chinese(
    client: TestClient, params: dict[str, str]
) -> None:
    for path in (f"/n/{CODE}/audit-log", f"/api/v1/nodes/{CODE}/audit-log"):
        response = await client.get(path, params=params, headers=ARCHIVIST)
        assert response.status == 400, path
        assert "应为" in await response.text()


@pytest.mark.asyncio
async def test_the_api_lists_verifies_and_reports_checkpoints(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    _fill(nodes[CODE], 3)
    body = await (
        await client.get(
            f"/api/v1/nodes/{CODE}/audit-log", params={"limit": "2"}, headers=ARCHIVIST
        )
    ).json()
    assert [e["seq"] for e in body["entries"]] == [3, 2] and body["next_before"] == 2
    assert body["entries"][0]["detail"] == {"q": "<b>3</b>"}
    nodes[CODE].audit.finding = AuditFinding(2, "edited", "第 2 条日志的内容与其哈希不符", 2)
    report = await (
        await client.get(f"/api/v1/nodes/{CODE}/audit-log/verify", headers=ARCHIVIST)
    ).json()
    assert report["ok"] is False and report["finding"]["seq"] == 2
    status = await (
        await client.get(f"/api/v1/nodes/{CODE}/audit-log/checkpoints", headers=ARCHIVIST)
    ).json()
    assert status["size"] == 3
