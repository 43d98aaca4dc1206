"""Utilisation requests end to end (issue 10, items 2 and 3): real gRPC between hosts, one per
node, real SQLite files. A clerk at village 330106001001 files for records held by county
330110, four hops away (village, township, county 330106, city, county 330110); the holder
decides by rule or by its archivist; the decision comes back signed; an approved controlled
record's content arrives sealed, and the relays on the way hold and see nothing readable.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from node.actors import Actor, ActorKind, Role
from node.citizens import IdNumber, check_character
from node.federation.request_rules import RULE_AGENT, RULE_NO_MATCH, RULE_SELF
from node.records import Access
from node.requests import Relationship, State
from node.requests import Role as RequestRole

from .network import Network, eventually, index_keys_everywhere, ingest, make_record, tree

VILLAGE, TOWNSHIP, COUNTY, CITY, HOLDER = "330106001001", "330106001", "330106", "3301", "330110"
RELAYS = (TOWNSHIP, COUNTY, CITY)


def id_number(body: str) -> IdNumber:
    return IdNumber.parse(body + check_character(body))


SUBJECT = id_number("33011019660512002")  # the bride of the 1966 marriage record
STRANGER = id_number("33010619801103451")
SECRET = "王秀英、陈国强结婚登记档案（控制使用）全文扫描".encode() * 4000  # several chunks
MARRIAGE, _ = make_record(
    HOLDER, 1, title="王秀英、陈国强结婚登记", access=Access.CONTROLLED, content=SECRET,
    subjects=("王秀英", "陈国强"), year=1966,
)  # fmt: skip
OPEN, OPEN_DATA = make_record(HOLDER, 2, title="1970年婚姻登记汇总表", year=1970)
CLOSED, CLOSED_DATA = make_record(HOLDER, 3, title="某案卷", access=Access.CLOSED, year=1980)
CLERK = Actor(ActorKind.ACCOUNT, "wang", VILLAGE, frozenset({Role.CLERK}))
ARCHIVIST = Actor(ActorKind.ACCOUNT, "li", HOLDER, frozenset({Role.ARCHIVIST}))
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(
        tmp_path_factory.mktemp("requests"), tree("33", CITY, COUNTY, TOWNSHIP, VILLAGE, HOLDER)
    )
    await index_keys_everywhere(network)  # the holder indexes its subjects' numbers
    await ingest(
        network.service(HOLDER),
        [(MARRIAGE, SECRET), (OPEN, OPEN_DATA), (CLOSED, CLOSED_DATA)],
        subject_ids={MARRIAGE.record_id: (SUBJECT,)},
    )
    village = network.node(VILLAGE)
    await eventually(lambda: _knows(network, VILLAGE, HOLDER))
    await eventually(lambda: _knows(network, HOLDER, VILLAGE))
    assert village.desk.holder_key(HOLDER)
    yield network
    await network.stop()


async def _knows(net: Network, at: str, code: str) -> bool:
    return bool(net.node(at).desk.directory.current(code))


async def file(
    net: Network, record_id: str, number: IdNumber = SUBJECT, name: str = "王秀英"
) -> str:
    view = await net.service(VILLAGE).requests.submit(
        HOLDER, record_id, name, number, Relationship.SELF, "办理退休手续", actor=CLERK
    )
    assert view.filed.state == State.SUBMITTED
    return view.filed.request_id


async def reaches(net: Network, code: str, request_id: str, state: State) -> None:
    async def check() -> bool:
        filed = await net.node(code).parts.requests.get(request_id)
        return filed is not None and filed.state == state

    await eventually(check, timeout=30)


async def test_the_subject_gets_her_own_controlled_record_by_rule_across_four_hops(
    net: Network,
) -> None:
    request_id = await file(net, MARRIAGE.record_id)
    await reaches(net, VILLAGE, request_id, State.DELIVERED)
    await reaches(net, HOLDER, request_id, State.DELIVERED)
    held = await net.node(HOLDER).parts.requests.get(request_id)
    assert held is not None and held.rule == RULE_SELF and held.id_masked == SUBJECT.masked
    got = await net.service(VILLAGE).requests.show(request_id, actor=CLERK)
    assert got.filed.record_title == MARRIAGE.title
    assert got.filed.archival_code == MARRIAGE.archival_code
    assert got.filed.change is not None and got.filed.change.state == State.DELIVERED
    content = await net.service(VILLAGE).requests.content(request_id, actor=CLERK)
    assert b"".join([c async for c in content.chunks]) == SECRET
    # the holder's certified copy came sealed with it; the service point prints it, and the
    # print verifies against the root key with the content it carries
    assert got.filed.copy_code
    printed = await net.service(VILLAGE).requests.copy_pdf(request_id, actor=CLERK)
    assert printed.pdf.startswith(b"%PDF") and printed.code == got.filed.copy_code
    verdict = await net.service(VILLAGE).copies.verify(printed.pdf)
    assert verdict.ok, verdict.reasons
    # the holder's approval was signed by the holder and checked on arrival
    acts = await _acts(net, VILLAGE, request_id)
    assert {"request.file", "request.update", "request.deliver"} <= acts
    assert {"request.receive", "request.update"} <= await _acts(net, HOLDER, request_id)


async def _acts(net: Network, code: str, subject: str) -> set[str]:
    await net.node(code).parts.audit.flush()
    db = net.node(code).db.path
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT act FROM audit_log WHERE subject = ?", (subject,))
        return {r[0] for r in rows}


async def test_another_persons_request_waits_for_the_archivist_who_approves_it(
    net: Network,
) -> None:
    request_id = await file(net, MARRIAGE.record_id, STRANGER, "陈小明")
    holder = net.service(HOLDER).requests
    await reaches(net, HOLDER, request_id, State.SUBMITTED)
    queue = await holder.list(RequestRole.INCOMING, (State.SUBMITTED,), actor=ARCHIVIST)
    waiting = [v for v in queue.items if v.filed.request_id == request_id]
    assert waiting and waiting[0].filed.rule == RULE_NO_MATCH
    await eventually(lambda: _reason_is(net, request_id, "已收到，等待档案员审核"))
    await holder.approve(request_id, "核实为当事人之子，同意", actor=ARCHIVIST)
    await reaches(net, VILLAGE, request_id, State.DELIVERED)


async def _reason_is(net: Network, request_id: str, reason: str) -> bool:
    filed = await net.node(VILLAGE).parts.requests.get(request_id)
    return filed is not None and filed.reason == reason


async def test_a_rejection_needs_a_reason_and_reaches_the_clerk(net: Network) -> None:
    request_id = await file(net, MARRIAGE.record_id, STRANGER, "陈小明")
    holder = net.service(HOLDER).requests
    await reaches(net, HOLDER, request_id, State.SUBMITTED)
    from node.errors import InvalidInput

    with pytest.raises(InvalidInput):
        await holder.reject(request_id, "  ", actor=ARCHIVIST)
    await holder.reject(request_id, "与当事人关系无法核实，请本人办理", actor=ARCHIVIST)
    await reaches(net, VILLAGE, request_id, State.REJECTED)
    filed = await net.node(VILLAGE).parts.requests.get(request_id)
    assert filed is not None and filed.reason == "与当事人关系无法核实，请本人办理"
    assert filed.receiver_due_ms is not None  # the service point's 2 working days start
    with pytest.raises(InvalidInput):  # decided: no second decision
        await holder.approve(request_id, "", actor=ARCHIVIST)


async def test_an_open_record_is_approved_by_rule_and_delivered(net: Network) -> None:
    request_id = await file(net, OPEN.record_id, STRANGER, "陈小明")
    await reaches(net, VILLAGE, request_id, State.DELIVERED)
    content = await net.service(VILLAGE).requests.content(request_id, actor=CLERK)
    assert b"".join([c async for c in content.chunks]) == OPEN_DATA


async def test_closed_and_unknown_records_are_refused_alike(net: Network) -> None:
    closed = await file(net, CLOSED.record_id)
    unknown = await file(net, "T-HY-1980-0999")
    await reaches(net, VILLAGE, closed, State.REJECTED)
    await reaches(net, VILLAGE, unknown, State.REJECTED)
    reasons = [
        (await net.node(VILLAGE).parts.requests.get(r)).reason  # type: ignore[union-attr]
        for r in (closed, unknown)
    ]
    assert "不存在、已删除或不开放" in reasons[0]
    assert reasons[0].replace(CLOSED.record_id, "X") == reasons[1].replace("T-HY-1980-0999", "X")
    assert CLOSED.title not in reasons[0]


async def test_the_clerk_may_withdraw_a_request_waiting_for_the_archivist(net: Network) -> None:
    request_id = await file(net, MARRIAGE.record_id, STRANGER, "陈小明")
    await reaches(net, HOLDER, request_id, State.SUBMITTED)
    await eventually(lambda: _reason_is(net, request_id, "已收到，等待档案员审核"))
    await net.service(VILLAGE).requests.withdraw(request_id, actor=CLERK)
    await reaches(net, HOLDER, request_id, State.WITHDRAWN)


async def test_personal_data_and_content_stay_unreadable_at_every_relay(
    net: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: dict[str, list[bytes]] = {code: [] for code in RELAYS}
    for code in RELAYS:
        _capture(net, code, seen[code])
    request_id = await file(net, MARRIAGE.record_id)
    await reaches(net, VILLAGE, request_id, State.DELIVERED)
    secrets = [SUBJECT.digits.encode(), "王秀英".encode(), SECRET[:64], MARRIAGE.title.encode()]
    for code in RELAYS:
        assert seen[code], f"{code} relayed nothing"
        wire = b"".join(seen[code])
        assert not any(s in wire for s in secrets), f"{code} saw plaintext"
        node = net.node(code)
        await node.parts.audit.flush()
        assert not any(s in _dump(node.db.path) for s in secrets), f"{code} stored plaintext"
        assert not _blob_has(node.dir / "blobs", SECRET[:64])
    # the receiving node keeps the sealed part and the masked number, never the number
    village = net.node(VILLAGE)
    await village.parts.audit.flush()
    assert SUBJECT.digits.encode() not in _dump(village.db.path)
    holder = net.node(HOLDER)
    await holder.parts.audit.flush()
    assert SUBJECT.digits.encode() not in _dump(holder.db.path)
    assert caplog.records and SUBJECT.digits not in caplog.text


def _capture(net: Network, code: str, into: list[bytes]) -> None:
    server = net.node(code).server
    unary, stream = server.unary, server.stream

    async def seen_unary(method, request, outer, peer=""):  # type: ignore[no-untyped-def]
        into.append(request)
        answer = await unary(method, request, outer, peer)
        into.append(answer)
        return answer

    async def seen_stream(method, request, outer):  # type: ignore[no-untyped-def]
        into.append(request)
        async for part in stream(method, request, outer):
            into.append(part)
            yield part

    server.unary = seen_unary  # type: ignore[method-assign]
    server.stream = seen_stream  # type: ignore[method-assign]


def _dump(db: Path) -> bytes:
    """Every value of every table of a node's database, as bytes."""
    out = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            try:
                rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            except sqlite3.OperationalError:  # a full-text index's shadow: the files below
                continue
            for row in rows:
                for value in row:
                    if isinstance(value, bytes):
                        out.append(value)
                    elif value is not None:
                        out.append(str(value).encode())
    for wal in db.parent.glob("node.db*"):
        out.append(wal.read_bytes())
    return b"\n".join(out)


