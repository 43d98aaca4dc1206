"""OAI-PMH harvest rate and the appraisal scan, each against a plain SQL baseline.

    python bench/bench_oai.py [OPEN_RECORDS [RECORDS]]     # default 100000 1000000

1. A catalogue of OPEN_RECORDS open entries, loaded through ``CatalogueStore.apply`` (the
   path ingest and sync take, which stamps each row for the feed). A full ListRecords
   harvest by oaipmh-scythe over HTTP (the node's real web app and ``/n/CODE/oai`` route,
   default page of 100), the same harvest through ``OaiProvider.respond`` without HTTP (3
   runs, median), and, as the baseline, a plain keyset-paged ``SELECT`` of the same rows in
   pages of 100 decoded into entries (3 runs, median). Prints records/s and the ratios.
2. A node holding RECORDS records of its own (written straight into its ``records`` table),
   a third of them due for review: the appraisal job's scan (``AppraisalStore.scan``, as
   ``Appraisal.run_scheduled`` runs it) the first time, when it lists them, and again, when
   it lists nothing new; baseline: one plain filtered full scan of the records table (the
   rows not open and not deleted formed before a date: what one of the scan's ten passes
   reads, without its date arithmetic or its inserts). OPEN_RECORDS 0 skips part 1.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from _search_corpus import entries
from aiohttp import web
from oaipmh_scythe import Scythe

from node.config_sections import OaiSettings
from node.federation.services.info import NodeInfo
from node.federation.services.oai import OaiProvider
from node.records import CATEGORIES, Access
from node.simulate import free_port
from node.storage.appraisal import AppraisalStore
from node.storage.catalogue import CatalogueStore
from node.storage.db import Database
from node.storage.entries import SELECT_ENTRY, entry_from_row
from node.storage.oai import OaiFeed
from node.web import create_app

CODE = "33"
PAGE = 100


async def load_catalogue(db: Database, n: int) -> None:
    store = CatalogueStore(db)
    batch = []
    for entry in entries(n):
        batch.append(replace(entry, access=Access.OPEN, deleted=False))
        if len(batch) == 5_000:
            await store.apply(batch)
            batch = []
    if batch:
        await store.apply(batch)


async def provider_harvest(provider: OaiProvider) -> int:
    """Every record through ``respond`` (protocol and XML, no HTTP); returns how many."""
    args = [("verb", "ListRecords"), ("metadataPrefix", "oai_dc")]
    seen = 0
    while True:
        body = (await provider.respond(args, "http://bench/n/33/oai")).body
        seen += body.count(b"<record>")
        start = body.find(b"<resumptionToken")
        end = body.find(b"</resumptionToken>")
        if start < 0 or end < 0:
            return seen
        token = body[body.index(b">", start) + 1 : end].decode()
        args = [("verb", "ListRecords"), ("resumptionToken", token)]


async def select_baseline(db: Database) -> int:
    """The same rows by a plain keyset-paged SELECT, decoded into entries."""

    def page(conn: Any, after: int) -> list[tuple[int, Any]]:
        rows = conn.execute(
            f"SELECT c.id, {SELECT_ENTRY} FROM catalogue c WHERE c.id > ? ORDER BY c.id LIMIT ?",
            (after, PAGE),
        )
        return [(row[0], entry_from_row(row[1:])) for row in rows]

    seen, after = 0, 0
    while True:
        rows = await db.read(lambda conn, a=after: page(conn, a))  # type: ignore[misc]
        if not rows:
            return seen
        seen += len(rows)
        after = rows[-1][0]


def scythe_harvest(url: str) -> int:
    with Scythe(url) as client:
        return sum(1 for _ in client.list_records())


async def harvest_bench(n: int, folder: Path) -> None:
    db = Database(folder / "oai.db")
    await db.open()
    started = time.perf_counter()
    await load_catalogue(db, n)
    print(f"catalogue of {n:,} open entries loaded in {time.perf_counter() - started:.1f} s")
    provider = OaiProvider(CODE, "浙江省档案馆", OaiFeed(db), OaiSettings(page_size=PAGE))
    node = SimpleNamespace(info=NodeInfo.of(CODE, "浙江省档案馆"), oai=provider)
    app = create_app({CODE: node})  # type: ignore[dict-item]  # only .info and .oai are used
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        started = time.perf_counter()
        got = await asyncio.to_thread(scythe_harvest, f"http://127.0.0.1:{port}/n/{CODE}/oai")
        client_s = time.perf_counter() - started
        assert got == n, (got, n)
        direct, plain = [], []
        for _ in range(3):
            started = time.perf_counter()
            assert await provider_harvest(provider) == n
            direct.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert await select_baseline(db) == n
            plain.append(time.perf_counter() - started)
    finally:
        await runner.cleanup()
        await db.close()
    client_rate = n / client_s
    direct_rate = n / statistics.median(direct)
    plain_rate = n / statistics.median(plain)
    print(f"ListRecords by oaipmh-scythe over HTTP (page {PAGE}) {client_rate:10,.0f} records/s")
    print(f"ListRecords through OaiProvider, median of 3      {direct_rate:10,.0f} records/s")
    print(f"baseline: plain paged SELECT, median of 3         {plain_rate:10,.0f} records/s")
    print(
        f"ratio: client harvest / SELECT {client_rate / plain_rate:.3f}, "
        f"provider / SELECT {direct_rate / plain_rate:.3f}"
    )


def fill_records(db_path: Path, n: int) -> None:
    """``n`` records straight into the table (the scan reads nothing else); a third due."""
    import sqlite3

    rng = random.Random(7)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    categories = list(CATEGORIES)
    rows = []
    for i in range(n):
        due = i % 3 == 0
        year = rng.randint(1960, 1995) if due else rng.randint(2005, 2024)
        access = "open" if i % 3 == 1 else rng.choice(["controlled", "closed"])
        retention = rng.choice(["永久", "30年", "10年"])
        rows.append((f"R{i:07d}", "33", f"J001-HY·{year}-Y-{i % 9999 + 1:04d}", "J001",
                     categories[i % len(categories)], year, retention, "题名", "民政局",
                     f"{year}-05-20", access, "[]", "[]", "[]", 1, 0))  # fmt: skip
        if len(rows) == 50_000:
            conn.executemany(f"INSERT INTO records VALUES ({', '.join('?' * 16)}, '')", rows)
            rows = []
    if rows:
        conn.executemany(f"INSERT INTO records VALUES ({', '.join('?' * 16)}, '')", rows)
    conn.execute("COMMIT")
    conn.close()


async def appraisal_bench(n: int, folder: Path) -> None:
    db = Database(folder / "records.db")
    await db.open()
    await db.close()
    fill_records(folder / "records.db", n)
    await db.open()
    try:
        store = AppraisalStore(db)
        years = dict.fromkeys(CATEGORIES, 25)
        today = time.strftime("%Y-%m-%d")
        started = time.perf_counter()
        first = await store.scan(today, years, time.time())
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = await store.scan(today, years, time.time())
        again_s = time.perf_counter() - started
        assert again == {"opening": 0, "disposal": 0}
        started = time.perf_counter()
        await db.read(
            lambda conn: conn.execute(
                "SELECT count(*) FROM records WHERE deleted = 0 AND access != 'open' AND date <= ?",
                (today,),
            ).fetchone()
        )
        count_s = time.perf_counter() - started
    finally:
        await db.close()
    listed = f"listed {first['opening']:,} for opening, {first['disposal']:,} for disposal"
    print(f"appraisal scan over {n:,} records, first pass       {first_s:8.2f} s  ({listed})")
    print(f"appraisal scan, second pass (nothing new)          {again_s:8.2f} s")
    print(f"baseline: one filtered full scan of the records     {count_s:8.2f} s")
    print(
        f"ratio: scan / full scan {first_s / count_s:.1f} (first), {again_s / count_s:.1f} (again)"
    )


async def main(open_records: int, records: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        if open_records:
            await harvest_bench(open_records, Path(folder))
        await appraisal_bench(records, Path(folder))


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:3]] + [100_000, 1_000_000][len(sys.argv[1:3]) :]
    asyncio.run(main(*sizes))
