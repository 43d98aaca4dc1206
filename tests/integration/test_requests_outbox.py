"""A request filed while the route to the holder is down waits in the durable outbox and is
delivered when the route returns, across a restart of the receiving node too (issue 10,
item 2). Real hosts, one per node, stopped and started as a daemon would be.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from node.actors import Actor, ActorKind, Role
from node.host import Host
from node.requests import Relationship, State

from .network import Network, eventually, ingest, make_record, tree
from .test_requests import SUBJECT

VILLAGE, TOWNSHIP, COUNTY, CITY, HOLDER = "330106001001", "330106001", "330106", "3301", "330110"
CLERK = Actor(ActorKind.ACCOUNT, "wang", VILLAGE, frozenset({Role.CLERK}))
OPEN, OPEN_DATA = make_record(HOLDER, 2, title="1970年婚姻登记汇总表", year=1970)
pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def outbox_rows(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM request_outbox").fetchone()[0])


async def test_a_request_filed_while_the_county_is_down_is_delivered_after_restarts(
    tmp_path: Path,
) -> None:
    net = await Network.start(tmp_path, tree("33", CITY, COUNTY, TOWNSHIP, VILLAGE, HOLDER))
    try:
        await ingest(net.service(HOLDER), [(OPEN, OPEN_DATA)])
        await eventually(lambda: _knows(net, VILLAGE, HOLDER))
        county = net.hosts[COUNTY]
        await county.stop()  # the relay on the route to the holder is down
        view = await net.service(VILLAGE).requests.submit(
            HOLDER, OPEN.record_id, "王秀英", SUBJECT, Relationship.SELF, "查档", actor=CLERK
        )
        request_id = view.filed.request_id
        village = net.node(VILLAGE)
        await eventually(lambda: _attempted(net, request_id))
        assert (await village.parts.requests.get(request_id)).state == State.SUBMITTED  # type: ignore[union-attr]
        # the receiving node restarts while the county is still down: the call is on disk
        village_db = village.db.path
        await net.hosts[VILLAGE].stop()
        assert outbox_rows(village_db) == 1
        host = Host(county.settings)
        await host.start()
        net.hosts[COUNTY] = host
        await restart_stopped(net, VILLAGE)
        await eventually(lambda: _delivered(net, request_id), timeout=40)
        # the last call (delivered, to the holder) leaves the outbox empty
        await eventually(lambda: _outbox_empty(net))
        content = await net.service(VILLAGE).requests.content(request_id, actor=CLERK)
        assert b"".join([c async for c in content.chunks]) == OPEN_DATA
    finally:
        await net.stop()


async def restart_stopped(net: Network, code: str) -> None:
    host = Host(net.hosts[code].settings)
    await host.start()
    net.hosts[code] = host


async def _outbox_empty(net: Network) -> bool:
    return not await net.node(VILLAGE).parts.requests.pending()


async def _knows(net: Network, at: str, code: str) -> bool:
    return bool(net.node(at).desk.directory.current(code))


async def _attempted(net: Network, request_id: str) -> bool:
    items = await net.node(VILLAGE).parts.requests.pending()
    return any(i.request_id == request_id and i.attempts >= 1 for i in items)


async def _delivered(net: Network, request_id: str) -> bool:
    filed = await net.node(VILLAGE).parts.requests.get(request_id)
    return filed is not None and filed.state == State.DELIVERED
