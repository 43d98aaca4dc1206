"""Content leaves a node only through the record it was ingested with (issue 9, item 4).

Content is stored by its sha256, so an open record that names a controlled record's hash
would, unless refused, serve the controlled bytes. Real gRPC between hosts (one per node),
real SQLite and blob files: a controlled record with its scan at the county, then the alias
attack as an archivist of that county could try it, and a search from the province.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.errors import AccessDenied, InvalidRecord
from node.records import Access, Record, SearchQuery
from node.storage.catalogue import CatalogueStore

from .network import Network, eventually, ingest, make_record, tree

PROVINCE, CITY, COUNTY = "33", "3301", "330106"
SECRET = "社保缴费记录（控制使用）扫描件".encode() * 64
CONTROLLED, _ = make_record(
    COUNTY, 1, title="王秀英社保缴费记录", category="社保", access=Access.CONTROLLED,
    content=SECRET,
)  # fmt: skip
HONEST, HONEST_DATA = make_record(COUNTY, 2, title="李建国、张丽结婚登记档案")
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("release"), tree(PROVINCE, CITY, COUNTY))
    await ingest(network.service(COUNTY), [(CONTROLLED, SECRET), (HONEST, HONEST_DATA)])
    province = network.node(PROVINCE).parts.catalogue
    await eventually(lambda: _held(province, 2))
    yield network
    await network.stop()


async def _held(catalogue: CatalogueStore, count: int) -> bool:
    return await catalogue.count(COUNTY) >= count


def _alias(n: int = 3) -> Record:
    """An open record of the county that names the controlled record's scan by its hash."""
    record, _ = make_record(COUNTY, n, title="公开的结婚登记档案（冒用他件内容）")
    return replace(record, files=(replace(CONTROLLED.files[0], name="公开件.txt"),))


async def test_an_open_record_naming_a_controlled_records_hash_without_its_content_is_refused(
    net: Network,
) -> None:
    county = net.node(COUNTY)
    alias = _alias()
    assert county.parts.blobs.has(alias.files[0].sha256)  # the bytes are there, by hash
    records, head = await county.parts.records.count(), await county.parts.changelog.head()
    with pytest.raises(InvalidRecord, match="公开件.txt.*一并上传"):
        await net.service(COUNTY).ingest.ingest([alias], actor=console_actor("test"))
    assert await county.parts.records.count() == records
    assert await county.parts.changelog.head() == head
    # a new version of the controlled record itself keeps its scan without sending it again
    corrected = CONTROLLED.next_version(title="王秀英社保缴费记录（更正）")
    await net.service(COUNTY).ingest.ingest([corrected], actor=console_actor("test"))
    assert (await county.parts.records.get(CONTROLLED.record_id)).files == CONTROLLED.files


async def test_an_alias_that_got_stored_is_not_released_locally_remotely_or_over_http(
    net: Network,
) -> None:
    county = net.node(COUNTY)
    alias = _alias(5)
    await county.parts.records.put([alias], county.parts.name)  # behind ingest's back
    for code in (COUNTY, PROVINCE):  # the county's own users; the province through the tree
        with pytest.raises(AccessDenied, match="不开放的档案"):
            await net.service(code).retrieval.fetch(COUNTY, alias.record_id)
    listening = net.hosts[PROVINCE].listening
    assert listening is not None
    url = f"{listening.web_url}/api/v1/nodes/{PROVINCE}/records/{COUNTY}/{alias.record_id}/content"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        body = await response.read()
    assert response.status == 403
    assert SECRET not in body


async def test_an_open_record_with_its_own_content_is_still_released(net: Network) -> None:
    # the guard: the refusals above are about the alias, not about fetching at all
    fetched = await net.service(PROVINCE).retrieval.fetch(COUNTY, HONEST.record_id)
    assert b"".join([chunk async for chunk in fetched.chunks]) == HONEST_DATA


async def test_hits_of_controlled_records_carry_no_content_hash_or_size(net: Network) -> None:
    secret_sha = hashlib.sha256(SECRET).hexdigest()
    for code in (COUNTY, CITY, PROVINCE):  # the holder's own catalogue and every one above
        page = await net.service(code).search.search(SearchQuery(scope=COUNTY, limit=50))
        by_access = {hit.access: hit for hit in page.hits}
        controlled = by_access[Access.CONTROLLED]
        assert (controlled.content_sha256, controlled.content_size) == ("", 0), code
        assert len(by_access[Access.OPEN].content_sha256) == 64
        assert all(hit.content_sha256 != secret_sha for hit in page.hits if hit.access != "open")
    listening = net.hosts[PROVINCE].listening
    assert listening is not None
    url = f"{listening.web_url}/api/v1/nodes/{PROVINCE}/search"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, params={"scope": COUNTY, "limit": "50"}) as response,
    ):
        hits = (await response.json())["hits"]
    assert response.status == 200
    controlled_hits = [hit for hit in hits if hit["access"] == "controlled"]
    open_hits = [hit for hit in hits if hit["access"] == "open"]
    assert controlled_hits and open_hits
    assert all("content_sha256" not in hit and "content_size" not in hit for hit in controlled_hits)
    assert all(len(hit["content_sha256"]) == 64 for hit in open_hits)
