"""Where a sample record's holder sits: its county, townships, roads, addresses, offices.

``locate(code, name)`` turns a node into the ``Place`` that every category generator
(``Generator``) draws its titles, creators and addresses from.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from node.divisions import division_name
from node.identity import Level, level_of, parent_of
from node.records import Retention
from node.sample_data.network import SYNTHETIC_NAMES

_COUNTY_TOWNSHIPS: dict[str, tuple[str, ...]] = {
    "330106": (
        "北山街道",
        "西溪街道",
        "灵隐街道",
        "翠苑街道",
        "文新街道",
        "古荡街道",
        "转塘街道",
        "留下街道",
        "蒋村街道",
        "三墩镇",
        "双浦镇",
    ),
    "330110": (
        "余杭街道",
        "仓前街道",
        "五常街道",
        "闲林街道",
        "中泰街道",
        "良渚街道",
        "仁和街道",
        "瓶窑镇",
        "径山镇",
        "黄湖镇",
        "鸬鸟镇",
        "百丈镇",
    ),
}
_GENERIC_TOWNSHIPS = (
    "城关镇",
    "城东街道",
    "城西街道",
    "城南街道",
    "新街镇",
    "东山乡",
    "西河镇",
    "南湖街道",
    "北塘镇",
    "青山镇",
)
VILLAGES = (
    "杨家村",
    "张家桥村",
    "新民村",
    "前进村",
    "东湖村",
    "西湾村",
    "石塘村",
    "大同村",
    "金星村",
    "红旗村",
    "联合村",
    "光明村",
    "南庄村",
    "上林村",
    "横山村",
    "塘湾村",
    "双桥村",
    "沈家埭村",
)
_COUNTY_ROADS: dict[str, tuple[str, ...]] = {
    "330106": ("文三路", "天目山路", "曙光路", "北山路", "文一西路", "古墩路", "留和路", "教工路"),
    "330110": ("南大街", "禹航路", "文一西路", "余杭塘路", "凤新路", "良渚路", "通济街", "崇贤路"),
}
_GENERIC_ROADS = ("人民路", "解放路", "中山路", "建设路", "新华路", "城东路", "环城北路", "文化路")


def _strip(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def short_name(place: str) -> str:
    """西湖区 -> 西湖, 仓前街道 -> 仓前, 瓶窑镇 -> 瓶窑, 灵源村 -> 灵源."""
    return _strip(place, ("街道", "社区", "区", "县", "市", "镇", "乡", "村"))


# -- the holder's surroundings -------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a holder sits, for titles, creators and addresses."""

    code: str
    holder_name: str
    level: Level
    city: str  # 杭州市, or "" when unknown
    county: str  # 西湖区
    township: str  # the holder's township (township and village holders), else ""
    village: str  # the village holder's own name, else ""
    townships: tuple[str, ...]
    roads: tuple[str, ...] = field(default=())

    @property
    def rural(self) -> bool:
        return self.level == Level.VILLAGE and not self.village.endswith("社区")


def locate(code: str, name: str) -> Place:
    level = level_of(code)
    own = _strip(name.strip(), ("档案馆", "档案室", "档案局")) or name
    city = (division_name(code[:4]) or "") if level >= Level.CITY else ""
    county = ""
    if level >= Level.COUNTY:
        county = division_name(code[:6]) or (own if level == Level.COUNTY else "")
    township = village = ""
    if level == Level.TOWNSHIP:
        township = own
    elif level == Level.VILLAGE:
        village = own
        parent = parent_of(code) or ""
        township = SYNTHETIC_NAMES.get(parent, "")
    if not county:
        county = (city or "本") + "县"
    county_code = code[:6]
    townships = _COUNTY_TOWNSHIPS.get(county_code, _GENERIC_TOWNSHIPS)
    if township:
        townships = (township,)
    elif level == Level.VILLAGE:
        township = townships[int(code[6:9]) % len(townships)]
        townships = (township,)
    roads = _COUNTY_ROADS.get(county_code, _GENERIC_ROADS)
    return Place(code, name, level, city, county, township, village, townships, roads)


def address_in(rng: random.Random, place: Place) -> str:
    """A fictitious address inside the holder's area."""
    if place.village:
        if place.rural:
            return f"{place.county}{place.township}{place.village}{rng.randint(1, 12)}组"
        road = rng.choice(place.roads)
        return f"{place.county}{place.township}{road}{rng.randint(1, 300)}号"
    township = rng.choice(place.townships)
    if township.endswith(("镇", "乡")) or rng.random() < 0.2:
        return f"{place.county}{township}{rng.choice(VILLAGES)}{rng.randint(1, 12)}组"
    road = rng.choice(place.roads)
    return f"{place.county}{township}{road}{rng.randint(1, 300)}号"


def township_body(township: str, year: int) -> str:
    """The issuing body of a township: 街道办事处, or the commune / town government."""
    if township.endswith("街道"):
        return f"{township}办事处"
    if year < 1984:
        return f"{short_name(township)}人民公社"
    return f"{township}人民政府"


def village_body(place: Place) -> str:
    return f"{place.village}{'村民委员会' if place.rural else '居民委员会'}"


# What a category generator makes: title, subjects, creator, retention, body text.
Made = tuple[str, tuple[str, ...], str, Retention, str]
Generator = Callable[[random.Random, Place, int], Made]
