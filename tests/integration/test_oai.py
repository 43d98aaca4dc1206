"""OAI-PMH 2.0 on every node of the demo network, harvested by a maintained client.

The demo's sixteen nodes run in one host with their sample records; every node's feed is
harvested with oaipmh-scythe (from PyPI) over the real web listener, and every response the
client receives is validated offline against the OAI-PMH 2.0 and oai_dc schemas shipped in
tests/data/oai/ (no network: the schemas' imports are the local copies). Then a controlled
record is opened and an open one closed at a village, and an incremental harvest of every
node from the second after the first harvest sees exactly those two changes.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
import pytest_asyncio
import xmlschema
from oaipmh_scythe import Scythe
from oaipmh_scythe.exceptions import NoRecordsMatch

from node.accounts import console_actor
from node.config_sections import OaiSettings
from node.demo import load_samples, prepare
from node.federation.services.oai import OaiProvider
from node.host import Host
from node.identity import covers
from node.records import Access
from node.sample_data import DEMO_NETWORK, sample_records
from node.storage.db import Database
from node.storage.oai import OaiFeed

from .network import converged, eventually, free_port

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "oai"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
VILLAGE = "330106001001"
PAGE = 7  # small pages, so every list is resumed several times
NAMES = dict(DEMO_NETWORK)
SAMPLES = {code: [r for r, _ in sample_records(code, NAMES[code])] for code in NAMES}


def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(
        str(SCHEMAS / "OAI-PMH.xsd"),
        base_url=str(SCHEMAS),
        allow="sandbox",  # nothing outside tests/data/oai, and no network
        locations={"http://www.openarchives.org/OAI/2.0/oai_dc/": str(SCHEMAS / "oai_dc.xsd")},
    )


SCHEMA = schema()


class ValidatingScythe(Scythe):
    """The client, checking every response it receives against the schemas first."""

    responses = 0

    def _request(self, query: dict[str, str]) -> httpx2.Response:
        response = super()._request(query)
        SCHEMA.validate(response.content)
        ValidatingScythe.responses += 1
        return response


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Host, str]]:
    data = tmp_path_factory.mktemp("oai")
    host = Host(prepare(data, free_port(), free_port())[0])
    listening = await host.start()
    await load_samples(host)
    for node in host.nodes.values():
        node.oai.settings = OaiSettings(page_size=PAGE)
    await eventually(lambda: converged(host), timeout=90)
    yield host, listening.web_url
    await host.stop()


def open_refs(code: str) -> set[str]:
    """The identifiers of every open sample record in ``code``'s subtree."""
    return {
        f"oai:archive-node:{r.holder}/{r.record_id}"
        for holder, records in SAMPLES.items()
        if covers(code, holder)
        for r in records
        if r.access == Access.OPEN
    }


def harvest(url: str, **kwargs: Any) -> dict[str, Any]:
    """identifier -> Record of a whole ListRecords harvest (deleted ones included)."""
    with ValidatingScythe(url) as client:
        try:
            return {r.header.identifier: r for r in client.list_records(**kwargs)}
        except NoRecordsMatch:
            return {}


async def test_every_node_serves_its_subtrees_open_records(demo: tuple[Host, str]) -> None:
    host, web = demo
    for code in host.nodes:
        got = await asyncio.to_thread(harvest, f"{web}/n/{code}/oai")
        assert set(got) == open_refs(code), code
        assert not any(r.deleted for r in got.values())
    # what a record says in oai_dc: title, 档号, holder, category, year
    record = next(r for r in SAMPLES[VILLAGE] if r.access == Access.OPEN)
    got = await asyncio.to_thread(harvest, f"{web}/n/33/oai", set_=VILLAGE)
    assert set(got) == open_refs(VILLAGE)
    metadata = got[f"oai:archive-node:{VILLAGE}/{record.record_id}"].metadata
    assert metadata["title"] == [record.title]
    assert record.archival_code in metadata["identifier"]
    assert metadata["publisher"] == [NAMES[VILLAGE]] and metadata["date"] == [str(record.year)]
    assert record.category in metadata["subject"]
    assert any(u.endswith(f"/records/{VILLAGE}/{record.record_id}/content")
               for u in metadata["identifier"])  # fmt: skip
    assert ValidatingScythe.responses > len(host.nodes)


