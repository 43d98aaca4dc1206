"""Service-point pages: node list, search form, hits with escaped text, paging, 404."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fake_service import FakeNode, entry

from node.records import SearchPage, SearchQuery
from node.web import create_app


@pytest.mark.asyncio
async def test_index_lists_hosted_nodes_with_chinese_levels(client: TestClient) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert '<html lang="zh-CN">' in page
    assert '<a href="/n/330106001001/">留下村</a>' in page
    assert "村（社区）" in page
    assert '<a href="/n/330106/">西湖区档案馆</a>' in page
    assert "县（区）" in page


@pytest.mark.asyncio
async def test_empty_query_shows_form_and_hint(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    response = await client.get("/n/330106001001/")
    assert response.status == 200
    page = await response.text()
    assert "留下村（330106001001）服务点 · 档案查询" in page
    for label in ("查询词", "范围", "门类", "年度（起）", "年度（止）", "全部门类", "土地承包"):
        assert label in page
    assert '<option value="33" selected>全省</option>' in page  # the province by default
    assert 'class="hint"' in page
    assert nodes["330106001001"].queries == []


@pytest.mark.asyncio
async def test_hits_render_with_labels_links_and_escaped_text(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    response = await client.get("/n/330106001001/", params={"q": "张三"})
    assert response.status == 200
    page = await response.text()
    for label in ("题名", "档号", "门类", "年度", "保管期限", "开放状态", "馆藏单位"):
        assert f"<th>{label}</th>" in page
    assert "共 3 条，当前显示第 1–3 条" in page
    assert "由 浙江省档案馆 答复：它的目录覆盖 杭州市" in page
    assert "张三与李四结婚登记" in page
    assert "J001-HY·2015-Y-0001" in page
    assert "永久" in page
    assert "开放" in page
    assert "西湖区档案馆" in page
    assert "留下街道" in page
    href = "/n/330106001001/records/330106/HY-2015-0001/content"
    assert f'href="{href}"' in page
    assert f'href="{href}?download=1"' in page
    assert "在线查看" in page and "下载" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;张三的学籍卡" in page
    assert 'name="q" value="张三"' in page
    assert nodes["330106001001"].queries == [SearchQuery(text="张三", limit=20)]


@pytest.mark.asyncio
async def test_controlled_records_show_the_request_note(client: TestClient) -> None:
    page = await (await client.get("/n/330106/", params={"category": "社保"})).text()
    assert "社保档案（2010年，控制使用）" in page
    assert "控制使用：需提交利用申请" in page
    assert "控制使用</td>" in page
    assert "/records/330106/SB-2010-0007/content" not in page


@pytest.mark.asyncio
async def test_query_text_is_escaped_in_the_form(client: TestClient) -> None:
    page = await (await client.get("/n/330106/", params={"q": '"><script>x</script>'})).text()
    assert "<script>x" not in page
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page
    assert "共 0 条" in page
    assert "未找到匹配的档案" in page


@pytest.mark.asyncio
async def test_paging_keeps_the_query(client: TestClient, nodes: dict[str, FakeNode]) -> None:
    many = [entry("330106", f"R{i:03d}", f"王五档案{i}", year=2001) for i in range(45)]
    nodes["330106"].entries.extend(many)
    first = await (await client.get("/n/330106/", params={"q": "王五", "scope": "33"})).text()
    assert "共 45 条" in first
    assert "第 1 / 3 页" in first
    assert "上一页" not in first
    next_link = 'href="/n/330106/?q=%E7%8E%8B%E4%BA%94&amp;scope=33&amp;page=2&amp;cursor=20"'
    assert f'{next_link} rel="next">下一页' in first
    second = await (
        await client.get("/n/330106/", params={"q": "王五", "page": "2", "cursor": "20"})
    ).text()
    assert "当前显示第 21–40 条" in second
    assert "上一页" in second and "下一页" in second
    assert nodes["330106"].queries[-1].cursor == "20"
    assert nodes["330106"].queries[-1].offset == 0
    # a bare page number (an old bookmark) still works, by offset
    last = await (await client.get("/n/330106/", params={"q": "王五", "page": "3"})).text()
    assert "第 3 / 3 页" in last and "下一页" not in last
    assert nodes["330106"].queries[-1].offset == 40


@pytest.mark.asyncio
async def test_bad_year_is_a_400_page_saying_what_to_fix(client: TestClient) -> None:
    response = await client.get("/n/330106/", params={"q": "张三", "year_from": "abc"})
    assert response.status == 400
    page = await response.text()
    assert "起始年度应为整数" in page
    assert 'name="q" value="张三"' in page and 'name="year_from" value="abc"' in page


@pytest.mark.asyncio
async def test_unknown_node_is_a_404_page(client: TestClient) -> None:
    response = await client.get("/n/330110/")
    assert response.status == 404
    page = await response.text()
    assert "本服务未托管节点 330110" in page
    assert '<a href="/">返回首页</a>' in page
    assert "返回服务点查询页" not in page


@pytest.mark.asyncio
async def test_node_path_without_slash_redirects(client: TestClient) -> None:
    response = await client.get("/n/330106", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/n/330106/"


@pytest.mark.asyncio
async def test_stylesheet_is_served(client: TestClient) -> None:
    response = await client.get("/static/style.css")
    assert response.status == 200
    assert "table.hits" in await response.text()


@pytest.mark.asyncio
async def test_a_capped_total_says_more_than(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    hits = tuple(entry("330106", f"R{i:03d}", f"王五档案{i}") for i in range(20))

    async def capped(query: SearchQuery, **_: object) -> SearchPage:
        return SearchPage(total=10000, hits=hits, total_exact=False, next_cursor="c2")

    nodes["330106"].search = capped  # type: ignore[method-assign]
    page = await (await client.get("/n/330106/", params={"q": "王五"})).text()
    assert "超过 10000 条，当前显示第 1–20 条" in page
    assert "<span>第 1 页</span>" in page and 'cursor=c2" rel="next"' in page


@pytest.mark.asyncio
async def test_titles_and_quoted_attributes_are_escaped_on_the_results_page(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    title = "<script>alert(1)</script>\"onfocus=\"alert(2)'档案'"
    nodes["330106"].entries.append(entry("330106", "Q-1", title, year=2001, data=b"x"))
    query = "\"onfocus=\"alert(2)'档案'"  # one word of the title, quotes and all
    page = await (await client.get("/n/330106/", params={"q": query})).text()
    assert "共 1 条" in page
    assert "<script>alert" not in page and 'onfocus="alert' not in page
    escaped = "&quot;onfocus=&quot;alert(2)&#x27;档案&#x27;"
    assert f'<td data-label="题名">&lt;script&gt;alert(1)&lt;/script&gt;{escaped}</td>' in page
    assert f'name="q" value="{escaped}"' in page


@pytest.mark.asyncio
async def test_an_empty_host_says_it_hosts_no_node() -> None:
    async with TestClient(TestServer(create_app({}))) as empty:
        page = await (await empty.get("/")).text()
    assert '<ul class="nodes">' in page and "<li>尚未托管任何节点。</li>" in page
