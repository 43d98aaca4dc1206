"""The audit log's cost: on the search path at the province, and checking a log of 1M entries.

    python bench/bench_audit.py [repetitions] [entries]

1. Search at the province over the demo catalogue (one host, 16 nodes), the province's own
   search service with its audit note (queued, written by group commit) against the same
   service over the same parts with a no-op log, interleaved query by query: medians and
   their ratio. Then the same back to back with the queue drained at the end (so the
   background writes are paid for in the total), and, for comparison, a durable ``append``
   awaited on every search (one fsync'd transaction each).
2. A log of ``entries`` (default 1,000,000) in a fresh database: building it, verifying the
   whole chain against checkpoints every 100,000 entries, and the parent's check of a new
   checkpoint that extends the last by 5,000 and by ``MAX_SPAN`` entries (read the hashes,
   recompute the chain, store), against recomputing the chain alone.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from _common import summary

from node.actors import Actor, ActorKind, Role, node_actor
from node.audit import GENESIS, MAX_SPAN, Act, Checkpoint, WitnessMark, extend, search_detail
from node.crypto import SigningKey
from node.demo import load_samples, prepare
from node.federation.services.search import CatalogueSearch
from node.host import Host
from node.records import SearchQuery
from node.simulate import converged, eventually, free_port
from node.storage.audit import AuditLog, append_txn, draft
from node.storage.db import Database

QUERIES = ["婚姻登记", "结婚登记", "王", "学籍 2015", "土地承包"]
CLERK = Actor(ActorKind.ACCOUNT, "wang", "33", frozenset({Role.CLERK}))


class _NoAudit:
    """The baseline: the same search service with nothing noted."""

    def note(self, *args: Any, **kwargs: Any) -> None:
        return None


async def _once(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


async def search_path(reps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        host = Host(prepare(Path(tmp), free_port(), free_port())[0])
        await host.start()
        try:
            await load_samples(host)
            await eventually(lambda: converged(host), timeout=120)
            node = host.nodes["33"]
            audited = node.services.search
            assert isinstance(audited, CatalogueSearch)
            bare = CatalogueSearch(
                replace(node.parts, audit=_NoAudit()),  # type: ignore[arg-type]
                audited.client,
                audited.directory,
                audited.blind_index,
            )
            audit = node.parts.audit
            print(f"demo catalogue at the province: {await node.parts.catalogue.count()} entries")
            with_note: list[float] = []
            without: list[float] = []
            durable: list[float] = []
            for text in QUERIES:
                query = SearchQuery(text=text, scope="33")
                for _ in range(5):  # warm caches
                    await audited.search(query, actor=CLERK)
                    await bare.search(query, actor=CLERK)
                for _ in range(reps):
                    with_note.append(await _once(lambda q=query: audited.search(q, actor=CLERK)))
                    without.append(await _once(lambda q=query: bare.search(q, actor=CLERK)))

                    async def durably(q: SearchQuery = query) -> None:
                        await bare.search(q, actor=CLERK)
                        await audit.append(CLERK, Act.SEARCH, q.scope, {"q": q.text})

                    durable.append(await _once(durably))
            await audit.flush()
            # Back to back, the queue's writes included: blocks of searches, each block
            # with the note ended by draining the queue; order alternates between rounds.
            block = [SearchQuery(text=QUERIES[i % len(QUERIES)], scope="33") for i in range(500)]

            async def run(service: CatalogueSearch) -> float:
                start = time.perf_counter()
                for q in block:
                    await service.search(q, actor=CLERK)
                await audit.flush()
                return (time.perf_counter() - start) / len(block)

            # ``twin`` is ``bare`` again: the A/A ratio is this machine's noise floor.
            twin = CatalogueSearch(bare.parts, bare.client, bare.directory, bare.blind_index)
            ratios, same, plain, noted = [], [], [], []
            for round_no in range(8):
                trio = [bare, audited, twin] if round_no % 2 else [audited, twin, bare]
                times = {id(service): await run(service) for service in trio}
                plain.append(times[id(bare)])
                noted.append(times[id(audited)])
                ratios.append(times[id(audited)] / times[id(bare)])
                same.append(times[id(twin)] / times[id(bare)])
            # What one note costs the caller, and what its entry costs the writer thread.
            probe = AuditLog(node.db, "33", flush_delay_s=3600)
            query = SearchQuery(text="婚姻登记", scope="33")
            page = await bare.search(query, actor=CLERK)
            start = time.perf_counter()
            for _ in range(20_000):
                probe.note(CLERK, Act.SEARCH, "33", search_detail(query, page))
            note_us = (time.perf_counter() - start) / 20_000 * 1e6
            start = time.perf_counter()
            await probe.flush()
            write_us = (time.perf_counter() - start) / 20_000 * 1e6
            size, _ = await audit.head()
            print(f"province audit log now holds {size} entries")
        finally:
            await host.stop()
    print(f"search at the province ({len(QUERIES)} queries x {reps}, interleaved)")
    print(summary("without audit", without))
    print(summary("with audit note (queued, group commit)", with_note))
    print(summary("with durable append awaited (comparison)", durable))
    base = statistics.median(without)
    print(f"note / none: {statistics.median(with_note) / base:.3f}x (aim < 1.05x)")
    print(f"durable append / none: {statistics.median(durable) / base:.2f}x")
    print(
        f"back to back, 8 rounds of 500, queue drained: {statistics.median(plain) * 1000:.3f} ms"
        f" vs {statistics.median(noted) * 1000:.3f} ms a search; median ratio "
        f"{statistics.median(ratios):.3f}x (rounds {min(ratios):.3f}-{max(ratios):.3f}x)"
    )
    print(
        f"  A/A (the same service twice): median {statistics.median(same):.3f}x "
        f"(rounds {min(same):.3f}-{max(same):.3f}x)"
    )
    print(f"one note, the caller's cost: {note_us:.1f} us; its entry written: {write_us:.1f} us")


async def big_log(entries: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "node.db")
        await db.open()
        try:
            audit = AuditLog(db, "330106")
            start = time.perf_counter()
            batch = 10_000
            for first in range(0, entries, batch):
                drafts = [
                    draft(CLERK, Act.SEARCH, "33", {"q": f"张三 {i}", "total": i % 900}, i)
                    for i in range(first, min(entries, first + batch))
                ]
                await db.write(lambda conn, d=drafts: append_txn(conn, d))
            built = time.perf_counter() - start
            print(f"built a log of {entries:,} entries in {built:.1f} s ({entries / built:,.0f}/s)")
            marks = [
                WitnessMark(size, head, "self")
                for size in range(100_000, entries + 1, 100_000)
                if (head := await audit.chain_at(size)) is not None
            ]
            verify_s = []
            for _ in range(3):
                start = time.perf_counter()
                result = await audit.verify(marks)
                verify_s.append(time.perf_counter() - start)
                assert result.ok and result.size == entries, result
            label = f"verify the whole log ({entries:,}) + {len(marks)} checkpoints"
            print(summary(label, verify_s))
            print(f"  = {statistics.median(verify_s) / entries * 1e6:.2f} us an entry")

            # The parent's side: witness checkpoints that extend the last by a span.
            key = SigningKey.generate()
            witness_db = Database(Path(tmp) / "parent.db")
            await witness_db.open()
            parent = AuditLog(witness_db, "3301")
            by = node_actor("330106", "3301")
            size = max(1, entries - (MAX_SPAN + 5_000) * 5)
            first_head = await audit.chain_at(size)
            assert first_head is not None
            await parent.witness(_signed(key, size, first_head), 0, (), by)
            for span in (5_000, MAX_SPAN):
                check, chain_only = [], []
                for _ in range(5):
                    new_size = size + span
                    t0 = time.perf_counter()
                    hashes = await audit.hashes_between(size, new_size)
                    head = await audit.chain_at(new_size)
                    assert head is not None
                    t1 = time.perf_counter()
                    status, _, reason = await parent.witness(
                        _signed(key, new_size, head), size, hashes, by
                    )
                    t2 = time.perf_counter()
                    assert status == "accepted", reason
                    extend(GENESIS, hashes)
                    t3 = time.perf_counter()
                    check.append((t1 - t0) + (t2 - t1))
                    chain_only.append(t3 - t2)
                    size = new_size
                print(summary(f"witness a checkpoint {span:,} entries on", check))
                print(summary(f"  recompute {span:,} links alone", chain_only))
            await witness_db.close()
        finally:
            await db.close()


def _signed(key: SigningKey, size: int, head: bytes) -> Checkpoint:
    unsigned = Checkpoint("330106", size, head, int(time.time() * 1000), key.key_id)
    return replace(unsigned, signature=key.sign(unsigned.signing_input()))


async def main(reps: int, entries: int) -> None:
    if entries < (MAX_SPAN + 5_000) * 5 + 1:
        raise SystemExit(f"entries: at least {(MAX_SPAN + 5_000) * 5 + 1}")
    await search_path(reps)
    await big_log(entries)


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 100,
            int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000,
        )
    )
