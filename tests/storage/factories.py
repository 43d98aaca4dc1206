"""Valid records and catalogue entries for storage tests."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace

from node.records import CATEGORIES, Access, ArchivalCode, CatalogueEntry, Record, Retention
from node.storage.migrations import migrate

COMMON = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑秀英华明丽敏静伟芳娜强磊军洋婚姻登记土地承包学籍知青退役军人房产社保户籍关于的证明申请表村镇街道"  # noqa: E501


def make_record(n: int, holder: str = "330106", **changes: object) -> Record:
    """Record ``R<n>`` held by ``holder``: open, 婚姻登记, 2015, unless ``changes`` say else."""
    category = str(changes.pop("category", "婚姻登记"))
    year = int(changes.pop("year", 2015))  # type: ignore[call-overload]
    code = ArchivalCode("J001", CATEGORIES[category], year, Retention.PERMANENT, n % 10000)
    record = Record(
        holder=holder,
        record_id=f"R{n}",
        archival_code=str(code),
        fonds="J001",
        category=category,
        year=year,
        retention=Retention.PERMANENT,
        title=f"王秀英与李明结婚登记审查处理表{n}",
        creator="西湖区民政局",
        date=f"{year}-05-20",
        access=Access.OPEN,
        subjects=("王秀英", "李明"),
    )
    return replace(record, **changes) if changes else record  # type: ignore[arg-type]


def make_entry(
    record_id: str = "R1", holder: str = "330106", version: int = 1, **changes: object
) -> CatalogueEntry:
    """A catalogue entry; title/creator/subjects/category/year/deleted via ``changes``."""
    entry = CatalogueEntry(
        holder=holder,
        record_id=record_id,
        version=version,
        archival_code="J001-HY·2015-Y-0001",
        category="婚姻登记",
        year=2015,
        retention=Retention.PERMANENT,
        title=f"婚姻登记档案 {record_id} 第{version}版",
        creator="西湖区民政局",
        access=Access.OPEN,
        holder_name="西湖区档案馆",
    )
    return replace(entry, **changes) if changes else entry  # type: ignore[arg-type]


def chinese_text(rng: random.Random, low: int, high: int, punctuation: float = 0.08) -> str:
    """Random text from a small alphabet (so substrings repeat), with some punctuation."""
    chars = []
    for _ in range(rng.randint(low, high)):
        chars.append(
            rng.choice("（）、，《》 ") if rng.random() < punctuation else rng.choice(COMMON)
        )
    return "".join(chars)


def memory_db() -> sqlite3.Connection:
    """A migrated in-memory database in autocommit mode, for synchronous ``_txn`` tests."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn)
    return conn


def in_txn(conn: sqlite3.Connection, fn, *args):  # type: ignore[no-untyped-def]
    """Run ``fn(conn, *args)`` in one transaction, as ``Database.write`` does."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
