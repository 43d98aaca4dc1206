"""The operator's ingest and repair endpoints on a real host (one process, real SQLite), and
their CLI commands run as subprocesses against it, each authenticated by an API token."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from node.actors import Role
from node.records import MAX_INGEST_RECORDS

from .network import Network, converged, eventually, make_record, staff, tree

COUNTY = "330106"


def record_json(n: int, **changes: object) -> dict[str, Any]:
    record, _ = make_record(COUNTY, n, title=f"李建国土地承包合同{n}", category="土地承包")
    fields: dict[str, Any] = {
        "record_id": record.record_id,
        "archival_code": record.archival_code,
        "fonds": record.fonds,
        "category": record.category,
        "year": record.year,
        "retention": str(record.retention),
        "title": record.title,
        "creator": record.creator,
        "date": record.date,
        "access": "open",
    }
    fields.update(changes)
    return fields


TOKENS: dict[str, str] = {}  # node code -> an archivist-and-operator's API token there


@pytest_asyncio.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[Network, str]]:
    net = await Network.start(tmp_path, tree("33", "3301", COUNTY), one_process=True)
    listening = net.hosts[COUNTY].listening
    assert listening is not None
    for code in ("33", COUNTY):
        TOKENS[code] = await staff(net.service(code), "ops", Role.ARCHIVIST, Role.OPERATOR)
    yield net, listening.web_url
    await net.stop()


async def post(
    url: str, body: object = None, *, code: str = COUNTY, **kwargs: Any
) -> tuple[int, Any]:
    """POST as the staff account of ``code`` (``code=""``: as nobody)."""
    headers = {"Authorization": f"Bearer {TOKENS[code]}"} if code else {}
    headers.update(kwargs.pop("headers", {}))
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers, **kwargs) as r,
    ):
        return r.status, await r.json()


@pytest.mark.asyncio
async def test_ingest_is_all_or_nothing_and_bad_input_is_refused(
    api: tuple[Network, str],
) -> None:
    net, base = api
    url = f"{base}/api/v1/nodes/{COUNTY}/records"
    records = net.node(COUNTY).parts.records
    bad_code = record_json(2, archival_code="J001-XX·2015-Y-0002")
    status, body = await post(url, {"records": [record_json(1), bad_code, record_json(3)]})
    assert status == 400 and "第 2 条" in body["error"]["message"]
    for refused in (
        {"records": [record_json(1, colour="red")]},
        {"records": [record_json(1, holder="330108")]},  # another node's record
        {"records": []},
        {"records": [record_json(1)] * (MAX_INGEST_RECORDS + 1)},
        ["not", "an", "object"],
    ):
        status, body = await post(url, refused)
        assert status == 400, body
    assert await records.count() == 0
    status, body = await post(url, {"records": [record_json(n) for n in range(1, 4)]})
    assert status == 200 and body["accepted"] == 3
    status, body = await post(url, {"records": [record_json(1)]}, headers={"Origin": "http://x"})
    assert status == 403
    status, body = await post(url, {"records": [record_json(4)]}, code="")
    assert status == 401 and "--token" in body["error"]["message"]
    assert await records.count() == 3


@pytest.mark.asyncio
async def test_repair_endpoint_and_cli(api: tuple[Network, str], tmp_path: Path) -> None:
    net, base = api
    lines = tmp_path / "records.jsonl"
    lines.write_text(
        "\n".join(json.dumps(record_json(n), ensure_ascii=False) for n in range(1, 6)) + "\n",
        encoding="utf-8",
    )
    code, out, err = await cli(base, "ingest", "--as", COUNTY, str(lines), cwd=tmp_path)
    assert code == 0 and "已导入 5 条" in out, err
    await eventually(lambda: converged(net.hosts[COUNTY]))
    status, body = await post(f"{base}/api/v1/nodes/{COUNTY}/sync/repair")
    assert status == 200 and body["intact"] and body["parent"] == "3301", body
    status, body = await post(f"{base}/api/v1/nodes/33/sync/repair", code="33")
    assert status == 400 and "没有上级" in body["error"]["message"]
    code, out, err = await cli(base, "sync", "repair", "--as", COUNTY, cwd=tmp_path)
    assert code == 0 and "一致" in out, err
    code, out, err = await cli(
        base, "sync", "repair", "--as", COUNTY, "--deep", "--json", cwd=tmp_path
    )
    assert code == 0 and json.loads(out)["deep"] and json.loads(out)["intact"], err
    status, body = await post(f"{base}/api/v1/nodes/{COUNTY}/sync/repair?deep=yes")
    assert status == 400
    # a malformed line is refused before anything is sent
    lines.write_text(json.dumps(record_json(9)) + "\n{oops\n", encoding="utf-8")
    code, out, err = await cli(base, "ingest", "--as", COUNTY, str(lines), cwd=tmp_path)
    assert code != 0 and "第 2 行" in err and len(err.strip().splitlines()) == 1
    assert await net.node(COUNTY).parts.records.count() == 5


async def cli(api: str, *args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node.cli", "--api", api, *args, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ARCHIVE_NODE_TOKEN": TOKENS[COUNTY]},
    )  # fmt: skip
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()
