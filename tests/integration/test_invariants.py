"""Invariants over a real network (issue 9, item 11): a child pushes only its own subtree's
entries, and a node believes an answer only from the node it called.

Real gRPC on loopback, one host per node, real SQLite. The relay case turns a real hosted
node (the township) against its village: instead of passing the village's call on to the
county it answers it itself, validly signed with its own certified key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio

from node.errors import AuthError
from node.federation.messages import (
    CHUNK_BYTES,
    FETCH,
    MANIFEST_SUFFIX,
    PUSH,
    REPLY_SUFFIX,
    SEARCH,
    ContentManifest,
    Envelope,
    FetchPart,
    PushBatch,
)
from node.node import Node
from node.records import CatalogueEntry, SearchPage, SearchQuery, catalogue_entry
from node.rpc.codec import ProtobufCodec

from .network import Network, eventually, ingest, make_record, tree
from .raw import raw_call

PROVINCE, CITY, COUNTY, SIBLING = "33", "3301", "330106", "330110"
TOWNSHIP, VILLAGE = "330106001", "330106001001"
CODEC = ProtobufCodec()
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(
        tmp_path_factory.mktemp("invariants"),
        tree(PROVINCE, CITY, COUNTY, SIBLING, TOWNSHIP, VILLAGE),
    )
    record, data = make_record(COUNTY, 1, title="李建国、张丽结婚登记档案")
    await ingest(network.service(COUNTY), [(record, data)])

    async def settled() -> bool:  # so that no honest push lands while a case counts changes
        links = (await network.service(COUNTY).sync.status()).links
        held = await network.node(CITY).parts.catalogue.count(COUNTY)
        return held == 1 and not any(link.lag for link in links)

    await eventually(settled)
    yield network
    await network.stop()


def _entry(holder: str, n: int, title: str) -> CatalogueEntry:
    entry = catalogue_entry(make_record(holder, n, title=title)[0], "冒名")
    assert entry is not None
    return entry


# -- (c) a child pushes only what its own subtree holds -----------------------------------------


@pytest.mark.parametrize(
    "foreign",
    [SIBLING, "330110001", CITY],
    ids=["sibling", "siblings-child", "the-parent-itself"],
)
async def test_a_push_of_entries_held_outside_the_childs_subtree_is_refused(
    net: Network, foreign: str
) -> None:
    city = net.node(CITY)
    # one honest entry of the county's own and one held elsewhere: all or nothing
    own = _entry(COUNTY, 700, "本区正当目录条目")
    stolen = _entry(foreign, 701, "冒写他区目录条目")
    cursor = await city.parts.catalogue.child_cursor(COUNTY)
    head = await city.parts.changelog.head()
    batch = PushBatch(f"sibling-{os.urandom(4).hex()}", cursor, cursor + 2, (own, stolen))
    call = net.node(COUNTY).parts.signer.seal(PUSH, CITY, CODEC.encode(batch))
    code, details = await raw_call(net, CITY, PUSH, CODEC.encode(call))
    assert code == grpc.StatusCode.PERMISSION_DENIED, details
    assert foreign in details and "outside its subtree" in details
    for entry in (own, stolen):
        assert (await city.parts.catalogue.search(SearchQuery(text=entry.title))).total == 0
    assert await city.parts.changelog.head() == head
    assert await city.parts.catalogue.child_cursor(COUNTY) == cursor
    assert any(r.reason == details for r in city.refusals.recent(CITY, 20))


async def test_a_push_of_the_childs_own_subtree_is_applied(net: Network) -> None:
    # the guard: the refusals above are about the holder, not about the push. The county
    # pushes its township's record (inside its subtree) to the city as ever.
    record, data = make_record(TOWNSHIP, 702, title="北山街道正当档案")
    await ingest(net.service(TOWNSHIP), [(record, data)])
    city = net.node(CITY).parts.catalogue

    async def arrived() -> bool:
        return (await city.search(SearchQuery(text="北山街道正当档案"))).total == 1

    await eventually(arrived)


# -- (e) an answer counts only from the node that was called ------------------------------------


class AnswersInItsOwnName:
    """The township's transport, turned: the village's calls for the county are not relayed
    but answered by the township itself, signed with its own (valid, certified) key, for the
    right transaction and addressed to the village. Everything else goes through."""

    def __init__(self, township: Node) -> None:
        self.township = township
        self.honest = township.parts.transport
        self.answered = 0

    def _call(self, request: bytes) -> Envelope | None:
        hop = CODEC.decode(Envelope, request)
        call = CODEC.decode(Envelope, hop.payload) if hop.relayed else hop
        return call if (call.origin, call.destination) == (VILLAGE, COUNTY) else None

    def _seal(self, method: str, call: Envelope, payload: bytes) -> Envelope:
        self.answered += 1
        return self.township.parts.signer.seal(
            method, call.origin, payload, transaction_id=call.transaction_id
        )

    async def unary(self, neighbour: str, method: str, request: bytes, timeout: float) -> bytes:
        call = self._call(request)
        if call is None:
            return await self.honest.unary(neighbour, method, request, timeout)
        forged = SearchPage(
            total=1, hits=(_entry(COUNTY, 900, "伪造的检索结果"),), answered_by=COUNTY
        )
        return CODEC.encode(self._seal(method + REPLY_SUFFIX, call, CODEC.encode(forged)))

    async def stream(
        self, neighbour: str, method: str, request: bytes, timeout: float
    ) -> AsyncIterator[bytes]:
        call = self._call(request)
        if call is None:
            async for part in self.honest.stream(neighbour, method, request, timeout):
                yield part
            return
        forged = b"forged content"
        manifest = ContentManifest(
            COUNTY, "T-HY-2015-0001", 1, "1.txt", "text/plain", len(forged),
            hashlib.sha256(forged).hexdigest(), CHUNK_BYTES,
            (hashlib.sha256(forged).digest(),), "伪造", "J001-HY·2015-Y-0001",
        )  # fmt: skip
        signed = self._seal(FETCH + MANIFEST_SUFFIX, call, CODEC.encode(manifest))
        yield CODEC.encode(FetchPart(manifest=signed))
        yield CODEC.encode(FetchPart(chunk=forged))


@pytest.fixture
def township_answers_for_the_county(
    net: Network, monkeypatch: pytest.MonkeyPatch
) -> AnswersInItsOwnName:
    township = net.node(TOWNSHIP)
    turned = AnswersInItsOwnName(township)
    monkeypatch.setattr(township.parts, "transport", turned)
    return turned


async def test_a_search_answered_by_the_relay_in_its_own_name_is_refused(
    net: Network, township_answers_for_the_county: AnswersInItsOwnName
) -> None:
    query = CODEC.encode(SearchQuery(text="结婚", scope=COUNTY))
    with pytest.raises(AuthError, match=f"signed by {TOWNSHIP}, expected {COUNTY}"):
        await net.node(VILLAGE).client.call(SEARCH, COUNTY, query)
    assert township_answers_for_the_county.answered == 1  # the township did answer: refused


async def test_a_fetch_whose_manifest_the_relay_signed_is_refused(
    net: Network, township_answers_for_the_county: AnswersInItsOwnName
) -> None:
    record, _ = make_record(COUNTY, 1, title="李建国、张丽结婚登记档案")
    with pytest.raises(AuthError, match=f"signed by {TOWNSHIP}, expected {COUNTY}"):
        await net.service(VILLAGE).retrieval.fetch(COUNTY, record.record_id)
    assert township_answers_for_the_county.answered == 1


async def test_the_honest_relay_passes_the_countys_answer(net: Network) -> None:
    # the guard: the same calls through the township as it is, answered by the county
    record, data = make_record(COUNTY, 1, title="李建国、张丽结婚登记档案")
    query = CODEC.encode(SearchQuery(text="李建国", scope=COUNTY))

    async def found() -> Any:
        reply = await net.node(VILLAGE).client.call(SEARCH, COUNTY, query)
        return reply.origin == COUNTY and CODEC.decode(SearchPage, reply.payload).total == 1

    await eventually(found)
    fetched = await net.service(VILLAGE).retrieval.fetch(COUNTY, record.record_id)
    assert fetched.manifest.holder == COUNTY
    assert b"".join([chunk async for chunk in fetched.chunks]) == data
