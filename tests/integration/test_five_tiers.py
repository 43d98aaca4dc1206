"""A real five-tier network, one host (and one gRPC listener) per node, on loopback.

Covers the flows of docs/architecture.md end to end: ingest at a village and a county,
push-on-change sync up the tree, search from a village in another county, fetch across four hops
(and six), and refusals of records that are not open. Refused calls are test_adversarial.py's.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from grpc import aio

from node.errors import AccessDenied, NotFound
from node.identity import route
from node.records import Access, SearchQuery

from .network import Network, eventually, ingest, make_record, tree

NODES = tree(
    "33", "3301", "330106", "330110", "330106001", "330106001001", "330110001", "330110001001"
)
VILLAGE = "330106001001"
BIG = os.urandom(1024 * 1024 + 17)  # spans several chunks, not a multiple of the chunk size


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("net"), NODES)
    await ingest(
        network.service("330110"),
        [
            make_record(
                "330110",
                1,
                title="王秀英、李建国结婚登记档案",
                subjects=("王秀英", "李建国"),
                content=BIG,
            ),
            make_record(
                "330110",
                2,
                title="张伟、刘洋结婚登记档案",
                access=Access.CONTROLLED,
                subjects=("张伟", "刘洋"),
            ),
            make_record(
                "330110", 3, title="周敏房屋所有权登记", category="房产", access=Access.CLOSED
            ),
        ],
    )
    await ingest(
        network.service("330110001001"),
        [
            make_record(
                "330110001001", 7, title="凤凰山村陈静、赵军结婚登记", subjects=("陈静", "赵军")
            )
        ],
    )
    await ingest(
        network.service(VILLAGE),
        [make_record(VILLAGE, 5, title="金鱼井社区户口迁移登记", category="户籍")],
    )

    async def synced() -> bool:
        page = await network.service("33").search.search(SearchQuery(scope="33"))
        return page.total == 4

    await eventually(synced)  # push-on-change carries every entry to the province by itself
    yield network
    await network.stop()


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_search_from_a_village_in_another_county(net: Network) -> None:
    page = await net.service(VILLAGE).search.search(SearchQuery(text="结婚登记", scope="330110"))
    assert page.answered_by == "3301"
    assert {h.holder for h in page.hits} == {"330110", "330110001001"}
    titles = {h.title for h in page.hits}
    assert "王秀英、李建国结婚登记档案" in titles
    assert all(h.holder_name for h in page.hits)
    # the controlled record shows only a redacted title, the closed one not at all
    everything = await net.service(VILLAGE).search.search(SearchQuery(scope="330110"))
    assert everything.total == 3
    controlled = [h for h in everything.hits if h.access == Access.CONTROLLED]
    assert [h.title for h in controlled] == ["婚姻登记档案（2015年，控制使用）"]
    assert not any("周敏" in h.title for h in everything.hits)
    # nor does a person's name lead to their controlled record, here or at its holder
    for node in (VILLAGE, "330110"):
        assert (await net.service(node).search.search(SearchQuery(text="刘洋"))).total == 0


async def test_search_by_a_subject_name_two_characters(net: Network) -> None:
    page = await net.service(VILLAGE).search.search(SearchQuery(text="秀英"))
    assert page.answered_by == "33"
    assert [h.record_id for h in page.hits] == ["T-HY-2015-0001"]


async def test_a_search_inside_its_own_subtree_is_answered_locally(net: Network) -> None:
    page = await net.service("330106").search.search(SearchQuery(text="户口", scope="330106"))
    assert page.answered_by == "330106" and page.total == 1


async def test_fetch_across_four_hops_matches_the_holders_sha256(net: Network) -> None:
    assert len(route(VILLAGE, "330110")) == 4
    fetched = await net.service(VILLAGE).retrieval.fetch("330110", "T-HY-2015-0001")
    body = b"".join([chunk async for chunk in fetched.chunks])
    assert (
        hashlib.sha256(body).hexdigest()
        == fetched.manifest.sha256
        == hashlib.sha256(BIG).hexdigest()
    )
    assert fetched.manifest.size == len(BIG) and len(fetched.manifest.chunk_sha256) > 1


async def test_fetch_across_six_hops_village_to_village(net: Network) -> None:
    assert len(route(VILLAGE, "330110001001")) == 6
    fetched = await net.service(VILLAGE).retrieval.fetch("330110001001", "T-HY-2015-0007")
    body = b"".join([chunk async for chunk in fetched.chunks])
    assert body.startswith(b"330110001001/7")


async def test_controlled_records_are_refused_with_a_reason_closed_ones_as_unknown(
    net: Network,
) -> None:
    with pytest.raises(AccessDenied, match="控制使用"):
        await net.service(VILLAGE).retrieval.fetch("330110", "T-HY-2015-0002")
    # a closed record is answered exactly as a record that does not exist (issue 10)
    with pytest.raises(NotFound) as closed:
        await net.service(VILLAGE).retrieval.fetch("330110", "T-FC-2015-0003")
    with pytest.raises(NotFound) as unknown:
        await net.service(VILLAGE).retrieval.fetch("330110", "NO-SUCH-RECORD")
    assert str(closed.value).replace("T-FC-2015-0003", "X") == str(unknown.value).replace(
        "NO-SUCH-RECORD", "X"
    )


async def test_health_service_answers(net: Network) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with aio.insecure_channel(f"127.0.0.1:{net.hosts['33'].grpc.port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="archive.v1.Federation"), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
