"""Search over a real five-tier network: filters and cursors from a village to the province.

Every node runs in its own host (own gRPC listener, own SQLite file); the village's searches
over the province are forwarded four hops up, signed at every hop. Hypothesis throws any text,
filter and cursor at the node service and at the HTTP API: each answer is a page or a clear
zh-CN error, never a 500 or an exception of another kind.

The network runs on an event loop in a background thread, so that Hypothesis (which runs
plain functions) can call it through ``World.run``.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.errors import InvalidInput
from node.records import CATEGORIES, Access, ArchivalCode, Retention, SearchPage, SearchQuery

from .network import Network, eventually, ingest, make_record, tree

T = TypeVar("T")
VILLAGE = "330106001001"
COUNTY = "330106"
_CJK = re.compile(r"[\u3400-\u9fff]")
RETENTIONS = list(Retention)


@dataclass
class World:
    net: Network
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def search(self, code: str, query: SearchQuery) -> SearchPage:
        return self.run(self.net.service(code).search.search(query))

    def everything_at_the_province(self, query: SearchQuery) -> list[str]:
        """Every hit's ref, as the province's own store pages through them by offset."""
        catalogue = self.net.node("33").parts.catalogue
        refs: list[str] = []
        while True:
            page = self.run(catalogue.search(replace(query, limit=200, offset=len(refs))))
            refs += [h.ref for h in page.hits]
            if len(refs) >= page.total:
                return refs

    def url(self, path: str, params: dict[str, str]) -> str:
        query = "&".join(
            f"{k}={quote(v, safe='', errors='surrogatepass')}" for k, v in params.items()
        )
        return f"{self.net.hosts[VILLAGE].listening.web_url}{path}?{query}"

    def get(self, path: str, params: dict[str, str]) -> tuple[int, str]:
        """GET on the village's web listener; the status and the body."""
        url = self.url(path, params)
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def record(holder: str, n: int, title: str, retention: Retention, **kw: Any) -> Any:
    item, data = make_record(holder, n, title=title, **kw)
    category = kw.get("category", "婚姻登记")
    code = ArchivalCode("J001", CATEGORIES[category], item.year, retention, n)
    return replace(item, retention=retention, archival_code=str(code)), data


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="search-network", daemon=True)
    thread.start()
    codes = ("33", "3301", COUNTY, "330106001", VILLAGE)
    data_dir: Path = tmp_path_factory.mktemp("search-net")
    net = asyncio.run_coroutine_threadsafe(Network.start(data_dir, tree(*codes)), loop).result(60)
    w = World(net, loop)
    try:
        county = [
            record(COUNTY, n, f"王秀英档案第{n}号", RETENTIONS[n % 3], year=1990 + n % 20)
            for n in range(1, 31)
        ]
        county += [
            record(
                COUNTY,
                40 + n,
                f"李建国土地承包合同{n}",
                RETENTIONS[n % 3],
                category="土地承包",
                subjects=("王秀英",),
                access=access,
            )  # fmt: skip
            for n, access in enumerate([Access.OPEN, Access.CONTROLLED] * 2)
        ]
        w.run(ingest(net.service(COUNTY), county))
        w.run(ingest(net.service(VILLAGE), [record(VILLAGE, 1, "王秀英户口迁移", RETENTIONS[2])]))

        async def synced() -> bool:
            return (await net.service("33").search.search(SearchQuery(scope="33"))).total == 35

        w.run(eventually(synced, timeout=30))
        yield w
    finally:
        w.run(net.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_a_village_pages_through_the_province_by_cursor(world: World) -> None:
    query = SearchQuery(text="王秀英", scope="33", limit=4)
    page = world.search(VILLAGE, query)
    assert page.answered_by == "33" and page.total == 33 and page.total_exact
    refs, pages = [h.ref for h in page.hits], [page]
    while page.next_cursor:
        page = world.search(VILLAGE, replace(query, cursor=page.next_cursor))
        refs += [h.ref for h in page.hits]
        pages.append(page)
    assert refs == world.everything_at_the_province(query)
    assert len(set(refs)) == 33
    back = world.search(VILLAGE, replace(query, cursor=pages[-1].prev_cursor))
    assert back.hits == pages[-2].hits


def test_retention_and_access_filters_cross_the_tree(world: World) -> None:
    for retention in ("永久", "30年", "10年"):
        for access in (None, "open", "controlled"):
            query = SearchQuery(text="王秀英", scope="33", retention=retention, access=access)
            page = world.search(VILLAGE, query)
            assert all(h.retention == retention for h in page.hits)
            assert all(access in (None, h.access) for h in page.hits)
            assert [h.ref for h in page.hits] == world.everything_at_the_province(query)[:20]
    controlled = world.search(VILLAGE, SearchQuery(text="承包", scope="33", access="controlled"))
    assert controlled.total == 2  # found by category name; titles redacted, names not shared


def test_a_cursor_of_another_query_is_refused_across_the_tree(world: World) -> None:
    page = world.search(VILLAGE, SearchQuery(text="王秀英", scope="33", limit=3))
    with pytest.raises(InvalidInput, match="另一次检索") as refused:
        world.search(VILLAGE, SearchQuery(text="李建国", scope="33", cursor=page.next_cursor))
    assert refused.value.from_peer  # the province's answer, passed down


def test_the_service_point_page_links_pages_by_cursor(world: World) -> None:
    status, html = world.get(f"/n/{VILLAGE}/", {"q": "王秀英", "scope": "33", "retention": "永久"})
    assert status == 200 and "共 11 条" in html and "第 1 / 1 页" not in html
    status, html = world.get(f"/n/{VILLAGE}/", {"q": "王秀英", "scope": "33"})
    assert status == 200 and "共 33 条" in html and "第 1 / 2 页" in html
    next_href = unescape(re.search(r'href="([^"]+)" rel="next"', html)[1])  # type: ignore[index]
    params = dict(p.split("=", 1) for p in next_href.split("?", 1)[1].split("&"))
    assert params["page"] == "2" and params["cursor"]
    with urllib.request.urlopen(world.net.hosts[VILLAGE].listening.web_url + next_href) as r:
        second = r.read().decode()
    assert "当前显示第 21–33 条" in second and 'rel="prev"' in second and 'rel="next"' not in second


def test_the_json_api_pages_by_cursor(world: World) -> None:
    params = {"q": "王秀英", "scope": "33", "limit": "30"}
    status, body = world.get(f"/api/v1/nodes/{VILLAGE}/search", params)
    first = json.loads(body)
    assert status == 200 and first["total"] == 33 and first["total_exact"] is True
    status, body = world.get(
        f"/api/v1/nodes/{VILLAGE}/search", {**params, "cursor": first["next_cursor"]}
    )
    second = json.loads(body)
    refs = [h["ref"] for h in first["hits"] + second["hits"]]
    assert refs == world.everything_at_the_province(SearchQuery(text="王秀英", scope="33"))
    assert second["next_cursor"] == "" and second["prev_cursor"]
    status, body = world.get(
        f"/api/v1/nodes/{VILLAGE}/search", {"q": "李", "cursor": first["next_cursor"]}
    )
    assert status == 400 and "另一次检索" in json.loads(body)["error"]["message"]


# -- anything at all: a page or a clear zh-CN error ------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=250)
TRICKY = st.sampled_from(
    ['"', "NEAR(王 李)", "王*", "^王", "(王", "王)", "\x00", "\ud800", "王" * 300, "!!!", "王",
     "秀英 OR 1=1", "facets:s33", "{title}:王", "a*b", "-", "'; DROP TABLE catalogue; --"]
)  # fmt: skip
FILTER = st.sampled_from(
    ["", "33", "3301", "330106", "婚姻登记", "永久", "30年", "open", "controlled", "closed",
     "1990", "-5", "9" * 11, "abc", "\x00"]
)  # fmt: skip


@given(
    text=ANY_TEXT | TRICKY,
    scope=st.sampled_from(["", "33", "3301", "330106", "3", "330106001001", "x", "3" * 13]),
    category=st.none() | st.sampled_from([*CATEGORIES, "绝密"]),
    year_from=st.none() | st.integers(-(10**6), 10**6),
    retention=st.none() | st.sampled_from(["永久", "30年", "10年", "永远", ""]),
    access=st.none() | st.sampled_from(["open", "controlled", "closed", "secret", ""]),
    cursor=st.sampled_from(["", "x", "eyJ9", "W10"]) | st.text(max_size=80),
    limit=st.integers(-2, 300),
)
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_query_through_the_service_is_a_page_or_a_clear_error(
    world: World, text: str, scope: str, category: str | None, year_from: int | None,
    retention: str | None, access: str | None, cursor: str, limit: int,
) -> None:  # fmt: skip
    query = SearchQuery(
        text=text, scope=scope, category=category, year_from=year_from,
        retention=retention, access=access, cursor=cursor, limit=limit,
    )  # fmt: skip
    try:
        page = world.search(VILLAGE, query)
    except InvalidInput as exc:
        assert _CJK.search(str(exc)), str(exc)
        return
    assert len(page.hits) <= limit and page.total >= len(page.hits)


@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "scope",
                "category",
                "year_from",
                "year_to",
                "retention",
                "access",
                "cursor",
                "limit",
                "offset",
                "page",
            ]
        ),  # fmt: skip
        ANY_TEXT | TRICKY | FILTER,
        max_size=6,
    ),
    page=st.booleans(),
)
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_parameters_through_the_http_api_are_a_page_or_a_clear_400(
    world: World, params: dict[str, str], page: bool
) -> None:
    path = f"/n/{VILLAGE}/" if page else f"/api/v1/nodes/{VILLAGE}/search"
    status, body = world.get(path, params)
    assert status in (200, 400), (status, body)
    if len(world.url(path, params)) > 8190:  # aiohttp's own limit on a request line:
        return  # refused (400) before any handler runs, in aiohttp's words
    if page:
        assert "<html" in body
        if status == 400:
            assert _CJK.search(body)
        return
    answer = json.loads(body)
    if status == 400:
        assert _CJK.search(answer["error"]["message"]), answer
    else:
        assert answer["total"] >= len(answer["hits"])