async def test_a_countys_set_holds_its_townships_and_villages(demo: tuple[Host, str]) -> None:
    host, web = demo

    def sets_and_county() -> tuple[list[str], set[str]]:
        with ValidatingScythe(f"{web}/n/3301/oai") as client:
            specs = [s.setSpec for s in client.list_sets()]
            ids = {h.identifier for h in client.list_identifiers(set_="330106")}
        return specs, ids

    specs, ids = await asyncio.to_thread(sets_and_county)
    assert {"3301", "330106", "330106001", VILLAGE, "330110002002"} <= set(specs)
    assert "33" not in specs  # a city's feed starts at the city
    assert ids == open_refs("330106") and any(":330106002001/" in i for i in ids)


async def test_identify_formats_and_get_record(demo: tuple[Host, str]) -> None:
    _, web = demo
    controlled = next(r for r in SAMPLES[VILLAGE] if r.access == Access.CONTROLLED)

    def calls() -> tuple[Any, ...]:
        with ValidatingScythe(f"{web}/n/330106/oai") as client:
            identify = client.identify()
            formats = [f.metadataPrefix for f in client.list_metadata_formats()]
            first = sorted(open_refs(VILLAGE))[0]
            record = client.get_record(first)
            return identify, formats, record

    identify, formats, record = await asyncio.to_thread(calls)
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.baseURL == f"{web}/n/330106/oai"
    assert formats == ["oai_dc"] and not record.deleted
    # a record that was never open is not in the feed
    body = await get(web, "330106", verb="GetRecord", metadataPrefix="oai_dc",
                     identifier=f"oai:archive-node:{VILLAGE}/{controlled.record_id}")  # fmt: skip
    assert error_code(body) == "idDoesNotExist"


async def get(web: str, code: str, **params: str) -> bytes:
    async with httpx2.AsyncClient() as client:
        response = await client.get(f"{web}/n/{code}/oai", params=params)
    assert response.status_code == 200
    SCHEMA.validate(response.content)
    return response.content


def error_code(body: bytes) -> str | None:
    match = re.search(rb'<error code="([A-Za-z]+)"', body)
    return match[1].decode() if match else None


def tokens(body: bytes) -> list[tuple[str, dict[str, str]]]:
    found = re.findall(rb"<resumptionToken([^>]*?)(?:/>|>([^<]*)</resumptionToken>)", body)
    return [
        (text.decode(), dict(re.findall(r'(\w+)="([^"]*)"', attrs.decode())))
        for attrs, text in found
    ]


async def test_tokens_carry_size_and_cursor_and_end_empty(demo: tuple[Host, str]) -> None:
    """Also when the list is an exact multiple of the page: the last page's token is empty."""
    host, web = demo
    size = len(open_refs(VILLAGE))
    for page in (size, size // 2 if size % 2 == 0 else size, 3):
        host.nodes[VILLAGE].oai.settings = OaiSettings(page_size=page)
        seen, cursor = 0, 0
        body = await get(web, VILLAGE, verb="ListIdentifiers", metadataPrefix="oai_dc")
        while True:
            seen += body.count(b"<header")
            found = tokens(body)
            if page >= size:
                assert found == [] and seen == size  # one page: no token at all
                break
            ((token, attrs),) = found
            assert attrs["completeListSize"] == str(size) and attrs["cursor"] == str(cursor)
            if not token:
                break
            cursor = seen
            body = await get(web, VILLAGE, verb="ListIdentifiers", resumptionToken=token)
        assert seen == size
    host.nodes[VILLAGE].oai.settings = OaiSettings(page_size=PAGE)


async def test_a_token_survives_a_restart(demo: tuple[Host, str], tmp_path: Path) -> None:
    host, web = demo
    body = await get(web, "330106", verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = tokens(body)[0][0]
    node = host.nodes["330106"]
    # a new provider over a newly opened database: nothing of the first one is kept
    db = Database(node.dir / "node.db")
    await db.open()
    try:
        fresh = OaiProvider(node.code, node.settings.name, OaiFeed(db), node.oai.settings)
        reply = await fresh.respond([("verb", "ListIdentifiers"), ("resumptionToken", token)], web)
        assert error_code(reply.body) is None
        following = await get(web, "330106", verb="ListIdentifiers", resumptionToken=token)
        assert reply.body.split(b"<ListIdentifiers>")[1] == following.split(b"<ListIdentifiers>")[1]
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"verb": "Nonsense"}, "badVerb"),
        ({}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "bogus": "1"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-13-01"}, "badArgument"),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2020-01-01",
                "until": "2020-01-01T00:00:00Z",
            },
            "badArgument",
        ),  # fmt: skip
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "abc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
        ({"verb": "ListRecords", "resumptionToken": "eyJ2IjoxfQ"}, "badResumptionToken"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "330110"}, "noRecordsMatch"),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2999-01-01"},
            "noRecordsMatch",
        ),
        (
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:x:1"},
            "idDoesNotExist",
        ),
        ({"verb": "ListMetadataFormats", "identifier": "oai:archive-node:33/x"}, "idDoesNotExist"),
    ],
)
async def test_the_specs_errors(demo: tuple[Host, str], params: dict[str, str], code: str) -> None:
    _, web = demo
    body = await get(web, "330106", **params)
    assert error_code(body) == code
    if code in ("badVerb", "badArgument"):
        assert b"<request>" in body  # no attributes echoed
    else:
        assert b'verb="' in body