def _blob_has(blobs: Path, needle: bytes) -> bool:
    return blobs.exists() and any(needle in p.read_bytes() for p in blobs.rglob("*") if p.is_file())


async def test_nobody_but_the_holder_may_move_a_request_nor_file_in_anothers_name(
    net: Network,
) -> None:
    from node.errors import AccessDenied, NotFound
    from node.federation.messages import (
        FETCH,
        REQUEST_UPDATE,
        SUBMIT_REQUEST,
        FetchRequest,
        RequestUpdate,
        SubmitAck,
    )

    request_id = await file(net, MARRIAGE.record_id, STRANGER, "陈小明")
    await reaches(net, HOLDER, request_id, State.SUBMITTED)
    township = net.node(TOWNSHIP)
    p = township.parts
    forged = township.desk.sign(
        (await net.node(VILLAGE).parts.requests.get(request_id)).request,  # type: ignore[union-attr]
        State.APPROVED,
        "假批准",
    )
    with pytest.raises(AccessDenied):  # PERMISSION_DENIED on the wire
        await township.client.call(REQUEST_UPDATE, VILLAGE, p.codec.encode(RequestUpdate(forged)))
    assert (await net.node(VILLAGE).parts.requests.get(request_id)).state == State.SUBMITTED  # type: ignore[union-attr]
    # the village's own submit, resent (a lost answer): answered from what the holder stored
    payload = (await net.node(VILLAGE).parts.requests.sealed(request_id)) or b""
    assert payload  # still sealed while waiting
    from node.federation.messages import SubmitRequest

    filed_here = await net.node(VILLAGE).parts.requests.get(request_id)
    assert filed_here is not None
    resend = p.codec.encode(SubmitRequest(filed_here.request, payload))
    reply = await net.node(VILLAGE).client.call(SUBMIT_REQUEST, HOLDER, resend)
    ack = p.codec.decode(SubmitAck, reply.payload)
    assert ack.request_id == request_id and ack.change is not None
    assert ack.change.state == State.SUBMITTED
    # the township may not file in the village's name, nor fetch on the village's request
    with pytest.raises(AccessDenied):
        await township.client.call(SUBMIT_REQUEST, HOLDER, resend)
    ask = FetchRequest(HOLDER, MARRIAGE.record_id, request_id=request_id)
    with pytest.raises(NotFound):
        _, chunks = await township.client.stream(FETCH, HOLDER, p.codec.encode(ask))
        _ = [c async for c in chunks]


