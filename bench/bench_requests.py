"""Utilisation requests: submit-to-delivered across 4 hops, and the archivist's queue at scale.

    python bench/bench_requests.py [repetitions]

1. A rule-approved request (the subject asking for her own controlled record) filed at village
   330106001001 for a record held by county 330110, four hops away (one host, one gRPC
   listener per node, loopback): from ``submit`` until the sealed content is stored at the
   village. Baseline in the same run: a plain fetch of an open record of the same size over
   the same hops. A request is three trips on the wire (submit, sealed fetch, the delivered
   update back) plus the holder's and the village's durable writes, so expect a few times the
   fetch.
2. The archivist's queue (``list`` of pending requests, overdue first, 50 a page, and the
   queue page over HTTP) with 100 and with 10,000 requests pending.

Prints medians and ratios.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from _common import summary

from node.actors import Actor, ActorKind, Role
from node.citizens import IdNumber, check_character
from node.records import Access
from node.requests import (
    FiledRequest,
    Relationship,
    State,
    UtilisationRequest,
    new_request_id,
)
from node.requests import Role as RequestRole
from node.simulate import (
    Network,
    eventually,
    index_keys_everywhere,
    ingest,
    make_record,
    staff,
    tree,
)
from node.storage import requests as request_store

NODES = tree("33", "3301", "330106", "330110", "330106001", "330106001001")
VILLAGE, HOLDER = "330106001001", "330110"
BODY = "33011019660512002"
SUBJECT = IdNumber.parse(BODY + check_character(BODY))
CLERK = Actor(ActorKind.ACCOUNT, "wang", VILLAGE, frozenset({Role.CLERK}))
ARCHIVIST = Actor(ActorKind.ACCOUNT, "li", HOLDER, frozenset({Role.ARCHIVIST}))


async def main(reps: int) -> None:
    content = os.urandom(256 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        net = await Network.start(Path(tmp), NODES)
        try:
            controlled, _ = make_record(
                HOLDER, 1, title="结婚登记", access=Access.CONTROLLED, content=content
            )
            other = os.urandom(len(content))  # the same bytes would be the controlled one's
            opened, _ = make_record(HOLDER, 2, title="婚姻登记汇总", content=other)
            await index_keys_everywhere(net)
            await ingest(
                net.service(HOLDER),
                [(controlled, content), (opened, other)],
                subject_ids={controlled.record_id: (SUBJECT,)},
            )
            village = net.node(VILLAGE)
            await eventually(lambda: _knows(net), timeout=60)
            service = net.service(VILLAGE)

            async def fetch() -> float:
                start = time.perf_counter()
                got = await service.retrieval.fetch(HOLDER, opened.record_id, actor=CLERK)
                assert sum([len(c) async for c in got.chunks]) == len(content)
                return time.perf_counter() - start

            async def request() -> float:
                start = time.perf_counter()
                view = await service.requests.submit(
                    HOLDER, controlled.record_id, "王秀英", SUBJECT, Relationship.SELF,
                    "办理退休", actor=CLERK,
                )  # fmt: skip
                rid = view.filed.request_id
                while True:
                    filed = await village.parts.requests.get(rid)
                    if filed is not None and filed.state == State.DELIVERED:
                        return time.perf_counter() - start
                    await asyncio.sleep(0.001)

            for _ in range(3):  # warm channels and caches
                await fetch()
                await request()
            fetches, requests = [], []
            for _ in range(reps):  # interleaved, so machine noise hits both alike
                fetches.append(await fetch())
                requests.append(await request())
            small, large, page_small, page_large = await queue(net, reps)
        finally:
            await net.stop()
    print("utilisation requests (one gRPC listener per node, loopback, 256 KiB content)")
    print(summary("plain fetch of an open record (4 hops)", fetches))
    print(summary("rule-approved request, submit->delivered", requests))
    ratio = statistics.median(requests) / statistics.median(fetches)
    print(f"request / fetch: {ratio:.2f}x")
    print(summary("queue list, 100 pending (50 a page)", small))
    print(summary("queue list, 10,000 pending (50 a page)", large))
    print(f"10,000 / 100 pending: {statistics.median(large) / statistics.median(small):.2f}x")
    print(summary("queue page over HTTP, 100 pending", page_small))
    print(summary("queue page over HTTP, 10,000 pending", page_large))


async def _knows(net: Network) -> bool:
    return bool(net.node(VILLAGE).desk.directory.current(HOLDER)) and bool(
        net.node(HOLDER).desk.directory.current(VILLAGE)
    )


async def queue(net: Network, reps: int) -> tuple[list[float], ...]:
    """The archivist's queue at 100 and at 10,000 pending requests."""
    holder = net.node(HOLDER)
    token = await staff(net.service(HOLDER), "li", Role.ARCHIVIST)
    host = net.hosts[HOLDER]
    assert host.listening is not None
    url = f"{host.listening.web_url}/n/{HOLDER}/requests/queue"
    results: list[list[float]] = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        for total in (100, 10_000):
            await _pending(holder.db, total)
            lists, pages = [], []
            for _ in range(reps):
                start = time.perf_counter()
                got = await net.service(HOLDER).requests.list(
                    RequestRole.INCOMING, (State.SUBMITTED,), limit=50, actor=ARCHIVIST
                )
                lists.append(time.perf_counter() - start)
                assert got.total >= total and len(got.items) == 50
                start = time.perf_counter()
                async with http.get(url) as answer:
                    assert answer.status == 200
                    await answer.read()
                pages.append(time.perf_counter() - start)
            results += [lists, pages]
    return results[0], results[2], results[1], results[3]


async def _pending(db: object, total: int) -> None:
    """Fill the holder's table up to ``total`` pending requests in one transaction."""
    now = int(time.time() * 1000)

    def txn(conn: sqlite3.Connection) -> None:
        have = conn.execute("SELECT count(*) FROM requests WHERE state = 'submitted'").fetchone()
        rows = []
        for n in range(int(have[0]), total):
            node = f"3301060010{n % 90 + 10:02d}"
            request = UtilisationRequest(
                new_request_id(node), HOLDER, f"T-HY-1966-{n:04d}", node, "wang", "查档",
                Relationship.SELF, now - n * 60_000,
            )  # fmt: skip
            filed = FiledRequest(
                request, RequestRole.INCOMING, State.SUBMITTED, "等待审核", now,
                now + (n % 7 - 3) * 86_400_000, citizen_name="王秀英",
                id_masked="330110********0021", rule="未按规则批准：身份证号码与档案当事人不符",
            )  # fmt: skip
            rows.append(request_store._values(filed))
        marks = ", ".join("?" for _ in request_store._COLUMNS.split(","))
        conn.executemany(f"INSERT INTO requests({request_store._COLUMNS}) VALUES ({marks})", rows)

    await db.write(txn)  # type: ignore[attr-defined]


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
