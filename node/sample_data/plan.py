"""The per-node record plan and its assembly into numbered records with content files.

How many records of which category a node of each level holds, their fonds, years and access;
``sample_records`` seeds one ``random.Random`` per node, drafts every record with its
category's generator, sorts and numbers them, and writes each one's transcript.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date

from node.identity import Level, validate_code
from node.records import (
    CATEGORIES,
    Access,
    ArchivalCode,
    ContentFile,
    Record,
    Retention,
)
from node.sample_data.civil import household_registration, marriage_registration
from node.sample_data.estate import housing, land_contract
from node.sample_data.network import DEMO_NETWORK
from node.sample_data.places import Generator, Place, locate
from node.sample_data.schooling import school_record, sent_down_youth
from node.sample_data.welfare import social_security, veteran_placement

MEDIA_TYPE = "text/plain; charset=utf-8"

RECORDS_PER_LEVEL: dict[Level, int] = {
    Level.PROVINCE: 0,
    Level.CITY: 0,
    Level.COUNTY: 300,
    Level.TOWNSHIP: 40,
    Level.VILLAGE: 12,
}
"""How many sample records a node of each level holds."""

# How a level's records split over the categories (each row sums to RECORDS_PER_LEVEL).
_MIX_COUNTY = {
    "婚姻登记": 60,
    "土地承包": 30,
    "学籍": 45,
    "知青": 18,
    "退役军人": 24,
    "房产": 42,
    "社保": 45,
    "户籍": 36,
}
_MIX_TOWNSHIP = {"婚姻登记": 9, "土地承包": 9, "学籍": 5, "知青": 4, "退役军人": 6, "社保": 7}
_MIX_RURAL_VILLAGE = {"土地承包": 5, "社保": 3, "房产": 2, "退役军人": 2}
_MIX_URBAN_COMMUNITY = {"社保": 6, "房产": 4, "退役军人": 2}

# 全宗号: one fonds per issuing line of work, so (category, year, retention, item) is unique.
_FONDS = {
    "婚姻登记": "J001",
    "土地承包": "J002",
    "学籍": "J003",
    "知青": "J004",
    "退役军人": "J005",
    "房产": "J006",
    "社保": "J007",
    "户籍": "J008",
}

# Year ranges (inclusive) per category and level.
_YEARS: dict[str, tuple[int, int]] = {
    "婚姻登记": (1965, 2024),
    "土地承包": (1983, 2024),
    "学籍": (1965, 2024),
    "知青": (1968, 1979),
    "退役军人": (1965, 2024),
    "房产": (1985, 2024),
    "社保": (1995, 2024),
    "户籍": (1965, 2024),
}
_YEARS_TOWNSHIP: dict[str, tuple[int, int]] = {"婚姻登记": (1965, 2000), "社保": (2000, 2024)}
_YEARS_VILLAGE: dict[str, tuple[int, int]] = {"退役军人": (1990, 2024), "社保": (2005, 2024)}

_ACCESS_WEIGHTS = ((Access.OPEN, 60), (Access.CONTROLLED, 35), (Access.CLOSED, 5))


@dataclass(frozen=True)
class _Draft:
    """A record before numbering: everything except the 档号 and the record id."""

    category: str
    year: int
    date: str
    retention: Retention
    title: str
    creator: str
    subjects: tuple[str, ...]
    body: str
    access: Access


_GENERATORS: dict[str, Generator] = {
    "婚姻登记": marriage_registration,
    "土地承包": land_contract,
    "学籍": school_record,
    "知青": sent_down_youth,
    "退役军人": veteran_placement,
    "房产": housing,
    "社保": social_security,
    "户籍": household_registration,
}
assert set(_GENERATORS) == set(CATEGORIES) == set(_MIX_COUNTY) == set(_FONDS)


# -- assembling records ----------------------------------------------------------------------


def _mix(place: Place) -> dict[str, int]:
    if place.level == Level.COUNTY:
        return _MIX_COUNTY
    if place.level == Level.TOWNSHIP:
        return _MIX_TOWNSHIP
    if place.level == Level.VILLAGE:
        return _MIX_RURAL_VILLAGE if place.rural else _MIX_URBAN_COMMUNITY
    return {}


def _years(category: str, level: Level) -> tuple[int, int]:
    if level == Level.TOWNSHIP and category in _YEARS_TOWNSHIP:
        return _YEARS_TOWNSHIP[category]
    if level == Level.VILLAGE and category in _YEARS_VILLAGE:
        return _YEARS_VILLAGE[category]
    return _YEARS[category]


def _draft(rng: random.Random, place: Place, category: str) -> _Draft:
    first, last = _years(category, place.level)
    year = rng.randint(first, last)
    title, subjects, creator, retention, body = _GENERATORS[category](rng, place, year)
    day = date(year, 1, 1).toordinal() + rng.randrange(366 if year % 4 == 0 else 365)
    access = rng.choices([a for a, _ in _ACCESS_WEIGHTS], [w for _, w in _ACCESS_WEIGHTS])[0]
    return _Draft(
        category=category,
        year=year,
        date=date.fromordinal(day).isoformat(),
        retention=retention,
        title=title,
        creator=creator,
        subjects=subjects,
        body=body,
        access=access,
    )


def _transcript(record: Record, holder_name: str, body: str) -> bytes:
    """The content file: a plain-text transcript of the record, marked as demo data."""
    text = (
        "档案摘录（演示数据）\n"
        "\n"
        f"档号：{record.archival_code}\n"
        f"题名：{record.title}\n"
        f"门类：{record.category}\n"
        f"责任者：{record.creator}\n"
        f"形成日期：{record.date}\n"
        f"保管期限：{record.retention.value}\n"
        f"开放范围：{record.access.zh}\n"
        f"保管单位：{holder_name}（区划代码 {record.holder}）\n"
        "\n"
        f"{body}\n"
        "\n"
        "说明：本件为 archive-node 演示网络生成的演示数据，文中人名、地址、证号均属虚构，"
        "不具有任何证明效力。\n"
    )
    return text.encode("utf-8")


def sample_records(code: str, name: str) -> list[tuple[Record, bytes]]:
    """The sample records node ``code`` (archive ``name``) holds, each with its content bytes.

    Deterministic: seeded with ``"archive-node:" + code``. A county gets 300 records covering
    every category, a township 40, a village 12, the city and the province none. Each record
    has one content file ``<record_id>.txt`` whose sha256 and size match the bytes returned
    beside it. Records come ordered by category, year and item number.
    """
    validate_code(code)
    place = locate(code, name)
    rng = random.Random("archive-node:" + code)
    drafts = [
        _draft(rng, place, category)
        for category, count in _mix(place).items()
        for _ in range(count)
    ]
    order = list(CATEGORIES)
    drafts.sort(key=lambda d: (order.index(d.category), d.year, d.date, d.title))
    items: Counter[tuple[str, int, Retention]] = Counter()
    result: list[tuple[Record, bytes]] = []
    for draft in drafts:
        category_code = CATEGORIES[draft.category]
        items[(category_code, draft.year, draft.retention)] += 1
        item = items[(category_code, draft.year, draft.retention)]
        fonds = _FONDS[draft.category]
        archival = ArchivalCode(fonds, category_code, draft.year, draft.retention, item)
        record_id = f"{category_code}-{draft.year}-{draft.retention.code}-{item:04d}"
        bare = Record(
            holder=code,
            record_id=record_id,
            archival_code=str(archival),
            fonds=fonds,
            category=draft.category,
            year=draft.year,
            retention=draft.retention,
            title=draft.title,
            creator=draft.creator,
            date=draft.date,
            access=draft.access,
            subjects=draft.subjects,
        )
        content = _transcript(bare, name, draft.body)
        record = replace(bare, files=(_content_file(record_id, content),))
        result.append((record, content))
    return result


def _content_file(record_id: str, content: bytes) -> ContentFile:
    return ContentFile(
        name=f"{record_id}.txt",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        media_type=MEDIA_TYPE,
    )


def demo_records() -> dict[str, list[tuple[Record, bytes]]]:
    """Sample records for every node of ``DEMO_NETWORK``, keyed by code (empty lists included)."""
    return {code: sample_records(code, name) for code, name in DEMO_NETWORK}