async def test_an_approval_not_fetched_in_time_lapses_at_both_ends(net: Network) -> None:
    village, holder = net.node(VILLAGE), net.node(HOLDER)
    await village.request_outbox.stop()  # the village files and hears back, but fetches later
    try:
        request_id = await file(net, OPEN.record_id, STRANGER, "陈小明")
        await village.request_outbox.drain()  # the submit; its answer is the rule's approval
        assert (await village.parts.requests.get(request_id)).state == State.APPROVED  # type: ignore[union-attr]
        holder.desk.approval_lifetime_s = 0.0
        try:
            await eventually(lambda: _expired(net, request_id))
        finally:
            holder.desk.approval_lifetime_s = 30 * 86400.0
        await reaches(net, VILLAGE, request_id, State.EXPIRED)
    finally:
        await village.request_outbox.start()
    await eventually(lambda: _outbox_empty(net, VILLAGE))
    assert (await village.parts.requests.get(request_id)).content is None  # type: ignore[union-attr]


async def _expired(net: Network, request_id: str) -> bool:
    await net.node(HOLDER).desk.run_scheduled()  # the scheduled job's body
    filed = await net.node(HOLDER).parts.requests.get(request_id)
    return filed is not None and filed.state == State.EXPIRED


async def _outbox_empty(net: Network, code: str) -> bool:
    return not await net.node(code).parts.requests.pending()


async def test_an_agents_power_of_attorney_reaches_only_the_holders_archivist(
    net: Network,
) -> None:
    from node.requests import Attorney

    scan = b"%PDF-1.4 " + "公证授权委托书".encode() * 50
    view = await net.service(VILLAGE).requests.submit(
        HOLDER, MARRIAGE.record_id, "王秀英", SUBJECT, Relationship.AGENT, "代办退休",
        attorney=Attorney("application/pdf", scan), actor=CLERK,
    )  # fmt: skip
    request_id = view.filed.request_id
    await reaches(net, HOLDER, request_id, State.SUBMITTED)
    held = await net.node(HOLDER).parts.requests.get(request_id)
    assert held is not None and held.rule == RULE_AGENT
    got = await net.service(HOLDER).requests.attorney(request_id, actor=ARCHIVIST)
    assert b"".join([c async for c in got.chunks]) == scan
    village = net.node(VILLAGE)
    assert not _blob_has(village.dir / "blobs", scan[9:40])  # kept sealed only, then dropped
