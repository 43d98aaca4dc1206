"""Catalogue search speed and correctness at province scale: 1M and 10M entries.

    python bench/bench_search.py [N ...]     # default 1000000; e.g. 1000000 10000000

Each catalogue is built once by ``_search_corpus.py``'s bulk builder and kept under
``bench/.data/`` (several GB at 10M; delete it to rebuild). For 2-, 3- and 4-character terms
cut from random open titles, prints p50/p99 of ``CatalogueStore.search`` (first page of 20
plus the total) without filters, scoped to a county (1/88 of the entries) and to a city
(1/11), with category + years, and with retention + access; then the next page by cursor, a
person's name and one character. Baselines in the same process: the same unfiltered
searches with exact totals (no count limit), and at 1M a plain ``LIKE '%term%'`` scan, whose
totals must equal the exact FTS totals (any difference is printed). Also the index size.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

from _common import summary
from _search_corpus import CITY, COUNTY, SURNAMES, cached_catalogue, person

from node.records import SearchQuery
from node.storage import fts, search
from node.storage.catalogue import CatalogueStore
from node.storage.db import Database

TERMS = 60


def cjk_terms(rng: random.Random, titles: list[str], length: int, count: int) -> list[str]:
    terms: list[str] = []
    while len(terms) < count:
        title = rng.choice(titles)
        if len(title) < length:
            continue
        start = rng.randrange(len(title) - length + 1)
        term = title[start : start + length]
        if all(not ch.isascii() and ch.isalnum() for ch in term):
            terms.append(term)
    return terms


def like_total(conn: sqlite3.Connection, term: str) -> tuple[int, float]:
    """What search promises, as a scan: open titles, creator, subject names, category name."""
    start = time.perf_counter()
    pattern = fts.like_pattern(term)
    clause = (
        "((c.access = 'open' AND c.title LIKE ? ESCAPE '\\') OR c.creator LIKE ? ESCAPE '\\' "
        "OR c.subjects LIKE ? ESCAPE '\\' OR c.category LIKE ? ESCAPE '\\')"
    )
    params = [pattern, pattern, fts.like_pattern(term), pattern]
    sql = f"FROM catalogue c WHERE c.deleted = 0 AND {clause}"
    conn.execute(f"SELECT * {sql} ORDER BY c.id DESC LIMIT 20", params).fetchall()
    total = int(conn.execute(f"SELECT count(*) {sql}", params).fetchone()[0])
    return total, time.perf_counter() - start


async def timed(catalogue: CatalogueStore, queries: list[SearchQuery]) -> tuple[list[float], list]:
    samples, pages = [], []
    for query in queries:
        t0 = time.perf_counter()
        pages.append(await catalogue.search(query))
        samples.append(time.perf_counter() - t0)
    return samples, pages


def index_size_mb(path: Path) -> tuple[float, float]:
    """(full-text index, whole file) in MB."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    fts_bytes = conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'catalogue_fts%'"
    ).fetchone()[0]
    conn.close()
    return fts_bytes / 1e6, path.stat().st_size / 1e6


async def bench(n: int) -> None:
    print(f"\n=== {n:,} entries ===", flush=True)
    path = cached_catalogue(n)
    fts_mb, file_mb = index_size_mb(path)
    print(f"{path.name}: full-text index {fts_mb:,.0f} MB, database file {file_mb:,.0f} MB")
    db = Database(path)
    await db.open()
    catalogue = CatalogueStore(db)
    rng = random.Random(99)
    ids = rng.sample(range(1, n + 1), 3000)
    sample = (
        f"SELECT title FROM catalogue WHERE access = 'open' AND id IN ({','.join(map(str, ids))})"
    )
    titles = [row[0] for row in await db.read(lambda c: c.execute(sample).fetchall())]
    cases: dict[str, Callable[[str], SearchQuery]] = {
        "no filter": lambda t: SearchQuery(text=t),
        f"scope county {COUNTY}": lambda t: SearchQuery(text=t, scope=COUNTY),
        f"scope city {CITY}": lambda t: SearchQuery(text=t, scope=CITY),
        "category+years": lambda t: SearchQuery(
            text=t, category="婚姻登记", year_from=1980, year_to=2000
        ),
        "retention+access": lambda t: SearchQuery(text=t, retention="永久", access="open"),
    }
    baseline = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    baseline.execute("PRAGMA cache_size = -64000")
    mismatches = 0
    for length in (2, 3, 4):
        terms = cjk_terms(rng, titles, length, TERMS)
        await timed(catalogue, [SearchQuery(text=t) for t in terms[:10]])  # warm the cache
        first_pages = []
        for label, make in cases.items():
            samples, pages = await timed(catalogue, [make(t) for t in terms])
            print(summary(f"FTS {length}-char {label}", samples), flush=True)
            if label == "no filter":
                first_pages = pages
        capped = sum(not p.total_exact for p in first_pages)
        print(f"    {capped}/{len(terms)} totals past {search.COUNT_LIMIT:,} ('more than')")
        queries = [
            replace(SearchQuery(text=t), cursor=p.next_cursor)
            for t, p in zip(terms, first_pages, strict=True)
            if p.next_cursor
        ]
        samples, _ = await timed(catalogue, queries)
        print(summary(f"FTS {length}-char next page by cursor", samples))
        with patch.object(search, "COUNT_LIMIT", 10**12):  # baseline: exact totals
            exact_terms = terms[:20]
            samples, pages = await timed(catalogue, [SearchQuery(text=t) for t in exact_terms])
        totals = sorted(p.total for p in pages)
        print(summary(f"baseline {length}-char exact totals", samples))
        print(f"    exact totals: median {totals[len(totals) // 2]:,}, max {totals[-1]:,}")
        if n <= 1_000_000:
            like_samples = []
            for term, page in list(zip(exact_terms, pages, strict=True))[:10]:
                expected, elapsed = like_total(baseline, term)
                like_samples.append(elapsed)
                if expected != page.total:
                    mismatches += 1
                    print(f"    MISMATCH {term!r}: FTS {page.total} LIKE {expected}")
            print(summary(f"baseline {length}-char LIKE scan", like_samples), flush=True)
    names = [person(rng) for _ in range(TERMS)]
    samples, _ = await timed(catalogue, [SearchQuery(text=name) for name in names])
    print(summary("person name, no filter", samples))
    samples, _ = await timed(catalogue, [SearchQuery(text=name, scope=COUNTY) for name in names])
    print(summary(f"person name, scope {COUNTY}", samples))
    chars = rng.sample(SURNAMES, 10)
    samples, _ = await timed(catalogue, [SearchQuery(text=c) for c in chars])
    print(summary("1 character (prefix query)", samples))
    samples, _ = await timed(catalogue, [SearchQuery(scope=f"{COUNTY}001", category="学籍")] * 20)
    print(summary("filters only (township + category)", samples))
    if n <= 1_000_000:
        print(f"correctness: {mismatches} mismatches against LIKE")
    baseline.close()
    await db.close()


async def main(sizes: list[int]) -> None:
    for n in sizes:
        await bench(n)


if __name__ == "__main__":
    asyncio.run(main([int(arg) for arg in sys.argv[1:]] or [1_000_000]))
