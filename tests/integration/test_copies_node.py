"""Certified copies at a real node (one host, real SQLite, real keys enrolled under a root):
issued by the holder and kept by code, audited, looked up, verified online and offline with
the pinned root key, still verifiable after the holder rotates its key, and refused at a
node that does not hold the record."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from copies_helpers import CONTENT, facts

from node import copies, printout
from node.actors import Actor, ActorKind, Role
from node.audit import audit_query
from node.errors import InvalidInput

from .network import Network, tree

NODES = tree("33", "3301", "330110")
ARCHIVIST = Actor(ActorKind.ACCOUNT, "qian", "330110", frozenset({Role.ARCHIVIST}))
OPERATOR = Actor(ActorKind.ACCOUNT, "sun", "330110", frozenset({Role.OPERATOR}))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("copies"), NODES, one_process=True)
    yield network
    await network.stop()


def _now_facts(**changes: object) -> copies.CopyFacts:
    now = datetime.now(UTC).replace(microsecond=0)
    return facts(issued_at=now, consulted_on=now.date(), **changes)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_holder_issues_keeps_audits_and_verifies_a_copy(net: Network) -> None:
    service = net.service("330110").copies
    copy = await service.issue(_now_facts(), actor=ARCHIVIST)
    web_url = net.hosts["330110"].listening.web_url  # type: ignore[union-attr]
    assert copy.verify_url == f"{web_url}/n/330110/verify?code={copy.code}"
    verdict = await service.verify(copy.document, CONTENT)
    assert verdict.ok, verdict.reasons
    found = await service.lookup(copy.code.replace("-", "").lower())
    assert found is not None and found.credential == copy.document and found.verdict.ok
    assert found.request_id == "req-330106001001-0001"
    # offline, with the root key alone
    assert copies.verify(copy.document, net.root.public_key, CONTENT).ok
    entries = await net.service("330110").audit.entries(audit_query(act="copy.issue"))
    (entry,) = [e for e in entries.entries if e.details.get("code") == copy.code]
    assert entry.subject == "330110/yh-hy-1966-0007" and entry.actor.startswith("account:qian")
    # kept as the exact bytes handed out
    db = sqlite3.connect(net.node("330110").dir / "node.db")
    (stored,) = db.execute("SELECT credential FROM copies WHERE code = ?", (copy.code,)).fetchone()
    assert bytes(stored) == copy.document
    db.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_the_printout_verifies_at_the_node_from_the_pdf_alone(net: Network) -> None:
    service = net.service("330110").copies
    copy = await service.issue(_now_facts(request_id="req-print"), actor=ARCHIVIST)
    pdf = await service.printout(copy.document, CONTENT, content_name="scan.txt")
    assert printout.read_upload(pdf).content == CONTENT
    assert (await service.verify(pdf)).ok
    changed = copy.document.replace(b'"req-print"', b'"req-prinT"')
    with pytest.raises(InvalidInput, match="签名不符"):
        await service.printout(changed, CONTENT)


@pytest.mark.asyncio(loop_scope="module")
async def test_only_the_holder_issues(net: Network) -> None:
    with pytest.raises(InvalidInput, match="只有馆藏单位"):
        await net.service("3301").copies.issue(_now_facts(), actor=ARCHIVIST)


@pytest.mark.asyncio(loop_scope="module")
async def test_an_unknown_code_is_none_and_a_bad_one_is_refused(net: Network) -> None:
    service = net.service("330110").copies
    assert await service.lookup("0000-0000-0000") is None
    with pytest.raises(InvalidInput, match="核验码"):
        await service.lookup("not a code")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_copy_signed_before_a_key_rotation_still_verifies(net: Network) -> None:
    service = net.service("330110").copies
    before = await service.issue(_now_facts(request_id="req-before"), actor=ARCHIVIST)
    await net.service("330110").trust.rotate(actor=OPERATOR)
    after = await service.issue(_now_facts(request_id="req-after"), actor=ARCHIVIST)
    leaf = lambda c: json.loads(c.document)["issuer"]["certificateChain"][0]  # noqa: E731
    assert leaf(before)["public_key"] != leaf(after)["public_key"]
    for copy in (before, after):
        assert copies.verify(copy.document, net.root.public_key, CONTENT).ok


@pytest.mark.asyncio(loop_scope="module")
async def test_a_forged_copy_claiming_this_holder_fails_at_its_verify(net: Network) -> None:
    copy = await net.service("330110").copies.issue(_now_facts(request_id="r-3"), actor=ARCHIVIST)
    data = json.loads(copy.document)
    data["credentialSubject"]["title"] = replace(facts(), title="伪造").title
    forged = json.dumps(data, ensure_ascii=False).encode()
    verdict = await net.service("330110").copies.verify(forged)
    assert not verdict.ok and any("签名不符" in r for r in verdict.reasons)


@pytest.mark.asyncio(loop_scope="module")
async def test_rotation_keeps_old_copies_valid_online_too(net: Network) -> None:
    service = net.service("330110").copies
    before = await service.issue(_now_facts(request_id="req-before-2"), actor=ARCHIVIST)
    await net.service("330110").trust.rotate(actor=OPERATOR)
    verdict = await service.verify(before.document, CONTENT)
    assert verdict.ok, verdict.reasons


@pytest.mark.asyncio(loop_scope="module")
async def test_a_copy_signed_after_its_holder_was_revoked_is_refused_where_that_is_known(
    net: Network,
) -> None:
    """Last in the module: it revokes the holder. The parent, which revoked it, refuses a
    copy signed after the revocation and accepts one signed before; offline (the root key
    alone, no directory) both pass, which the README says."""
    service = net.service("330110").copies
    # the current certificate began at the last rotation: the next whole second is after it
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    early = await service.issue(facts(request_id="r-early", issued_at=now), actor=ARCHIVIST)
    late = await service.issue(
        facts(request_id="r-late", issued_at=now + timedelta(minutes=5)), actor=ARCHIVIST
    )
    await asyncio.sleep(1.2)  # the revocation is dated after ``early`` was signed
    city_operator = Actor(ActorKind.ACCOUNT, "li", "3301", frozenset({Role.OPERATOR}))
    await net.service("3301").trust.revoke("330110", "钥匙遗失", actor=city_operator)
    at_parent = net.service("3301").copies
    assert (await at_parent.verify(early.document, CONTENT)).ok
    verdict = await at_parent.verify(late.document, CONTENT)
    assert not verdict.ok and not verdict.certificate_valid_at_issue
    assert any("出证前已被吊销" in r for r in verdict.reasons)
    assert copies.verify(late.document, net.root.public_key, CONTENT).ok
