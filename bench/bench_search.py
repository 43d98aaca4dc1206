# ruff: noqa: E501  (tables of Chinese sample text)
"""Catalogue search speed and correctness at scale: bigram FTS vs a plain LIKE scan.

    python bench/bench_search.py [N] [DB]   # N synthetic Chinese catalogue entries, default 100000

With DB, the database is kept there and reused by later runs (built if missing).

Builds N entries (titles of about 30 characters from per-category templates, with names,
places and years) in a temporary database through ``CatalogueStore.apply``, then for 2-, 3-
and 4-character terms cut from random titles prints p50/p99 of ``CatalogueStore.search``
(first page of 20 + total) without filters, with a county scope (half the entries), and with
category + years;
then the same terms as a plain ``LIKE '%term%'`` scan over title/category/creator/subjects: the
baseline for speed, and for correctness (the totals must be equal; any difference is
printed).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from _common import summary

from node.records import CATEGORIES, CatalogueEntry, Retention, SearchQuery
from node.storage import fts
from node.storage.catalogue import CatalogueStore
from node.storage.db import Database

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "秀英华明丽敏静伟芳娜强磊军洋勇艳杰娟涛超平刚桂兰玉萍红建国志文斌辉鹏飞霞燕凤春梅海波宁晨浩宇佳琳雪婷欣怡子轩梓涵一诺家豪俊杰振德福寿荣祥根林水土金银宝喜顺利"  # noqa: E501
PLACES = [
    "西溪",
    "北山",
    "仓前",
    "余杭",
    "凤新",
    "永安",
    "灵源",
    "葛巷",
    "古荡",
    "金鱼井",
    "嘉绿苑",
    "三墩",
    "留下",
    "蒋村",
    "闲林",
    "良渚",
    "瓶窑",
    "径山",
    "塘栖",
    "崇贤",
]  # noqa: E501
HOLDERS = [
    "330106", "330106001", "330106001001", "330106001002", "330106002", "330106002001",
    "330110", "330110001", "330110001001", "330110002", "330110002002",
]  # fmt: skip
TEMPLATES = {
    "婚姻登记": ["{p}与{q}结婚登记审查处理表", "关于{p}、{q}离婚登记的申请材料", "{p}与{q}婚姻登记档案（补发结婚证）"],
    "土地承包": ["{v}村{p}户农村土地承包经营权证", "{v}村第{n}村民小组土地承包合同（{p}）", "关于{p}承包地调整的处理意见"],
    "学籍": ["{v}中心小学{y}届毕业生{p}学籍卡", "{v}中学学生{p}、{q}学籍变更登记表", "{p}学籍档案（{y}年入学）"],
    "知青": ["{p}上山下乡知识青年登记表", "关于{p}等{n}名知青返城安置的批复", "知识青年{p}插队{v}公社的证明"],
    "退役军人": ["{p}退伍军人安置审批表", "关于{p}复员退伍待遇核定的通知", "{v}镇退役军人{p}优抚对象登记"],
    "房产": ["{v}路{n}号房屋所有权登记（{p}）", "{p}、{q}房产买卖契约备案", "关于{p}私房翻建的审批意见"],
    "社保": ["{p}养老保险参保缴费记录", "{v}镇{p}失业保险待遇核定表", "{p}医疗保险关系转移接续凭证"],
    "户籍": ["{p}户口迁移证明（迁往{v}）", "{v}派出所{p}户籍登记簿", "关于{p}、{q}户口更正的批复"],
}  # fmt: skip
UNITS = ["镇", "街道", "乡", "村民委员会", "社区居委会"]
FORMS = ["", "原件", "复印件", "存根", "卷内备考表"]
CREATORS = ["{v}人民政府", "{v}民政办", "余杭区民政局", "西湖区档案馆", "{v}派出所", "{v}中心学校"]


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def make_entry(rng: random.Random, i: int) -> CatalogueEntry:
    category = rng.choice(list(CATEGORIES))
    year = rng.randint(1950, 2024)
    p, q, v = person(rng), person(rng), rng.choice(PLACES)
    title = rng.choice(TEMPLATES[category]).format(p=p, q=q, v=v, n=rng.randint(1, 30), y=year)
    title = f"{rng.choice(PLACES)}{rng.choice(UNITS)}{title}（{year}年{rng.choice(FORMS)}）"
    return CatalogueEntry(
        holder=HOLDERS[i % len(HOLDERS)],
        record_id=f"r{i}",
        version=1,
        archival_code=f"J001-{CATEGORIES[category]}·{year}-Y-{i % 10000:04d}",
        category=category,
        year=year,
        retention=Retention.PERMANENT,
        title=title,
        creator=rng.choice(CREATORS).format(v=v),
        access="open",  # type: ignore[arg-type]
        holder_name="档案馆",
        subjects=(p, q) if "{q}" in title or rng.random() < 0.3 else (p,),
    )


async def build(catalogue: CatalogueStore, n: int) -> list[str]:
    rng = random.Random(20240501)
    start = time.perf_counter()
    titles: list[str] = []
    for base in range(0, n, 50_000):
        entries = [make_entry(rng, i) for i in range(base, min(n, base + 50_000))]
        titles.extend(e.title for e in entries)
        await catalogue.apply(entries)
    elapsed = time.perf_counter() - start
    size = catalogue.db.path.stat().st_size / 1e6
    print(f"built {n} entries in {elapsed:.1f} s ({n / elapsed:,.0f}/s), db {size:.0f} MB")
    start = time.perf_counter()
    await catalogue.optimize_index()
    print(f"optimize_index (merge FTS segments) {time.perf_counter() - start:.1f} s")
    print(f"average title length {sum(map(len, titles)) / len(titles):.1f} characters")
    return titles


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
    start = time.perf_counter()
    text_clause, params = fts.like_clause(term)
    # search also finds a category's name (indexed with the title)
    clause = f"({text_clause} OR c.category LIKE ? ESCAPE '\\')"
    params = [*params, fts.like_pattern(term)]
    conn.execute(
        f"SELECT * FROM catalogue c WHERE c.deleted = 0 AND {clause} LIMIT 20",
        params,
    ).fetchall()
    total = conn.execute(
        f"SELECT count(*) FROM catalogue c WHERE c.deleted = 0 AND {clause}", params
    ).fetchone()[0]
    return total, time.perf_counter() - start


async def measure(catalogue: CatalogueStore, label: str, queries: list[SearchQuery]) -> None:
    samples = []
    for query in queries:
        t0 = time.perf_counter()
        await catalogue.search(query)
        samples.append(time.perf_counter() - t0)
    print(summary(label, samples))


async def main(n: int, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = keep or Path(tmp) / "bench.db"
        reuse = path.exists()
        db = Database(path)
        await db.open()
        catalogue = CatalogueStore(db)
        if reuse:
            titles = [
                r[0]
                for r in await db.read(
                    lambda c: c.execute("SELECT title FROM catalogue").fetchall()
                )
            ]
            print(f"reusing {path}: {len(titles)} entries")
        else:
            titles = await build(catalogue, n)
        rng = random.Random(99)

        baseline = sqlite3.connect(db.path)
        baseline.execute("PRAGMA cache_size = -64000")
        mismatches = 0
        for length in (2, 3, 4):
            terms = cjk_terms(rng, titles, length, 60)
            cases = {
                "": lambda t: SearchQuery(text=t),
                "scope 330106": lambda t: SearchQuery(text=t, scope="330106"),
                "category+years": lambda t: SearchQuery(
                    text=t, category="婚姻登记", year_from=1980, year_to=2000
                ),
            }
            totals: dict[str, int] = {}
            for label, make in cases.items():
                samples = []
                for term in terms:
                    t0 = time.perf_counter()
                    page = await catalogue.search(make(term))
                    samples.append(time.perf_counter() - t0)
                    if not label:
                        totals[term] = page.total
                print(summary(f"FTS {length}-char {label or 'no filter'}", samples))
            totals_sorted = sorted(totals.values())
            print(
                f"    totals: median {totals_sorted[len(totals_sorted) // 2]}, "
                f"max {totals_sorted[-1]}"
            )
            like_samples = []
            for term in terms[:10]:
                expected, elapsed = like_total(baseline, term)
                like_samples.append(elapsed)
                if expected != totals[term]:
                    mismatches += 1
                    print(f"    MISMATCH {term!r}: FTS {totals[term]} LIKE {expected}")
            print(summary(f"LIKE {length}-char no filter", like_samples))
        names = [person(rng) for _ in range(60)]  # what a clerk types: a citizen's name
        await measure(catalogue, "person name no filter", [SearchQuery(text=n) for n in names])
        await measure(
            catalogue,
            "person name scope 330106",
            [SearchQuery(text=n, scope="330106") for n in names],
        )
        chars = rng.sample(SURNAMES, 10)
        await measure(catalogue, "1-char (prefix query)", [SearchQuery(text=c) for c in chars])
        await measure(
            catalogue,
            "filters only (scope + category)",
            [SearchQuery(scope="330106001", category="学籍")] * 20,
        )
        print(f"correctness: {mismatches} mismatches against LIKE")
        baseline.close()
        await db.close()


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
            Path(sys.argv[2]) if len(sys.argv) > 2 else None,
        )
    )
