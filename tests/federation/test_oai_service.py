"""The OAI-PMH service on its own (no HTTP): whatever a harvester sends, the answer is a
document that validates against the OAI-PMH schema; tokens of one verb are refused by
another; a list exactly a multiple of the page ends with an empty token."""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.config_sections import OaiSettings
from node.federation.services.oai import OaiProvider
from node.records import Access, CatalogueEntry, Retention
from node.storage.catalogue import CatalogueStore
from node.storage.db import Database
from node.storage.oai import OaiFeed

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "oai"
SCHEMA = xmlschema.XMLSchema(
    str(SCHEMAS / "OAI-PMH.xsd"),
    base_url=str(SCHEMAS),
    allow="sandbox",
    locations={"http://www.openarchives.org/OAI/2.0/oai_dc/": str(SCHEMAS / "oai_dc.xsd")},
)
T = TypeVar("T")


def entry(n: int) -> CatalogueEntry:
    return CatalogueEntry(
        holder="330106001", record_id=f"R{n}", version=1, archival_code=f"J001-HY·2015-Y-{n:04d}",
        category="婚姻登记", year=2015, retention=Retention.PERMANENT,
        title=f"张三<与>李四 & “登记” {n}", creator="民政局", access=Access.OPEN,
        holder_name="北山街道档案室", subjects=("张三",),
    )  # fmt: skip


def with_provider(count: int, page: int, body: Callable[[OaiProvider], Awaitable[T]]) -> T:
    async def run() -> T:
        with tempfile.TemporaryDirectory() as folder:
            db = Database(Path(folder) / "node.db")
            await db.open()
            try:
                await CatalogueStore(db).apply([entry(n) for n in range(count)])
                settings_ = OaiSettings(page_size=page)
                return await body(OaiProvider("330106", "西湖区档案馆", OaiFeed(db), settings_))
            finally:
                await db.close()

    return asyncio.run(run())


KEYS = st.sampled_from(
    ["verb", "metadataPrefix", "identifier", "from", "until", "set", "resumptionToken", "x"]
)
VALUES = st.one_of(
    st.sampled_from(["ListRecords", "GetRecord", "Identify", "ListSets", "oai_dc", "330106001",
                     "2020-01-01", "2020-01-01T00:00:00Z", "oai:archive-node:330106001/R1",
                     "eyJ2IjoiTGlzdFJlY29yZHMifQ", "ListIdentifiers", "ListMetadataFormats"]),
    st.text(max_size=30),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(KEYS, VALUES), max_size=5))
def test_every_answer_is_a_valid_document(arguments: list[tuple[str, str]]) -> None:
    async def ask(provider: OaiProvider) -> bytes:
        return (await provider.respond(arguments, "http://127.0.0.1:8080/n/330106/oai")).body

    SCHEMA.validate(with_provider(3, 2, ask))


def test_the_last_page_of_an_exact_multiple_has_an_empty_token() -> None:
    async def harvest(provider: OaiProvider) -> list[bytes]:
        bodies = []
        args = [("verb", "ListRecords"), ("metadataPrefix", "oai_dc")]
        while True:
            body = (await provider.respond(args, "http://x/n/330106/oai")).body
            SCHEMA.validate(body)
            bodies.append(body)
            token = re.search(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>", body)
            if token is None:
                return bodies
            args = [("verb", "ListRecords"), ("resumptionToken", token[1].decode())]

    bodies = with_provider(6, 3, harvest)
    assert len(bodies) == 2  # no third, empty request
    assert b'cursor="0"' in bodies[0] and b'completeListSize="6"' in bodies[0]
    assert re.search(rb'<resumptionToken (completeListSize="6" cursor="3"|cursor="3" '
                     rb'completeListSize="6")/>', bodies[1])  # fmt: skip
    assert "张三&lt;与&gt;李四 &amp; ".encode() in bodies[0]  # the title escaped, never markup


def test_a_token_of_one_verb_is_no_good_for_another() -> None:
    async def ask(provider: OaiProvider) -> bytes:
        first = await provider.respond(
            [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")], "http://x/oai"
        )
        token = re.search(rb"<resumptionToken[^>]*>([^<]+)<", first.body)
        assert token is not None
        args = [("verb", "ListRecords"), ("resumptionToken", token[1].decode())]
        return (await provider.respond(args, "http://x/oai")).body

    assert b'code="badResumptionToken"' in with_provider(5, 2, ask)