async def test_no_sets_when_sets_are_off(demo: tuple[Host, str]) -> None:
    host, web = demo
    node = host.nodes["330106"]
    node.oai.settings = replace(node.oai.settings, sets=False)
    try:
        assert error_code(await get(web, "330106", verb="ListSets")) == "noSetHierarchy"
        body = await get(
            web, "330106", verb="ListIdentifiers", metadataPrefix="oai_dc", set="330106"
        )
        assert error_code(body) == "noSetHierarchy"
    finally:
        node.oai.settings = replace(node.oai.settings, sets=True)


async def test_post_is_the_same_request(demo: tuple[Host, str]) -> None:
    _, web = demo
    async with httpx2.AsyncClient() as client:
        response = await client.post(f"{web}/n/{VILLAGE}/oai", data={"verb": "Identify"})
    SCHEMA.validate(response.content)
    assert b"<Identify>" in response.content


async def test_incremental_harvests_see_an_opening_and_a_closure(demo: tuple[Host, str]) -> None:
    """Last: it changes two records. Every node's harvest from the second after the first
    harvest sees exactly them: one with its real title now, one as deleted."""
    host, web = demo
    village = host.nodes[VILLAGE]
    controlled = next(r for r in SAMPLES[VILLAGE] if r.access == Access.CONTROLLED)
    opened_one = next(r for r in SAMPLES[VILLAGE] if r.access == Access.OPEN)
    before = {code: await asyncio.to_thread(harvest, f"{web}/n/{code}/oai") for code in host.nodes}
    since = int(time.time()) + 1
    await asyncio.sleep(since - time.time())  # the next UTC second: datestamps are seconds
    opened = (await village.parts.records.get(controlled.record_id)).next_version(
        access=Access.OPEN
    )
    closed = (await village.parts.records.get(opened_one.record_id)).next_version(
        access=Access.CLOSED
    )
    await village.services.ingest.ingest([opened, closed], actor=console_actor(VILLAGE))

    async def everywhere() -> bool:
        for code in ("33", "3301", "330106", "330106001"):
            entry = await host.nodes[code].parts.catalogue.get(VILLAGE, closed.record_id)
            if entry.version != closed.version:
                return False
        return await converged(host)

    await eventually(everywhere, timeout=30)
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since - 1))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
    changed = {f"oai:archive-node:{VILLAGE}/{r.record_id}" for r in (opened, closed)}
    for code in ("33", "3301", "330106", "330106001", VILLAGE):
        got = await asyncio.to_thread(harvest, f"{web}/n/{code}/oai", from_=stamp)
        assert set(got) == changed, code
        assert got[f"oai:archive-node:{VILLAGE}/{closed.record_id}"].deleted
        now_open = got[f"oai:archive-node:{VILLAGE}/{opened.record_id}"]
        assert not now_open.deleted and now_open.metadata["title"] == [opened.title]
        # until the second before: the rest of the feed, none of the two
        old = await asyncio.to_thread(harvest, f"{web}/n/{code}/oai", until=until)
        assert set(old) == set(before[code]) - changed
    for code in ("330106002", "330110"):  # other subtrees saw nothing
        assert await asyncio.to_thread(harvest, f"{web}/n/{code}/oai", from_=stamp) == {}
    # the closed record stays in the feed as deleted, never idDoesNotExist
    body = await get(web, "33", verb="GetRecord", metadataPrefix="oai_dc",
                     identifier=f"oai:archive-node:{VILLAGE}/{closed.record_id}")  # fmt: skip
    assert error_code(body) is None and b'status="deleted"' in body
