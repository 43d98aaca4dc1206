"""Search by identity number (the keyed blind index) against a search by name, one catalogue.

    python bench/bench_blind_index.py [N]     # default 100000 entries

Builds a catalogue of ``N`` entries (``_search_corpus.entries``) in a temporary database through
``CatalogueStore.apply`` (so the ``subject_index`` table is filled as a node fills it); every
controlled entry carries the blind-index values of two synthetic people. Then prints p50/p99
of ``CatalogueStore.search`` for: a person's number over the whole catalogue, scoped to a
county, with a category filter, and with a text word; the baseline is the same run's search
for a person's name (the bigram full-text index), and the ratio of the medians. Also the
cost of turning a number into its values under two live keys.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from _common import summary
from _search_corpus import COUNTY, entries, person

from node.citizens import IdNumber, check_character
from node.index_keys import IndexKey
from node.records import Access, SearchQuery
from node.storage.catalogue import CatalogueStore
from node.storage.db import Database

REPS = 200
KEYS = (IndexKey.generate(2, 0), IndexKey.generate(1, 0))


def number(i: int) -> IdNumber:
    body = f"330106{1940 + i % 60}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    return IdNumber(body + check_character(body))


async def timed(runs: int, work: Callable[[int], Awaitable[object]]) -> list[float]:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        await work(i)
        samples.append(time.perf_counter() - start)
    return samples


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "node.db")
        await db.open()
        store = CatalogueStore(db)
        rng = random.Random(7)
        people: list[IdNumber] = []
        batch = []
        start = time.perf_counter()
        for i, entry in enumerate(entries(n)):
            if entry.access == Access.CONTROLLED and not entry.deleted:
                pair = (number(2 * i), number(2 * i + 1))
                people.extend(pair)
                entry = replace(entry, subject_index=tuple(KEYS[0].value(p) for p in pair))
            batch.append(entry)
            if len(batch) == 5000:
                await store.apply(batch)
                batch = []
        await store.apply(batch)
        print(f"{n:,} entries, {len(people):,} indexed people, "
              f"built in {time.perf_counter() - start:.1f} s")  # fmt: skip
        chosen = [rng.choice(people) for _ in range(REPS)]
        names = [person(rng) for _ in range(REPS)]

        def by_number(i: int, **filters: object) -> Awaitable[object]:
            values = tuple(k.value(chosen[i]) for k in KEYS)
            return store.search(SearchQuery(subject_index=values, **filters))  # type: ignore[arg-type]

        values_cost = await timed(
            REPS * 10, lambda i: asyncio.sleep(0, [k.value(chosen[i % REPS]) for k in KEYS])
        )
        baseline = await timed(REPS, lambda i: store.search(SearchQuery(text=names[i])))
        province = await timed(REPS, by_number)
        county = await timed(REPS, lambda i: by_number(i, scope=COUNTY))
        category = await timed(REPS, lambda i: by_number(i, category="婚姻登记"))
        worded = await timed(REPS, lambda i: by_number(i, text="民政局"))
        hits = sum([(await by_number(i)).total for i in range(REPS)])  # type: ignore[attr-defined]
        print(f"every chosen number found: {hits >= REPS}")
        print(summary("baseline: a name (full-text)", baseline))
        for label, samples in (
            ("by number, whole catalogue", province),
            (f"by number, scope {COUNTY}", county),
            ("by number, category 婚姻登记", category),
            ("by number + text 民政局", worded),
            ("number -> values under 2 keys", values_cost),
        ):
            ratio = statistics.median(samples) / statistics.median(baseline)
            print(f"{summary(label, samples)}   x{ratio:.2f} of baseline")
        await db.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
