# ruff: noqa: E501  (tables of Chinese sample text)
"""A synthetic province catalogue for the search benchmark, and a bulk builder for it.

Entries look like what a province aggregates: titles of about 30 characters from per-category
templates with names, places and years; holders spread over 11 cities, 88 counties, their
townships and villages; three retention periods; one entry in seven controlled (redacted
title, no names). ``cached_catalogue(n)`` builds the database once and keeps it under
``bench/.data/`` (ignored by git), named after the corpus and index format, so later runs
reuse it; a build that did not finish is never reused.

The bulk builder writes the catalogue table and the full-text index with plain ``sqlite3``
in large transactions: the same rows and index values as ``CatalogueStore.apply`` (it calls
the same ``row_values`` and ``fts_values``) but no change log, no version checks and no
per-batch round trips, about 3x faster. Only for benchmarks: a node must use the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from node.records import CATEGORIES, Access, CatalogueEntry, Retention, redacted_title
from node.storage import fts
from node.storage.db import Database
from node.storage.entries import ENTRY_COLUMNS, row_values

CORPUS_VERSION = "province-1"
DATA_DIR = Path(__file__).resolve().parent / ".data"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "秀英华明丽敏静伟芳娜强磊军洋勇艳杰娟涛超平刚桂兰玉萍红建国志文斌辉鹏飞霞燕凤春梅海波宁晨浩宇佳琳雪婷欣怡子轩梓涵一诺家豪俊杰振德福寿荣祥根林水土金银宝喜顺利"
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
]
TEMPLATES = {
    "婚姻登记": [
        "{p}与{q}结婚登记审查处理表",
        "关于{p}、{q}离婚登记的申请材料",
        "{p}与{q}婚姻登记档案（补发结婚证）",
    ],
    "土地承包": [
        "{v}村{p}户农村土地承包经营权证",
        "{v}村第{n}村民小组土地承包合同（{p}）",
        "关于{p}承包地调整的处理意见",
    ],
    "学籍": [
        "{v}中心小学{y}届毕业生{p}学籍卡",
        "{v}中学学生{p}、{q}学籍变更登记表",
        "{p}学籍档案（{y}年入学）",
    ],
    "知青": [
        "{p}上山下乡知识青年登记表",
        "关于{p}等{n}名知青返城安置的批复",
        "知识青年{p}插队{v}公社的证明",
    ],
    "退役军人": [
        "{p}退伍军人安置审批表",
        "关于{p}复员退伍待遇核定的通知",
        "{v}镇退役军人{p}优抚对象登记",
    ],
    "房产": [
        "{v}路{n}号房屋所有权登记（{p}）",
        "{p}、{q}房产买卖契约备案",
        "关于{p}私房翻建的审批意见",
    ],
    "社保": [
        "{p}养老保险参保缴费记录",
        "{v}镇{p}失业保险待遇核定表",
        "{p}医疗保险关系转移接续凭证",
    ],
    "户籍": ["{p}户口迁移证明（迁往{v}）", "{v}派出所{p}户籍登记簿", "关于{p}、{q}户口更正的批复"],
}
UNITS = ["镇", "街道", "乡", "村民委员会", "社区居委会"]
FORMS = ["", "原件", "复印件", "存根", "卷内备考表"]
CREATORS = ["{v}人民政府", "{v}民政办", "余杭区民政局", "西湖区档案馆", "{v}派出所", "{v}中心学校"]
RETENTIONS = [Retention.PERMANENT, Retention.PERMANENT, Retention.YEARS_30, Retention.YEARS_10]
# 11 cities x 8 counties; each county's archive, 10 townships, 12 villages under each.
CITIES = [f"33{c:02d}" for c in range(1, 12)]
COUNTY = "330106"  # the county the scoped cases search (1/88 of the entries)
CITY = "3301"  # the city the scoped cases search (1/11)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def holder(rng: random.Random) -> str:
    county = f"{rng.choice(CITIES)}{rng.randint(1, 8):02d}"
    level = rng.random()
    if level < 0.2:
        return county
    township = f"{county}{rng.randint(1, 10):03d}"
    return township if level < 0.5 else f"{township}{rng.randint(1, 12):03d}"


def make_entry(rng: random.Random, i: int) -> CatalogueEntry:
    category = rng.choice(list(CATEGORIES))
    year = rng.randint(1950, 2024)
    p, q, v = person(rng), person(rng), rng.choice(PLACES)
    title = rng.choice(TEMPLATES[category]).format(p=p, q=q, v=v, n=rng.randint(1, 30), y=year)
    title = f"{rng.choice(PLACES)}{rng.choice(UNITS)}{title}（{year}年{rng.choice(FORMS)}）"
    retention = rng.choice(RETENTIONS)
    access = Access.OPEN if i % 7 else Access.CONTROLLED
    subjects = (p, q) if "{q}" in title or rng.random() < 0.3 else (p,)
    if access != Access.OPEN:  # as records.catalogue_entry shares it
        title = f"{category}档案（{year}年，{access.zh}）"
        subjects = ()
    return CatalogueEntry(
        holder=holder(rng),
        record_id=f"r{i}",
        version=1,
        archival_code=f"J001-{CATEGORIES[category]}·{year}-{retention.code}-{i % 10000:04d}",
        category=category,
        year=year,
        retention=retention,
        title=title,
        creator=rng.choice(CREATORS).format(v=v),
        access=access,
        holder_name="档案馆",
        subjects=subjects,
    )


def entries(n: int, seed: int = 20240501) -> Iterator[CatalogueEntry]:
    rng = random.Random(seed)
    for i in range(n):
        yield make_entry(rng, i)


assert redacted_title  # the shape above follows records.redacted_title


def _index_row(rowid: int, e: CatalogueEntry) -> tuple[object, ...]:
    values = fts.fts_values(
        e.title, e.creator, e.subjects, e.holder, e.category, e.year, e.access, e.retention
    )
    return (rowid, *values)


def bulk_build(path: Path, n: int, batch: int = 100_000) -> None:
    """Create ``path`` (schema by ``Database.open``) and load ``n`` entries into it."""
    asyncio.run(_create_schema(path))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # a build that fails is never reused
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    columns = ", ".join(ENTRY_COLUMNS)
    insert = (
        f"INSERT INTO catalogue(id, {columns}) VALUES (?, {', '.join('?' for _ in ENTRY_COLUMNS)})"
    )
    start = time.perf_counter()
    source = entries(n)
    for base in range(0, n, batch):
        chunk = [(base + k + 1, next(source)) for k in range(min(batch, n - base))]
        conn.execute("BEGIN")
        conn.executemany(insert, ((rowid, *row_values(e)) for rowid, e in chunk))
        fts.insert_rows(conn, (_index_row(rowid, e) for rowid, e in chunk))  # type: ignore[misc]
        conn.execute("COMMIT")
        done = base + len(chunk)
        elapsed = time.perf_counter() - start
        print(f"  {done:>10,} entries  {elapsed:7.0f} s  {done / elapsed:8,.0f}/s", flush=True)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    fts.optimize(conn)
    conn.execute("COMMIT")
    print(f"  merged the index in {time.perf_counter() - t0:.0f} s", flush=True)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


async def _create_schema(path: Path) -> None:
    db = Database(path)
    await db.open()
    await db.close()


def cache_path(n: int) -> Path:
    """Where the database of ``n`` entries is kept: named after corpus and index format."""
    key = hashlib.sha256(
        f"{CORPUS_VERSION} {fts.TOKENIZER_VERSION} {fts.CREATE_FTS_COMPACT}".encode()
    ).hexdigest()[:10]
    return DATA_DIR / f"search-{n}-{key}.db"


def cached_catalogue(n: int) -> Path:
    """The database of ``n`` entries, built first if there is none yet."""
    path = cache_path(n)
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    print(f"building {n:,} entries into {partial}", flush=True)
    start = time.perf_counter()
    bulk_build(partial, n)
    elapsed = time.perf_counter() - start
    print(f"built {n:,} entries in {elapsed:.0f} s ({n / elapsed:,.0f}/s)", flush=True)
    partial.rename(path)
    return path


if __name__ == "__main__":
    import sys

    print(cached_catalogue(int(sys.argv[1])))
