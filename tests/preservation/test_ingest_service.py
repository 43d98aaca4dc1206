"""Ingesting packages into real nodes (real SQLite, real gRPC sync to the parent): no-op
re-ingest, new versions that propagate, the two modes, 档号 uniqueness, fixity, BagIt export
that re-ingests elsewhere as the same records, and the PREMIS events in the audit log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import bagit
import pytest
import pytest_asyncio

from node.actors import Actor, ActorKind, Role
from node.audit import audit_query
from node.errors import InvalidRecord, NotFound
from node.federation.services.preservation import EVENTS, Preservation, Selection
from node.simulate import Network, eventually, make_record, tree

from .kit import csv_bytes, good_package, pdf_bytes, row, write_package

NODES = tree("33", "3301", "330106")
ARCHIVIST = Actor(ActorKind.ACCOUNT, "zhao", "330106", frozenset({Role.ARCHIVIST}))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("preservation"), NODES)
    yield network
    await network.stop()


def service(net: Network, code: str = "330106") -> Preservation:
    preservation = net.service(code).preservation
    assert isinstance(preservation, Preservation)
    return preservation


async def acts(net: Network, act: str, code: str = "330106") -> list:  # type: ignore[type-arg]
    return list((await net.service(code).audit.entries(audit_query(act=act, limit=200))).entries)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_package_goes_in_once_and_a_change_is_a_new_version_that_propagates(
    net: Network, tmp_path: Path
) -> None:
    folder = good_package(tmp_path / "p", 3)
    first = await service(net).ingest_package(folder, mode="all", actor=ARCHIVIST)
    assert (first.stored, first.unchanged) == (3, 0) and first.report.ok
    stored = await net.node("330106").parts.records.get("J001-HY.2015-Y-0002")
    assert stored.files[0].media_type == "application/pdf" and stored.doc_type == "证明"
    assert net.node("330106").parts.blobs.has(stored.files[0].sha256)
    again = await service(net).ingest_package(folder, mode="all", actor=ARCHIVIST)
    assert (again.stored, again.unchanged, again.change_head) == (0, 3, first.change_head)
    files = {f"content/{i:04d}.pdf": pdf_bytes() + f"% {i}\n".encode() for i in (1, 2, 3)}
    rows = [row(i, files=f"content/{i:04d}.pdf") for i in (1, 2, 3)]
    rows[1]["题名"] = "张三与李四结婚登记（更正）"
    changed = await service(net).ingest_package(
        write_package(tmp_path / "q", rows, files), mode="all", actor=ARCHIVIST
    )
    assert (changed.stored, changed.unchanged) == (1, 2)
    assert (await net.node("330106").parts.records.get("J001-HY.2015-Y-0002")).version == 2

    async def parent_has_it() -> bool:
        try:
            entry = await net.node("3301").parts.catalogue.get("330106", "J001-HY.2015-Y-0002")
        except NotFound:
            return False
        return entry.version == 2 and "更正" in entry.title

    await eventually(parent_has_it)
    (event,) = [e for e in await acts(net, EVENTS["ingestion"]) if e.details["stored"] == 1]
    assert event.actor == "account:zhao@330106" and event.details["unchanged"] == 2
    assert await acts(net, EVENTS["validation"]) and await acts(net, EVENTS["format"])


@pytest.mark.asyncio(loop_scope="module")
async def test_all_or_nothing_or_the_good_rows_as_the_archivist_chooses(
    net: Network, tmp_path: Path
) -> None:
    rows = [
        row(1, 档号="J001-TD·2016-D30-0001", 保管期限="D30"),
        row(2, 档号="J001-TD·2016-D30-0002", 保管期限="D30", 形成日期="bad"),
    ]
    folder = write_package(tmp_path / "p", rows, {})
    refused = await service(net).ingest_package(folder, mode="all", actor=ARCHIVIST)
    assert refused.stored == 0 and refused.report.bad_rows == {3}, refused.report.findings
    with pytest.raises(NotFound):
        await net.node("330106").parts.records.get("J001-TD.2016-D30-0001")
    good = await service(net).ingest_package(folder, mode="good", actor=ARCHIVIST)
    assert good.stored == 1 and [f.row for f in good.report.findings] == [3]
    await net.node("330106").parts.records.get("J001-TD.2016-D30-0001")


@pytest.mark.asyncio(loop_scope="module")
async def test_an_archival_code_held_by_another_record_is_refused(
    net: Network, tmp_path: Path
) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "metadata.csv").write_bytes(
        csv_bytes(
            [{**row(1, 档号="J001-XJ·2017-D10-0001", 保管期限="10年"), "档案标识": "OTHER-1"}],
            (*row(1), "档案标识"),
        )
    )
    assert (await service(net).ingest_package(folder, mode="all", actor=ARCHIVIST)).stored == 1
    (folder / "metadata.csv").write_bytes(
        csv_bytes(
            [{**row(1, 档号="J001-XJ·2017-D10-0001", 保管期限="10年"), "档案标识": "OTHER-2"}],
            (*row(1), "档案标识"),
        )
    )
    outcome = await service(net).ingest_package(folder, mode="all", actor=ARCHIVIST)
    assert outcome.stored == 0 and "OTHER-1" in outcome.report.findings[0].reason


@pytest.mark.asyncio(loop_scope="module")
async def test_fixity_finds_corrupt_content_marks_its_record_and_logs_it(
    net: Network, tmp_path: Path
) -> None:
    folder = good_package(tmp_path / "p", 3)
    rows = [row(i, 档号=f"J001-SB·2018-Y-{i:04d}", files=f"content/{i:04d}.pdf") for i in (1, 2, 3)]
    files = {f"content/{i:04d}.pdf": pdf_bytes() + f"% sb {i}\n".encode() for i in (1, 2, 3)}
    await service(net).ingest_package(
        write_package(folder, rows, files), mode="all", actor=ARCHIVIST
    )
    record = await net.node("330106").parts.records.get("J001-SB.2018-Y-0002")
    path = net.node("330106").parts.blobs.path(record.files[0].sha256)
    good = path.read_bytes()
    path.write_bytes(good[:-5] + b"XXXXX")
    checked = 0
    for _ in range(10):  # a slice per run until everything was checked once
        run = await net.node("330106").fixity.run_scheduled()
        checked += run.checked
        if run.failed:
            break
    assert run.failed == (record.files[0].sha256,)
    (failure,) = await service(net).fixity_failures()
    assert failure.record_id == "J001-SB.2018-Y-0002" and failure.name == "0002.pdf"
    logged = [
        e for e in await acts(net, EVENTS["fixity"]) if e.subject.endswith("J001-SB.2018-Y-0002")
    ]
    assert logged and logged[0].details["outcome"] == "failure"
    path.write_bytes(good)  # the repair: the good copy put back under its hash
    for _ in range(10):
        await service(net).fixity_run(1000, actor=ARCHIVIST)
    assert await service(net).fixity_failures() == []


@pytest.mark.asyncio(loop_scope="module")
async def test_an_exported_bag_validates_and_reingests_elsewhere_as_the_same_records(
    net: Network, tmp_path: Path
) -> None:
    rows = [
        row(i, 档号=f"J001-FC·2019-D30-{i:04d}", 保管期限="30年", files=f"content/{i:04d}.pdf")
        for i in (1, 2)
    ]
    files = {f"content/{i:04d}.pdf": pdf_bytes() + f"% fc {i}\n".encode() for i in (1, 2)}
    await service(net).ingest_package(
        write_package(tmp_path / "p", rows, files), mode="all", actor=ARCHIVIST
    )
    exported = await service(net).export(
        Selection(series="J001-FC·2019-D30"), tmp_path / "bag", actor=ARCHIVIST, as_zip=False
    )
    assert (exported.records, exported.files) == (2, 2)
    bag = bagit.Bag(str(tmp_path / "bag"))
    bag.validate(fast=False)  # full validation: every checksum recomputed
    assert bag.version_info == (1, 0) and set(bag.algorithms) == {"sha256", "sha512"}
    assert bag.info["Archive-Holder"] == "330106" and "Export-Time" in bag.info
    assert "<档号>J001-FC·2019-D30-0001</档号>" in (tmp_path / "bag/data/metadata.xml").read_text()
    zipped = await service(net).export(
        Selection(record_ids=("J001-FC.2019-D30-0001",)),
        tmp_path / "one.zip",
        actor=ARCHIVIST,
        as_zip=True,
    )
    assert zipped.records == 1 and zipped.path.stat().st_size > 0
    other = await service(net, "3301").ingest_package(tmp_path / "bag", mode="all", actor=ARCHIVIST)
    assert other.report.ok and other.stored == 2, other.report.findings
    mine = await net.node("330106").parts.records.get("J001-FC.2019-D30-0002")
    theirs = await net.node("3301").parts.records.get("J001-FC.2019-D30-0002")
    assert theirs == type(mine)(**{**mine.__dict__, "holder": "3301"})
    assert (await acts(net, EVENTS["export"]))[0].details["records"] in (1, 2)
    again = await service(net, "3301").ingest_package(
        tmp_path / "one.zip", mode="all", actor=ARCHIVIST
    )
    assert again.report.ok and (again.stored, again.unchanged) == (0, 1)
    with pytest.raises(NotFound):
        await service(net).export(
            Selection(record_ids=("NOPE",)), tmp_path / "x", actor=ARCHIVIST, as_zip=False
        )
    assert json.loads((tmp_path / "bag/data/register.json").read_text())["件数"] == 2


@pytest.mark.asyncio(loop_scope="module")
async def test_the_json_ingest_too_keeps_an_archival_code_to_one_record(net: Network) -> None:
    ingest = net.service("330106").ingest
    first, data = make_record("330106", 901, title="赵六结婚登记")
    content = {first.files[0].sha256: data}
    await ingest.ingest([first], content, actor=ARCHIVIST)
    twin = replace(first, record_id="TWIN-901")
    with pytest.raises(InvalidRecord, match="已由本节点的档案"):
        await ingest.ingest([twin], content, actor=ARCHIVIST)
    a, b = (replace(first, record_id=f"A-{i}", archival_code="J001-HY·2015-Y-0990") for i in (1, 2))
    with pytest.raises(InvalidRecord, match="同时用于"):
        await ingest.ingest([a, b], content, actor=ARCHIVIST)
    await ingest.ingest([first.next_version(title="改题名")], actor=ARCHIVIST)  # itself: fine
