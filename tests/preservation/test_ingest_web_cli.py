"""Packages over HTTP and the CLI against a real host (real SQLite, real listener): the
upload runs as a background job whose status is polled, the report is printable, content
goes with the records, export downloads a bag that validates, and the commands run as
subprocesses with an API token."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import bagit
import pytest
import pytest_asyncio

from node.actors import Actor, ActorKind, Role
from node.simulate import Network, staff, tree

from .kit import good_package, pdf_bytes, row, write_package, zip_folder

CODE = "330106"
TOKENS: dict[str, str] = {}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Network, str]]:
    net = await Network.start(
        tmp_path_factory.mktemp("web"), tree("33", "3301", CODE), one_process=True
    )
    listening = net.hosts[CODE].listening
    assert listening is not None
    TOKENS["archivist"] = await staff(net.service(CODE), "zhao", Role.ARCHIVIST)
    TOKENS["clerk"] = await staff(net.service(CODE), "wang", Role.CLERK)
    yield net, listening.web_url
    await net.stop()


def auth(role: str = "archivist") -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


async def follow(session: aiohttp.ClientSession, url: str, status_url: str) -> dict[str, Any]:
    for _ in range(400):
        async with session.get(url + status_url, headers=auth()) as response:
            job = await response.json()
        if job["state"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish")


@pytest.mark.asyncio(loop_scope="module")
async def test_an_uploaded_package_is_checked_in_the_background_and_stored_with_content(
    api: tuple[Network, str], tmp_path: Path
) -> None:
    net, url = api
    packed = zip_folder(good_package(tmp_path / "p", 3), tmp_path / "p.zip")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/api/v1/nodes/{CODE}/packages?mode=all", data=packed.read_bytes(),
            headers={**auth(), "X-Package-Name": "p.zip"},
        ) as response:  # fmt: skip
            assert response.status == 202
            started = await response.json()
        job = await follow(session, url, started["status_url"])
        assert job["state"] == "done" and job["outcome"]["stored"] == 3
        assert job["outcome"]["report"]["ok"] is True
        async with session.get(url + started["page_url"] + "/report", headers=auth()) as page:
            assert page.status == 200 and "四性检测报告" in await page.text()
        async with session.get(url + started["page_url"], headers=auth()) as page:
            assert "导入 3 条" in await page.text()
        async with session.post(
            f"{url}/api/v1/nodes/{CODE}/packages", data=b"x", headers=auth("clerk")
        ) as refused:
            assert refused.status == 403
        async with session.post(
            f"{url}/api/v1/nodes/{CODE}/packages?mode=some", data=b"x", headers=auth()
        ) as bad:
            assert bad.status == 400
        async with session.get(
            f"{url}/api/v1/nodes/{CODE}/export", params={"series": "J001-HY·2015-Y"}, headers=auth()
        ) as exported:
            assert exported.status == 200
            (tmp_path / "bag.zip").write_bytes(await exported.read())
    record = await net.node(CODE).parts.records.get("J001-HY.2015-Y-0003")
    assert net.node(CODE).parts.blobs.has(record.files[0].sha256)
    (tmp_path / "out").mkdir()
    with zipfile.ZipFile(tmp_path / "bag.zip") as archive:
        archive.extractall(tmp_path / "out")
    (folder,) = (tmp_path / "out").iterdir()
    bagit.Bag(str(folder)).validate(fast=False)


async def cli(url: str, *args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node.cli", "--api", url, *args, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ARCHIVE_NODE_TOKEN": TOKENS["archivist"]},
    )  # fmt: skip
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_the_cli_ingests_a_folder_and_a_csv_and_exports_a_bag(
    api: tuple[Network, str], tmp_path: Path
) -> None:
    net, url = api
    rows = [row(i, 档号=f"J001-HJ·2020-Y-{i:04d}", files=f"c/{i}.pdf") for i in (1, 2)]
    files = {f"c/{i}.pdf": pdf_bytes() + f"% hj {i}\n".encode() for i in (1, 2)}
    folder = write_package(tmp_path / "folder", rows, files)
    code, out, err = await cli(
        url, "ingest", "--as", CODE, str(folder), "--report", str(tmp_path / "r.html"), cwd=tmp_path
    )
    assert code == 0, err
    assert "导入 2 条" in out and "四性检测报告" in (tmp_path / "r.html").read_text()
    code, out, _ = await cli(url, "ingest", "--as", CODE, "--json", str(folder), cwd=tmp_path)
    assert code == 0 and json.loads(out)["unchanged"] == 2  # the same package again: a no-op
    bad = write_package(tmp_path / "bad", [row(1, 档号="J001-HJ·2021-Y-0001", 题名="")], {})
    code, out, err = await cli(url, "ingest", "--as", CODE, str(bad / "metadata.csv"), cwd=tmp_path)
    assert code == 1 and "缺少必填著录项：题名" in out and "未导入" in err
    code, out, err = await cli(
        url,
        "export",
        "--as",
        CODE,
        "--series",
        "J001-HJ·2020-Y",
        "--out",
        str(tmp_path / "bag"),
        cwd=tmp_path,
    )
    assert code == 0, err
    assert "已导出 2 条" in out
    bagit.Bag(str(tmp_path / "bag")).validate(fast=False)
    code, out, err = await cli(
        url,
        "export",
        "--as",
        CODE,
        "--record",
        "J001-HJ.2020-Y-0001",
        "--record",
        "J001-HJ.2020-Y-0002",
        "--out",
        str(tmp_path / "two.zip"),
        cwd=tmp_path,
    )
    assert code == 0 and "已导出 2 条" in out, err


@pytest.mark.asyncio(loop_scope="module")
async def test_a_fixity_failure_shows_on_the_archivists_page_and_in_the_api(
    api: tuple[Network, str], tmp_path: Path
) -> None:
    net, url = api
    rows = [row(1, 档号="J001-TY·2012-Y-0001", files="a.pdf")]
    folder = write_package(tmp_path / "p", rows, {"a.pdf": pdf_bytes() + b"% ty\n"})
    preservation = net.service(CODE).preservation
    assert preservation is not None
    await preservation.ingest_package(folder, mode="all", actor=_archivist())
    record = await net.node(CODE).parts.records.get("J001-TY.2012-Y-0001")
    net.node(CODE).parts.blobs.path(record.files[0].sha256).write_bytes(b"damaged")
    await preservation.fixity_run(10_000, actor=_archivist())
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/n/{CODE}/preservation", headers=auth()) as page:
            text = await page.text()
        async with session.get(f"{url}/api/v1/nodes/{CODE}/fixity", headers=auth()) as answer:
            body = await answer.json()
        async with session.get(f"{url}/api/v1/nodes/{CODE}/export", headers=auth()) as empty:
            assert empty.status == 400 and "record=" in (await empty.json())["error"]["message"]
    assert "J001-TY.2012-Y-0001" in text and "a.pdf" in text and "修复" in text
    assert [f["record_id"] for f in body["failures"]] == ["J001-TY.2012-Y-0001"]
    assert body["checked"] >= 1


def _archivist() -> Actor:
    return Actor(ActorKind.ACCOUNT, "zhao", CODE, frozenset({Role.ARCHIVIST}))


@pytest.mark.asyncio(loop_scope="module")
async def test_a_search_result_exports_as_a_bag(api: tuple[Network, str], tmp_path: Path) -> None:
    net, url = api
    rows = [row(i, 档号=f"J001-XJ·2013-Y-{i:04d}", 题名=f"王小明学籍卡 {i}") for i in (1, 2)]
    folder = write_package(tmp_path / "p", rows, {})
    preservation = net.service(CODE).preservation
    assert preservation is not None
    await preservation.ingest_package(folder, mode="all", actor=_archivist())
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{url}/api/v1/nodes/{CODE}/export", params={"q": "王小明学籍卡"}, headers=auth()
        ) as exported,
    ):
        assert exported.status == 200
        (tmp_path / "bag.zip").write_bytes(await exported.read())
    with zipfile.ZipFile(tmp_path / "bag.zip") as archive:
        archive.extractall(tmp_path / "out")
    (folder,) = (tmp_path / "out").iterdir()
    bagit.Bag(str(folder)).validate(fast=False)
    lines = (folder / "data/metadata.jsonl").read_text("utf-8").splitlines()
    assert sorted(json.loads(line)["archival_code"] for line in lines) == [
        "J001-XJ·2013-Y-0001",
        "J001-XJ·2013-Y-0002",
    ]
