"""The demo network as `make run` starts it, driven by the real CLI in a subprocess.

This is issue 2's "done when": from a village under 330106, a search scoped to 330110 returns
hits held under 330110, and fetching one writes bytes whose sha256 is the holder's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from node.demo import (
    DEMO_ACCOUNTS,
    DEMO_CITIZEN,
    DEMO_VILLAGE,
    ROOT_PUBLIC_FILE,
    demo_accounts,
    demo_password,
    load_samples,
    prepare,
)
from node.host import Host
from node.records import Access, SearchQuery

from .network import converged, eventually, free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")
CLI = [sys.executable, "-m", "node.cli"]
TOKENS: dict[tuple[str, str], str] = {}  # the demo's API tokens, by (node, account)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Host, str]]:
    data = tmp_path_factory.mktemp("demo")
    host = Host(prepare(data, free_port(), free_port())[0])
    listening = await host.start()
    loaded = await load_samples(host)
    assert loaded > 800
    TOKENS.update(await demo_accounts(host, data))

    await eventually(lambda: converged(host), timeout=60)
    yield host, listening.web_url
    await host.stop()


async def cli(
    api: str, *args: str, cwd: Path | None = None, stdin: str = "", token: str = ""
) -> tuple[int, str, str]:
    env = {**os.environ, "ARCHIVE_NODE_API": api}
    if token:
        env["ARCHIVE_NODE_TOKEN"] = token
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
    )
    out, err = await proc.communicate(stdin.encode())
    return proc.returncode or 0, out.decode(), err.decode()


async def test_every_parent_holds_its_childrens_catalogues(demo: tuple[Host, str]) -> None:
    host, _ = demo
    assert await converged(host)
    province = host.nodes["33"].parts.catalogue
    assert await province.count() == await province.count("33") > 800
    status = await host.service(DEMO_VILLAGE).sync.status()
    assert status.links and all(link.lag == 0 for link in status.links)


async def search_330110(api: str) -> list[dict[str, Any]]:
    """The done-when search of issue 2, through the CLI: a village looks under 330110."""
    args = ["--as", DEMO_VILLAGE, "--scope", "330110", "--json", "--limit", "200", "婚姻登记"]
    code, out, err = await cli(api, "search", *args)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


async def test_cli_search_and_fetch_from_a_village(demo: tuple[Host, str], tmp_path: Path) -> None:
    _, api = demo
    hits = await search_330110(api)
    assert hits and all(h["holder"].startswith("330110") for h in hits)
    assert {"holder", "record_id", "archival_code", "title", "year", "category", "access"} <= set(
        hits[0]
    )
    open_hit = next(h for h in hits if h["access"] == Access.OPEN.value)
    ref = f"{open_hit['holder']}/{open_hit['record_id']}"
    code, out, err = await cli(api, "fetch", "--as", DEMO_VILLAGE, "--json", ref, cwd=tmp_path)
    assert code == 0, err
    result = json.loads(out)
    written = Path(result["file"]).read_bytes()
    assert hashlib.sha256(written).hexdigest() == result["sha256"] == open_hit["content_sha256"]
    assert result["bytes"] == len(written)


async def test_cli_refusals_are_one_line_and_non_zero(
    demo: tuple[Host, str], tmp_path: Path
) -> None:
    _, api = demo
    controlled = next(h for h in await search_330110(api) if h["access"] == "controlled")
    code, out, err = await cli(api, "fetch", "--as", DEMO_VILLAGE, controlled["ref"], cwd=tmp_path)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "利用申请" in err
    assert list(tmp_path.iterdir()) == []


async def test_service_point_page_shows_hits_with_holder_names(demo: tuple[Host, str]) -> None:
    _, api = demo
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{api}/n/{DEMO_VILLAGE}/", params={"q": "结婚登记", "scope": "330110"}
        ) as resp,
    ):
        assert resp.status == 200
        page = await resp.text()
    assert "余杭区档案馆" in page and "结婚登记" in page and 'lang="zh-CN"' in page


async def test_a_download_from_the_page_matches_the_holders_hash(demo: tuple[Host, str]) -> None:
    host, api = demo
    page = await host.service(DEMO_VILLAGE).search.search(
        SearchQuery(text="结婚登记", scope="330110")
    )
    hit = next(h for h in page.hits if h.access == Access.OPEN)
    url = f"{api}/api/v1/nodes/{DEMO_VILLAGE}/records/{hit.holder}/{hit.record_id}/content"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, params={"download": "1"}) as resp,
    ):
        assert resp.status == 200
        body = await resp.read()
        assert (
            resp.headers["X-Content-SHA256"]
            == hashlib.sha256(body).hexdigest()
            == hit.content_sha256
        )


async def test_each_demo_account_logs_in_with_its_documented_password(
    demo: tuple[Host, str],
) -> None:
    host, _ = demo
    for code, name, role in DEMO_ACCOUNTS:
        session = await host.service(code).accounts.login(name, demo_password(name), "127.0.0.1")
        assert session.actor.has(role) and session.actor.node == code


async def test_the_demo_token_lets_the_cli_act_and_none_is_refused(demo: tuple[Host, str]) -> None:
    _, api = demo
    token = TOKENS[("330106", "operator")]
    code, out, err = await cli(api, "registry", "audit", "--as", "330106", "--token", token)
    assert code == 0, err
    code, out, err = await cli(api, "registry", "audit", "--as", "330106")
    assert code != 0 and "--token" in err and len(err.strip().splitlines()) == 1


async def test_the_demo_citizen_is_found_by_her_number_and_not_by_her_name(
    demo: tuple[Host, str],
) -> None:
    """The README's walk-through: a clerk at the village finds DEMO_CITIZEN's controlled
    婚姻登记 record held by 余杭区档案馆 by her identity number (read from stdin)."""
    _, api = demo
    citizen = DEMO_CITIZEN
    token = TOKENS[(DEMO_VILLAGE, "clerk")]
    args = ["search", "--as", DEMO_VILLAGE, "--id-number", "-", "--json"]
    code, out, err = await cli(api, *args, stdin=citizen.id_number.digits + "\n", token=token)
    assert code == 0, err
    hits = [json.loads(line) for line in out.splitlines()]
    assert [h["ref"] for h in hits] == [citizen.ref]
    assert (hits[0]["category"], hits[0]["year"]) == ("婚姻登记", citizen.year)
    assert hits[0]["holder_name"] == citizen.holder_name == "余杭区档案馆"
    assert hits[0]["access"] == "controlled" and citizen.name not in hits[0]["title"]
    code, out, err = await cli(api, "search", "--as", DEMO_VILLAGE, "--json", citizen.name)
    assert code == 0, err
    assert citizen.ref not in out  # her name does not find it: names stay at the holder


async def test_the_demo_hands_out_the_root_public_key_and_never_its_private_half(
    tmp_path: Path,
) -> None:
    """A bank checking a demo copy offline needs ``--root-key DATA/root.pub``."""
    settings, _ = prepare(tmp_path, free_port(), free_port())
    published = (tmp_path / ROOT_PUBLIC_FILE).read_text().strip()
    assert bytes.fromhex(published) == settings.root_public_key
    assert len(published) == 64  # the 32-byte public key only: the seed stays in root.key
