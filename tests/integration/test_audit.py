"""The audit log on a real network (one host and gRPC listener per node, loopback): acts
appended where they happen, checkpoints witnessed by the parent, and a child whose log was
rewritten (truncated and re-extended, hashes and all, in its SQLite file) refused by its
parent, which says so in its own log; ``verify`` then names where the rewriting starts."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from node.actors import ANONYMOUS, Actor, ActorKind, Role
from node.audit import Act, audit_query
from node.errors import AccessDenied, Forbidden
from node.records import Access, SearchQuery
from node.storage.audit import append_txn, draft

from .network import Network, converged, eventually, make_record, tree

NODES = tree("33", "3301", "330106")
ARCHIVIST = Actor(ActorKind.ACCOUNT, "zhao", "330106", frozenset({Role.ARCHIVIST}))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("audit"), NODES)
    items = [
        make_record("330106", 1, title="张三结婚登记档案"),
        make_record("330106", 2, title="李四土地承包合同", access=Access.CONTROLLED),
    ]
    await network.service("330106").ingest.ingest(
        [r for r, _ in items], {r.files[0].sha256: d for r, d in items}, actor=ARCHIVIST
    )
    await eventually(lambda: converged(network.hosts["330106"]))
    await eventually(lambda: _holds(network, "33", 2))
    yield network
    await network.stop()


async def _holds(net: Network, code: str, n: int) -> bool:
    return await net.node(code).parts.catalogue.count("330106") >= n


async def _entries(net: Network, code: str, **filters: str) -> list:  # type: ignore[type-arg]
    page = await net.service(code).audit.entries(audit_query(limit=200, **filters))
    return list(page.entries)


@pytest.mark.asyncio(loop_scope="module")
async def test_acts_are_logged_where_they_happen_by_who_did_them(net: Network) -> None:
    ingests = await _entries(net, "330106", act=Act.INGEST)
    assert {e.subject for e in ingests} == {"330106/T-HY-2015-0001", "330106/T-HY-2015-0002"}
    assert {e.actor for e in ingests} == {"account:zhao@330106"}

    clerk = Actor(ActorKind.ACCOUNT, "wang", "330106", frozenset({Role.CLERK}))
    page = await net.service("330106").search.search(
        SearchQuery(text="张三 33010619800101123X", scope="33"), actor=clerk
    )
    assert page.answered_by == "33"
    here = (await _entries(net, "330106", act=Act.SEARCH, actor="wang"))[0]
    assert here.details["answered_by"] == "33" and "33010619800101123X" not in here.detail
    # the province answered it, and logged it against the verified node that asked
    there = await _entries(net, "33", act=Act.SEARCH, actor="node:330106@33")
    assert there and there[0].details["q"].startswith("张三")

    fetched = await net.service("3301").retrieval.fetch("330106", "T-HY-2015-0001")
    async for _ in fetched.chunks:
        pass
    with pytest.raises(AccessDenied):
        await net.service("3301").retrieval.fetch("330106", "T-HY-2015-0002")
    asked = await _entries(net, "3301", act=Act.FETCH)
    assert [e.details.get("refused") for e in asked] == ["AccessDenied", None]
    assert {e.actor for e in asked} == {ANONYMOUS.label}
    held = await _entries(net, "330106", act=Act.FETCH, actor="node:3301@330106")
    assert {e.subject for e in held} == {"330106/T-HY-2015-0001", "330106/T-HY-2015-0002"}

    await net.service("330106").trust.ban("ed25519:00000000deadbeef", "测试", actor=clerk)
    with pytest.raises(Forbidden):  # the county may not revoke its province
        await net.service("330106").trust.revoke("33", "越权", actor=clerk)
    admin = await _entries(net, "330106", actor="wang")
    acts = {(e.act, e.details.get("refused")) for e in admin}
    assert (Act.BAN, None) in acts and (Act.REVOKE, "Forbidden") in acts


@pytest.mark.asyncio(loop_scope="module")
async def test_checkpoints_that_extend_are_witnessed_and_a_rewritten_log_is_refused(
    net: Network,
) -> None:
    child, parent = net.node("330106"), net.node("3301")
    await child.checkpointer.run_scheduled()  # the scheduled job body, called directly
    first = await parent.parts.audit.witnessed("330106")
    assert first is not None and first.size == (await child.parts.audit.head())[0]

    for text in ("结婚", "土地", "张三"):
        await net.service("330106").search.search(SearchQuery(text=text, scope="330106"))
    ack = await child.checkpointer.checkpoint_now()
    assert ack is not None and ack.status == "accepted"
    second = await parent.parts.audit.witnessed("330106")
    assert second is not None and second.size > first.size
    assert (await net.service("330106").audit.verify()).ok

    # Rewrite the child's log in its file: keep the first entries, forge the rest with
    # correct hashes, and drop the local checkpoint rows an attacker would also fix.
    keep = first.size  # the first forged entry is the one after the first checkpoint
    conn = sqlite3.connect(child.db.path, isolation_level=None, timeout=5)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM audit_log WHERE seq > ?", (keep,))
        conn.execute("DELETE FROM audit_checkpoints WHERE size > ?", (first.size,))
        forged = [draft(ANONYMOUS, Act.SEARCH, "33", {"q": "无事"}, 1)] * (second.size - keep + 3)
        append_txn(conn, forged)
        conn.execute("COMMIT")
    finally:
        conn.close()

    ack = await child.checkpointer.checkpoint_now()
    assert ack is not None and ack.status == "refused" and "延续" in ack.reason
    assert await parent.parts.audit.witnessed("330106") == second  # kept what it saw
    refusals = await _entries(net, "3301", act=Act.CHECKPOINT_REFUSED)
    assert refusals and refusals[0].subject == "330106"
    assert refusals[0].actor == "node:330106@3301"
    assert await _entries(net, "330106", act=Act.CHECKPOINT_REFUSED_BY_PARENT)

    report = await net.service("330106").audit.verify()
    assert not report.ok and report.finding is not None
    assert report.finding.kind == "rewritten"
    assert report.finding.seq == first.size + 1 and report.finding.last_seq == second.size
    assert report.size == second.size + 3 + 1  # the forged entries, and the refusal noted here
    assert report.parent == "3301" and report.parent_witnessed == second.size
    assert (await net.service("3301").audit.verify()).ok  # the parent's own log is intact
    status = await net.service("3301").audit.checkpoints()
    assert [(c.child, c.size) for c in status.children] == [("330106", second.size)]
