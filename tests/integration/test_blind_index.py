"""Finding one's own record by identity number, through the keyed blind index (issue 10, 1).

A real network, one host per node (real gRPC on loopback, real SQLite files): the province
mints the index key, every node pulls it sealed from its parent, the county 330110 holds a
citizen's controlled marriage record with her identity number indexed blind, and a clerk at a
village in another county finds it by that number, and by nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import nacl.exceptions
import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.actors import Role
from node.audit import AuditQuery
from node.citizens import IdNumber
from node.config import TrustSettings
from node.errors import InvalidInput, NodeError, NotReady
from node.federation.messages import INDEX_KEYS, SEARCH, IndexKeysReply, IndexKeysRequest
from node.index_keys import unpack_keys
from node.records import Access, SearchQuery
from node.simulate import index_keys_everywhere, plan

from .network import Network, eventually, ingest, make_record, staff, tree

PROVINCE, CITY, COUNTY, HOLDER = "33", "3301", "330106", "330110"
TOWNSHIP, VILLAGE = "330106001", "330106001001"
CITIZEN = IdNumber.parse("330110196603150027")  # 李秀兰, synthetic
SPOUSE = IdNumber.parse("330110194501010016")
STRANGER = IdNumber.parse("330106197011080045")
MARRIAGE, MARRIAGE_DATA = make_record(
    HOLDER, 1, title="李秀兰、王建国结婚登记", access=Access.CONTROLLED,
    subjects=("李秀兰", "王建国"), year=1966,
)  # fmt: skip
OPEN, OPEN_DATA = make_record(HOLDER, 2, title="李秀兰先进事迹材料", category="知青", year=1975)
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    codes = tree(PROVINCE, CITY, COUNTY, TOWNSHIP, VILLAGE, HOLDER)
    # a new key settles at once here (the settling wait has its own test below)
    settled = TrustSettings(index_key_settle_ms=0)
    network = await Network.start(tmp_path_factory.mktemp("blind"), codes, trust=settled)
    await index_keys_everywhere(network)
    await ingest(
        network.service(HOLDER),
        [(MARRIAGE, MARRIAGE_DATA), (OPEN, OPEN_DATA)],
        {MARRIAGE.record_id: (CITIZEN, SPOUSE)},
    )
    await eventually(lambda: _at_province(network, 2))
    yield network
    await network.stop()


async def _at_province(net: Network, count: int) -> bool:
    return await net.node(PROVINCE).parts.catalogue.count(HOLDER) >= count


async def _search(net: Network, number: IdNumber | None, text: str = "") -> list[str]:
    page = await net.service(VILLAGE).search.search(
        SearchQuery(text=text), actor=console_actor(VILLAGE), id_number=number
    )
    return [hit.ref for hit in page.hits]


async def test_a_village_clerk_finds_the_citizens_controlled_record_by_her_number(
    net: Network,
) -> None:
    page = await net.service(VILLAGE).search.search(
        SearchQuery(), actor=console_actor(VILLAGE), id_number=CITIZEN
    )
    assert [hit.ref for hit in page.hits] == [MARRIAGE.ref]
    hit = page.hits[0]
    assert (hit.category, hit.year, hit.access) == ("婚姻登记", 1966, Access.CONTROLLED)
    assert hit.holder_name == net.node(HOLDER).settings.name
    assert "李秀兰" not in hit.title and hit.subjects == ()  # the redacted title only
    assert page.answered_by == PROVINCE
    assert await _search(net, SPOUSE) == [MARRIAGE.ref]  # each subject finds it
    assert await _search(net, CITIZEN, "结婚") == []  # the text still applies: not in a title
    assert await _search(net, STRANGER) == []


async def test_her_name_does_not_find_the_controlled_record(net: Network) -> None:
    # names stay at the holder: only the open record, whose title names her, is found
    assert await _search(net, None, "李秀兰") == [OPEN.ref]


async def test_the_holder_can_tell_whether_a_number_is_a_subjects(net: Network) -> None:
    holder = net.node(HOLDER).blind_index
    record = await net.node(HOLDER).parts.records.get(MARRIAGE.record_id)
    assert await holder.matches(CITIZEN, record) and await holder.matches(SPOUSE, record)
    assert not await holder.matches(STRANGER, record)
    assert not await net.node(PROVINCE).blind_index.matches(CITIZEN, record)  # not its record
    # a record that came with blind-index values only is matched by them
    values = holder.index_values([STRANGER])
    bare = replace(record, record_id="HY-1966-Y-9999", subject_index=values)
    assert await holder.matches(STRANGER, bare) and not await holder.matches(CITIZEN, bare)


def _node_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_the_number_is_in_clear_nowhere_and_sealed_only_at_the_holder(
    net: Network, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert await _search(net, CITIZEN) == [MARRIAGE.ref]
        again = MARRIAGE.next_version(title="李秀兰、王建国结婚登记（补录）")
        await net.service(HOLDER).ingest.ingest(
            [again], actor=console_actor(HOLDER), subject_ids={again.record_id: (CITIZEN,)}
        )
        for node in (net.node(code) for code in net.hosts):
            await node.parts.audit.flush()
    numbers = [n.digits.encode() for n in (CITIZEN, SPOUSE)]
    # every byte every node keeps: databases, write-ahead logs, keys, blobs
    root = net.node(PROVINCE).dir.parent
    for path in _node_files(root):
        data = path.read_bytes()
        assert not any(n in data for n in numbers), path
    assert not any(n.decode() in caplog.text for n in numbers)
    # sealed at the holder, and nowhere else
    for code in net.hosts:
        sealed = await net.node(code).blind_index.store.subjects([MARRIAGE.record_id])
        assert bool(sealed) == (code == HOLDER)
    # the audit entry of the search names the number masked
    entries = (await net.service(VILLAGE).audit.entries(AuditQuery(act="search"))).entries
    searches = [e for e in entries if "id_number" in e.detail]
    assert searches and CITIZEN.masked in searches[0].detail
    # the answering province logs that it was a search by number, not which number
    answered = (await net.service(PROVINCE).audit.entries(AuditQuery(act="search"))).entries
    assert any('"by_identity_number":true' in e.detail for e in answered)
    assert not any(CITIZEN.masked in e.detail or "v1:" in e.detail for e in answered)


async def test_over_http_the_number_travels_in_the_body_and_a_wrong_one_is_a_400(
    net: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await staff(net.service(VILLAGE), "clerk", Role.CLERK)
    web = net.hosts[VILLAGE].listening.web_url
    url = f"{web}/api/v1/nodes/{VILLAGE}/search"
    auth = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"id_number": CITIZEN.digits}, headers=auth) as found:
            body = await found.json()
            assert found.status == 200, body
            assert [h["ref"] for h in body["hits"]] == [MARRIAGE.ref]
            assert body["hits"][0]["title"].startswith("婚姻登记")
        wrong = CITIZEN.digits[:-1] + ("0" if CITIZEN.digits[-1] != "0" else "1")
        async with http.post(url, json={"id_number": wrong}, headers=auth) as refused:
            text = await refused.text()
            assert refused.status == 400 and "校验位" in text and wrong not in text
        async with http.get(url, params={"id_number": CITIZEN.digits}) as in_url:
            text = await in_url.text()
            assert in_url.status == 400 and "网址" in text and CITIZEN.digits not in text
        async with http.post(url, json={"id_number": CITIZEN.digits}) as anonymous:
            assert anonymous.status == 401  # a visitor may not probe who has which record
    assert CITIZEN.digits not in caplog.text and wrong not in caplog.text


async def test_index_values_out_of_range_on_the_wire_are_invalid_argument(net: Network) -> None:
    village = net.node(VILLAGE)
    many = SearchQuery(scope=PROVINCE, subject_index=tuple(f"v1:{i:022d}" for i in range(9)))
    with pytest.raises(InvalidInput, match="subject_index"):
        await village.client.call(SEARCH, PROVINCE, village.parts.codec.encode(many))
    # and a caller of the service cannot bring values of its own: only a number checked here
    with pytest.raises(InvalidInput, match="身份证号码"):
        await net.service(VILLAGE).search.search(SearchQuery(subject_index=many.subject_index[:1]))


async def test_the_keys_are_sealed_to_the_caller_and_only_a_child_is_answered(
    net: Network,
) -> None:
    village, township = net.node(VILLAGE), net.node(TOWNSHIP)
    payload = village.parts.codec.encode(IndexKeysRequest(known_version=0))
    reply = await village.client.call(INDEX_KEYS, TOWNSHIP, payload)
    answer = village.parts.codec.decode(IndexKeysReply, reply.payload)
    assert answer.newest_version == village.blind_index.newest_version
    keys = unpack_keys(village.parts.signer.key.unseal(answer.sealed_keys))
    assert [k.version for k in keys] == [k.version for k in village.blind_index.live_keys()]
    for other in (township, net.node(COUNTY), net.node(HOLDER)):  # the relay, anyone else
        with pytest.raises(nacl.exceptions.CryptoError):
            other.parts.signer.key.unseal(answer.sealed_keys)
    # a node that is not the answering node's child is refused
    holder = net.node(HOLDER)
    with pytest.raises(NodeError):
        await holder.client.call(INDEX_KEYS, TOWNSHIP, payload)


async def test_after_a_rotation_old_values_stop_matching_and_new_ones_match(
    net: Network,
) -> None:
    old_values = net.node(VILLAGE).blind_index.search_values(CITIZEN)
    status = await net.service(PROVINCE).trust.rotate_index_key(actor=console_actor(PROVINCE))
    assert status.newest_version == 2 and status.live_versions == (2, 1)
    for code in sorted(net.hosts, key=len):  # each pulls on its tick; here at once
        await net.node(code).blind_index.refresh()
    stored = await net.node(HOLDER).parts.records.get(MARRIAGE.record_id)
    assert all(v.startswith("v2:") for v in stored.subject_index)
    province = net.node(PROVINCE).parts.catalogue

    async def reindexed() -> bool:
        entry = await province.get(HOLDER, MARRIAGE.record_id)
        return entry.version == stored.version

    await eventually(reindexed)
    old = [v for v in old_values if v.startswith("v1:")]
    assert (await province.search(SearchQuery(subject_index=tuple(old)))).total == 0
    new = net.node(VILLAGE).blind_index.search_values(CITIZEN)
    assert (await province.search(SearchQuery(subject_index=new[:1]))).total == 1
    assert await _search(net, CITIZEN) == [MARRIAGE.ref]  # no record lost
    audit = await net.service(PROVINCE).audit.entries(AuditQuery(act="index_key.rotate"))
    assert [e.detail for e in audit.entries] == ['{"version":2}']
    reindexed_here = await net.service(HOLDER).audit.entries(AuditQuery(act="record.reindex"))
    assert [e.subject for e in reindexed_here.entries] == [MARRIAGE.ref]


async def test_a_rotation_is_refused_below_the_registry(net: Network) -> None:
    with pytest.raises(NodeError, match="省级根注册节点"):
        await net.service(COUNTY).trust.rotate_index_key(actor=console_actor(COUNTY))


async def test_a_node_without_the_key_refuses_clearly(tmp_path: Path) -> None:
    # the province (the registry) is down from the start: nobody below it has a key
    layout = plan(tmp_path, tree(PROVINCE, CITY, COUNTY))
    network = await Network.launch(replace(layout, hosts=layout.hosts[1:]))
    try:
        await network.node(COUNTY).blind_index.refresh()  # asks the city, which cannot ask up
        assert network.node(COUNTY).blind_index.newest_version == 0
        service = network.service(COUNTY)
        with pytest.raises(NotReady, match="身份索引密钥尚未同步"):
            await service.search.search(
                SearchQuery(), actor=console_actor(COUNTY), id_number=CITIZEN
            )
        record, data = make_record(COUNTY, 1, title="结婚登记", access=Access.CONTROLLED)
        with pytest.raises(NotReady, match="身份索引密钥尚未同步"):
            await ingest(service, [(record, data)], {record.record_id: (CITIZEN,)})
        assert await network.node(COUNTY).parts.records.count() == 0  # nothing half stored
        await ingest(service, [(replace(record, record_id="R2"), data)])  # without numbers: fine
        token = await staff(service, "clerk", Role.CLERK)
        url = f"{network.hosts[COUNTY].listening.web_url}/api/v1/nodes/{COUNTY}/search"
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                url,
                json={"id_number": CITIZEN.digits},
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            body = await response.json()
        assert response.status == 503 and "身份索引密钥尚未同步" in body["error"]["message"]
    finally:
        await network.stop()


async def test_the_registry_rotates_on_schedule_and_the_tree_follows(tmp_path: Path) -> None:
    # every key is due at once: each upkeep tick of the registry mints a new version
    trust = TrustSettings(index_key_rotation_ms=1)  # the default index_key_settle
    network = await Network.start(tmp_path, tree(PROVINCE, CITY), trust=trust)
    try:
        registry, city = network.node(PROVINCE).blind_index, network.node(CITY).blind_index
        before = registry.newest_version
        assert await registry.refresh() and registry.newest_version == before + 1
        await city.refresh()
        assert city.newest_version == registry.newest_version
        entries = await network.service(PROVINCE).audit.entries(AuditQuery(act="index_key.rotate"))
        assert any('"scheduled":true' in e.detail for e in entries.entries)
    finally:
        await network.stop()


async def test_a_holder_waits_for_a_new_key_to_settle_before_re_indexing(tmp_path: Path) -> None:
    network = await Network.start(tmp_path, tree(PROVINCE, CITY))  # the default 15 minutes
    try:
        await index_keys_everywhere(network)
        record, data = make_record(CITY, 1, title="结婚登记", access=Access.CONTROLLED)
        await ingest(network.service(CITY), [(record, data)], {record.record_id: (CITIZEN,)})
        indexed = (await network.node(CITY).parts.records.get(record.record_id)).subject_index
        await network.service(PROVINCE).trust.rotate_index_key(actor=console_actor(PROVINCE))
        await network.node(CITY).blind_index.refresh()
        assert network.node(CITY).blind_index.newest_version == 2
        # not settled yet: the record keeps its values under v1, which searchers still use,
        # until every node has had time to pull v2
        stored = await network.node(CITY).parts.records.get(record.record_id)
        assert stored.subject_index == indexed and indexed[0].startswith("v1:")
        page = await network.service(CITY).search.search(
            SearchQuery(scope=CITY), actor=console_actor(CITY), id_number=CITIZEN
        )  # answered by the city's own catalogue
        assert [h.ref for h in page.hits] == [record.ref]
    finally:
        await network.stop()


async def test_keys_and_numbers_survive_a_restart(tmp_path: Path) -> None:
    codes = tree(PROVINCE, CITY)
    first = await Network.start(tmp_path, codes)
    try:
        await index_keys_everywhere(first)
        keys = {code: first.node(code).blind_index.live_keys() for code in (PROVINCE, CITY)}
        record, data = make_record(CITY, 1, title="结婚登记", access=Access.CONTROLLED)
        await ingest(first.service(CITY), [(record, data)], {record.record_id: (CITIZEN,)})
    finally:
        await first.stop()
    again = await Network.start(tmp_path, codes, root=first.root)
    try:
        for code in (PROVINCE, CITY):  # read back from the database, not minted or pulled anew
            assert again.node(code).blind_index.live_keys() == keys[code]
        stored = await again.node(CITY).parts.records.get(record.record_id)
        assert await again.node(CITY).blind_index.matches(CITIZEN, stored)
    finally:
        await again.stop()


async def test_a_parent_whose_copy_is_stale_pulls_before_answering(tmp_path: Path) -> None:
    network = await Network.start(tmp_path, tree(PROVINCE, CITY, COUNTY))
    try:
        await index_keys_everywhere(network)
        await network.service(PROVINCE).trust.rotate_index_key(actor=console_actor(PROVINCE))
        city, county = network.node(CITY).blind_index, network.node(COUNTY).blind_index
        city.pull_through_s = 3600.0  # the city's copy counts as fresh: it answers with v1
        await county.refresh()
        assert (city.newest_version, county.newest_version) == (1, 1)
        city.pull_through_s = 0.0  # now as stale as after half a refresh interval
        await county.refresh()  # one pull by the county: the city pulls from the province
        assert (city.newest_version, county.newest_version) == (2, 2)
    finally:
        await network.stop()
