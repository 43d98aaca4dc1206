"""Deterministic sample archive records for the demo network and for tests.

The demo network (DESIGN section 8) is province ``33``, city ``3301``, counties ``330106`` and
``330110``, two townships under each county and two villages under each township: 16 nodes.
Real codes carry their real names from the shipped division table; townships and villages get
plausible synthetic names.

``sample_records(code, name)`` makes the records one node holds: 300 at a county, 40 at a
township, 12 at a village, none at the city or the province (their catalogues are the
aggregate of their subtree). Every county holds records of every category in
``node.records.CATEGORIES``. Generation is seeded with ``"archive-node:" + code``, so the
same node always gets the same records, byte for byte. All persons, addresses and numbers
are fictitious; every content file says so (演示数据).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from node.divisions import division_name
from node.identity import Level, level_of, parent_of, validate_code
from node.records import (
    CATEGORIES,
    Access,
    ArchivalCode,
    ContentFile,
    Record,
    Retention,
)

__all__ = ["DEMO_NETWORK", "RECORDS_PER_LEVEL", "demo_records", "sample_records"]

MEDIA_TYPE = "text/plain; charset=utf-8"

# -- the demo network ----------------------------------------------------------------------

_SYNTHETIC_NAMES: dict[str, str] = {
    "330106001": "北山街道",
    "330106001001": "金鱼井社区",
    "330106001002": "葛岭社区",
    "330106002": "西溪街道",
    "330106002001": "嘉绿苑社区",
    "330106002002": "古荡湾社区",
    "330110001": "余杭街道",
    "330110001001": "凤新村",
    "330110001002": "永安村",
    "330110002": "仓前街道",
    "330110002001": "葛巷社区",
    "330110002002": "灵源村",
}
_DEMO_CODES: tuple[str, ...] = (
    "33",
    "3301",
    "330106",
    "330106001",
    "330106001001",
    "330106001002",
    "330106002",
    "330106002001",
    "330106002002",
    "330110",
    "330110001",
    "330110001001",
    "330110001002",
    "330110002",
    "330110002001",
    "330110002002",
)


def _archive_name(code: str) -> str:
    """档案馆 for the real divisions (name from the CSV), 档案室 for townships and villages."""
    real = division_name(code)
    if real is not None:
        return real + "档案馆"
    return _SYNTHETIC_NAMES[code] + "档案室"


DEMO_NETWORK: tuple[tuple[str, str], ...] = tuple(
    (code, _archive_name(code)) for code in _DEMO_CODES
)
"""(code, archive name) of every node of the demo network, parents before children."""

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

# -- places --------------------------------------------------------------------------------

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
_VILLAGES = (
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
_ORIGINS = (
    "浙江省绍兴市越城区",
    "浙江省温州市瑞安市",
    "浙江省金华市义乌市",
    "浙江省湖州市德清县",
    "浙江省衢州市江山市",
    "浙江省台州市临海市",
    "安徽省安庆市",
    "江西省上饶市",
    "江苏省苏州市",
    "上海市",
    "四川省达州市",
    "河南省信阳市",
)

_MOVE_REASONS = ("婚迁", "投靠亲属", "工作调动", "大中专院校录取", "购房落户", "退伍安置")

# -- people --------------------------------------------------------------------------------

_SURNAMES = (
    "王王王李李李张张张刘刘陈陈陈陈杨黄赵吴吴吴周周徐徐徐孙朱朱胡胡沈沈金钱俞郑何林高马"
    "罗梁宋许韩冯邵汪蒋叶方姚陆章潘杜傅袁丁范施楼应裘孔"
)
_GIVEN: dict[tuple[str, str], tuple[str, ...]] = {
    ("男", "old"): (
        "建国", "国庆", "福生", "根宝", "金林", "水根", "德明", "永康", "志华", "炳荣",
        "荣华", "国华", "洪德", "汉林", "阿根", "解放",
    ),
    ("男", "mid"): (
        "建华", "建军", "卫东", "志强", "国强", "伟", "军", "勇", "斌", "刚", "强", "杰",
        "平", "明", "建平", "卫国", "海军", "晓东", "洋", "建明",
    ),
    ("男", "new"): (
        "磊", "涛", "浩", "鹏", "宇", "超", "俊杰", "浩然", "子轩", "宇航", "一鸣", "晨阳",
        "天宇", "博文", "家豪", "嘉诚", "洋", "伟",
    ),
    ("女", "old"): (
        "秀英", "桂英", "玉兰", "秀珍", "凤英", "月娥", "彩娥", "素珍", "菊英", "美娟",
        "金凤", "阿香", "桂芳", "雪琴",
    ),
    ("女", "mid"): (
        "美华", "红英", "丽", "芳", "敏", "静", "娟", "艳", "燕", "霞", "丽萍", "海燕",
        "红梅", "丽娟", "晓燕", "建芬",
    ),
    ("女", "new"): (
        "婷", "雪", "佳怡", "欣怡", "雨涵", "梓涵", "思琪", "诗涵", "颖", "倩", "梦瑶",
        "佳琪", "静", "敏",
    ),
}  # fmt: skip


def _era(birth_year: int) -> str:
    return "old" if birth_year < 1958 else "mid" if birth_year < 1985 else "new"


def _person(rng: random.Random, sex: str, birth_year: int, avoid: tuple[str, ...] = ()) -> str:
    """A plausible name for someone of ``sex`` born in ``birth_year``, not one of ``avoid``."""
    while True:
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN[(sex, _era(birth_year))])
        if name not in avoid:
            return name


def _sex(rng: random.Random, male_share: float = 0.5) -> str:
    return "男" if rng.random() < male_share else "女"


def _strip(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _short(place: str) -> str:
    """西湖区 -> 西湖, 仓前街道 -> 仓前, 瓶窑镇 -> 瓶窑, 灵源村 -> 灵源."""
    return _strip(place, ("街道", "社区", "区", "县", "市", "镇", "乡", "村"))


# -- the holder's surroundings -------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
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


def _place(code: str, name: str) -> _Place:
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
        township = _SYNTHETIC_NAMES.get(parent, "")
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
    return _Place(code, name, level, city, county, township, village, townships, roads)


def _address(rng: random.Random, place: _Place) -> str:
    """A fictitious address inside the holder's area."""
    if place.village:
        if place.rural:
            return f"{place.county}{place.township}{place.village}{rng.randint(1, 12)}组"
        road = rng.choice(place.roads)
        return f"{place.county}{place.township}{road}{rng.randint(1, 300)}号"
    township = rng.choice(place.townships)
    if township.endswith(("镇", "乡")) or rng.random() < 0.2:
        return f"{place.county}{township}{rng.choice(_VILLAGES)}{rng.randint(1, 12)}组"
    road = rng.choice(place.roads)
    return f"{place.county}{township}{road}{rng.randint(1, 300)}号"


def _township_body(township: str, year: int) -> str:
    """The issuing body of a township: 街道办事处, or the commune / town government."""
    if township.endswith("街道"):
        return f"{township}办事处"
    if year < 1984:
        return f"{_short(township)}人民公社"
    return f"{township}人民政府"


def _village_body(place: _Place) -> str:
    return f"{place.village}{'村民委员会' if place.rural else '居民委员会'}"


def _month(rng: random.Random) -> int:
    return rng.randint(1, 12)


# -- one generator per category --------------------------------------------------------------


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


# What a category generator makes: title, subjects, creator, retention, body text.
_Made = tuple[str, tuple[str, ...], str, Retention, str]
_Generator = Callable[[random.Random, _Place, int], _Made]


def _marriage(rng: random.Random, place: _Place, year: int) -> _Made:
    groom_birth = year - rng.randint(22, 32)
    bride_birth = year - rng.randint(20, 30)
    groom = _person(rng, "男", groom_birth)
    bride = _person(rng, "女", bride_birth, (groom,))
    if place.level == Level.COUNTY:
        if year < 1967:
            creator = f"{place.county}人民委员会民政科"
        elif year < 1979:
            creator = f"{place.county}革命委员会民政组"
        else:
            creator = f"{place.county}民政局"
    else:
        creator = _township_body(place.township, year)
    law = (
        "《中华人民共和国婚姻法》（1950年）"
        if year < 1981
        else "《中华人民共和国婚姻法》"
        if year < 2021
        else "《中华人民共和国民法典》"
    )
    number = rng.randint(1, 99999)
    roll = rng.random()
    if year >= 1981 and roll < 0.1:
        title = f"{groom}、{bride}离婚登记档案"
        body = (
            f"男方{groom}，{groom_birth}年{_month(rng)}月出生，住{_address(rng, place)}；"
            f"女方{bride}，{bride_birth}年{_month(rng)}月出生，住{_address(rng, place)}。"
            f"双方自愿离婚，对子女抚养和财产处理已达成书面协议，经审查符合{law}的规定，"
            f"准予登记，发给离婚证（字第{number:05d}号）。"
        )
    elif year >= 1986 and roll < 0.15:
        title = f"{groom}、{bride}补领结婚证档案"
        body = (
            f"申请人{groom}、{bride}因原结婚证遗失，持身份证件及户口簿申请补领结婚证。"
            f"经查，双方婚姻关系登记于{rng.randint(1970, year)}年，档案记载与申请一致，"
            f"准予补发结婚证（字第{number:05d}号）。"
        )
    else:
        title = f"{groom}、{bride}结婚登记档案"
        body = (
            f"男方{groom}，{groom_birth}年{_month(rng)}月出生，住{_address(rng, place)}；"
            f"女方{bride}，{bride_birth}年{_month(rng)}月出生，住{_address(rng, place)}。"
            f"双方自愿结婚，经审查符合{law}的规定，准予登记，"
            f"发给结婚证（字第{number:05d}号）。附：结婚登记申请书、双方户籍证明、照片各一份。"
        )
    return title, (groom, bride), creator, Retention.PERMANENT, body


def _land(rng: random.Random, place: _Place, year: int) -> _Made:
    head = _person(rng, _sex(rng, 0.85), year - rng.randint(30, 65))
    township = rng.choice(place.townships)
    village = place.village if place.village else rng.choice(_VILLAGES)
    if year < 1998:
        title = f"{village}农村土地承包合同（{head}户）"
        term = f"自{year}年起至{year + 14}年止"
    elif year < 2014:
        title = f"{township}{village}土地承包经营权登记（{head}户）"
        term = "自1998年1月1日起至2027年12月31日止"
    elif year < 2020:
        title = f"{township}{village}土地承包经营权确权登记（{head}户）"
        term = "自1998年1月1日起至2027年12月31日止"
    else:
        title = f"{township}{village}土地承包经营权变更登记（{head}户）"
        term = "自2028年1月1日起至2057年12月31日止"
    if place.level == Level.COUNTY:
        creator = f"{place.county}农业局" if year < 2019 else f"{place.county}农业农村局"
    elif place.level == Level.TOWNSHIP:
        creator = f"{township}农经站"
    else:
        creator = f"{village}{'股份经济合作社' if year >= 2015 else '经济合作社'}"
    body = (
        f"发包方：{village}经济合作社；承包方：{head}户，家庭人口{rng.randint(2, 7)}人。"
        f"承包{village}集体耕地{rng.uniform(0.8, 6.5):.2f}亩，共{rng.randint(2, 9)}块，"
        f"承包期限{term}。地块四至、面积经村民代表现场核实，双方无异议，签字盖章为凭。"
    )
    return title, (head,), creator, Retention.PERMANENT, body


def _school(rng: random.Random, place: _Place) -> tuple[str, bool]:
    """A school name and whether it is a primary school."""
    county_short = _short(place.county)
    schools: tuple[tuple[str, bool], ...]
    if place.level == Level.COUNTY:
        city = place.city
        schools = (
            (f"{city}{county_short}中学", False),
            (f"{city}{county_short}高级中学", False),
            (f"{place.county}第二中学", False),
            (f"{place.county}实验小学", True),
        )
    else:
        township = _short(place.townships[0])
        schools = (
            (f"{place.county}{township}中学", False),
            (f"{place.county}{township}中心小学", True),
        )
    return rng.choice(schools)


def _student(rng: random.Random, place: _Place, year: int) -> _Made:
    school, primary = _school(rng, place)
    sex = _sex(rng)
    birth = year - (12 if primary else 18)
    student = _person(rng, sex, birth)
    teacher = _person(rng, _sex(rng, 0.4), year - rng.randint(25, 55), (student,))
    if rng.random() < 0.75:
        title, retention = f"{school}{year}届学生学籍卡（{student}）", Retention.PERMANENT
    else:
        title, retention = f"{school}{year}届毕业生登记表（{student}）", Retention.YEARS_30
    grade = rng.choice(("优", "良", "良", "合格"))
    body = (
        f"学生{student}，{sex}，{birth}年{_month(rng)}月出生，家住{_address(rng, place)}。"
        f"{year - (6 if primary else 3)}年9月入学，{year}年7月毕业。在校期间各科成绩合格，"
        f"操行评定：{grade}。班主任：{teacher}。学籍卡附成绩登记表及体格检查表。"
    )
    return title, (student,), school, retention, body


def _sent_down_youth(rng: random.Random, place: _Place, year: int) -> _Made:
    sex = _sex(rng)
    birth = year - rng.randint(16, 20)
    youth = _person(rng, sex, birth)
    city = place.city or "杭州市"
    commune = _short(rng.choice(place.townships))
    brigade = _short(rng.choice(_VILLAGES))
    if place.level == Level.COUNTY:
        creator = f"{place.county}知识青年上山下乡办公室"
    else:
        township = place.townships[0]
        creator = (
            f"{township}办事处" if township.endswith("街道") else f"{_short(township)}公社知青办"
        )
    origin_school = f"{city}第{rng.randint(1, 14)}中学"
    if year >= 1977 and rng.random() < 0.4:
        title = f"知识青年回城审批表（{youth}）"
        body = (
            f"{youth}，{sex}，{birth}年生，原{origin_school}学生，"
            f"{rng.randint(1968, year - 1)}年赴{place.county}{commune}公社{brigade}大队插队落户。"
            f"本人申请病退回城，经大队、公社审核，同意其办理回城手续，户粮关系迁回{city}。"
        )
    else:
        kind = rng.choice(("知识青年上山下乡登记表", "下乡知识青年安置登记表"))
        title = f"{kind}（{youth}）"
        body = (
            f"{youth}，{sex}，{birth}年生，原{origin_school}学生。于{year}年{_month(rng)}月"
            f"响应号召，赴{place.county}{commune}公社{brigade}大队插队落户，"
            f"安置经费已拨付生产队，口粮按当地标准供应。"
        )
    return title, (youth,), creator, Retention.PERMANENT, body


def _veteran(rng: random.Random, place: _Place, year: int) -> _Made:
    sex = _sex(rng, 0.92)
    birth = year - rng.randint(20, 26)
    veteran = _person(rng, sex, birth)
    if year >= 2018:
        kind = rng.choice(("退役军人安置审批表", "退役军人信息采集表"))
    elif year >= 1990:
        kind = rng.choice(("退伍军人安置审批表", "退役士兵安置审批表"))
    else:
        kind = rng.choice(("复员军人登记表", "退伍军人安置审批表"))
    if place.level == Level.COUNTY:
        creator = f"{place.county}退役军人事务局" if year >= 2018 else f"{place.county}民政局"
    elif place.level == Level.TOWNSHIP:
        township = place.townships[0]
        creator = f"{township}退役军人服务站" if year >= 2019 else f"{township}人民武装部"
    else:
        creator = f"{place.village}退役军人服务站" if year >= 2019 else _village_body(place)
    if year >= 2012:
        modes = ("自主就业", "安排工作", "逐月领取退役金")
    else:
        modes = ("安排工作", "复员回乡", "自谋职业")
    body = (
        f"{veteran}，{sex}，{birth}年{_month(rng)}月出生，{year - rng.randint(2, 5)}年"
        f"{_month(rng)}月入伍，服役于中国人民解放军某部，{year}年{_month(rng)}月退出现役。"
        f"经审核，安置方式：{rng.choice(modes)}，户籍落于{_address(rng, place)}。"
    )
    return f"{kind}（{veteran}）", (veteran,), creator, Retention.PERMANENT, body


def _housing(rng: random.Random, place: _Place, year: int) -> _Made:
    owner = _person(rng, _sex(rng, 0.6), year - rng.randint(25, 60))
    address = _address(rng, place)
    area = rng.uniform(38, 160)
    if place.level == Level.VILLAGE:
        creator = _village_body(place)
        if place.rural:
            kind = rng.choice(("农村宅基地使用审批表", "农村村民建房用地审批表"))
            title = f"{kind}（{owner}户）"
            body = (
                f"申请人{owner}户，家庭人口{rng.randint(2, 7)}人，申请在{place.village}"
                f"{rng.randint(1, 12)}组建房，用地面积{area:.0f}平方米。经村民代表会议讨论同意，"
                f"报{place.township}审核。"
            )
            return title, (owner,), creator, Retention.PERMANENT, body
        if rng.random() < 0.5:
            title, retention = f"房屋租赁登记备案（{owner}）", Retention.YEARS_10
            body = (
                f"出租人{owner}，出租房屋坐落{address}，建筑面积{area:.2f}平方米，"
                f"租期{rng.randint(1, 3)}年，已核验承租人身份并登记备案。"
            )
        else:
            title, retention = f"住房困难家庭申请登记（{owner}）", Retention.YEARS_30
            body = (
                f"申请人{owner}，家庭人口{rng.randint(1, 5)}人，现住{address}，"
                f"人均住房建筑面积{area / 4:.1f}平方米。经社区入户核查并公示，无异议，报街道审核。"
            )
        return title, (owner,), creator, retention, body
    if year >= 1998 and rng.random() < 0.25:
        title, retention = f"商品房买卖合同备案（{owner}）", Retention.YEARS_30
    elif year >= 2016:
        title, retention = f"不动产登记档案（{owner}）", Retention.PERMANENT
    else:
        title, retention = f"房屋所有权登记档案（{owner}）", Retention.PERMANENT
    creator = f"{place.county}不动产登记中心" if year >= 2016 else f"{place.county}房地产管理局"
    source = rng.choice(("购买", "自建", "继承") + (("房改购房",) if 1994 <= year <= 2000 else ()))
    body = (
        f"权利人{owner}，房屋坐落{address}{rng.randint(1, 6)}幢{rng.randint(101, 1802)}室，"
        f"建筑面积{area:.2f}平方米，用途：住宅。产权来源：{source}。"
        f"附：登记申请书、权属来源证明、房产平面图。"
    )
    return title, (owner,), creator, retention, body


def _social_security(rng: random.Random, place: _Place, year: int) -> _Made:
    sex = _sex(rng)
    birth = year - rng.randint(18, 60)
    insured = _person(rng, sex, birth)
    kinds: list[tuple[str, Retention]] = [("企业职工基本养老保险参保登记", Retention.PERMANENT)]
    if year >= 2010:
        kinds.append(("城乡居民社会保险参保登记", Retention.YEARS_30))
    if year >= 1999:
        kinds.append(("失业保险待遇审批表", Retention.YEARS_10))
    if year >= 2003:
        kinds.append(("被征地农民养老保障登记", Retention.PERMANENT))
    if year >= 2000:
        kinds.append(("医疗保险参保变更登记", Retention.YEARS_10))
    kind, retention = rng.choice(kinds)
    if place.level == Level.COUNTY:
        if year >= 2019 and kind.startswith("医疗"):
            creator = f"{place.county}医疗保障局"
        elif year >= 2010:
            creator = f"{place.county}人力资源和社会保障局"
        elif year >= 2000:
            creator = f"{place.county}劳动和社会保障局"
        else:
            creator = f"{place.county}劳动局"
    elif place.level == Level.TOWNSHIP:
        creator = f"{place.townships[0]}劳动保障所"
    else:
        creator = _village_body(place)
    body = (
        f"参保人{insured}，{sex}，{birth}年{_month(rng)}月出生，户籍地{_address(rng, place)}。"
        f"于{year}年{_month(rng)}月办理{kind.removesuffix('表')}，"
        f"缴费档次：{rng.choice(('一档', '二档', '三档', '按缴费基数60%', '按缴费基数100%'))}，"
        f"经办机构：{creator}。"
    )
    return f"{kind}（{insured}）", (insured,), creator, retention, body


def _household(rng: random.Random, place: _Place, year: int) -> _Made:
    township = rng.choice(place.townships)
    station = f"{_short(township)}派出所"
    creator = (
        f"{place.city}公安局{place.county}分局{station}"
        if place.city
        else f"{place.county}公安局{station}"
    )
    sex = _sex(rng)
    address = _address(rng, place)
    subjects: tuple[str, ...]
    roll = rng.random()
    if roll < 0.2:
        child = _person(rng, sex, year)
        father = _person(rng, "男", year - rng.randint(23, 38), (child,))
        mother = _person(rng, "女", year - rng.randint(21, 36), (child, father))
        title, retention = f"出生登记（{child}）", Retention.PERMANENT
        subjects = (child, father, mother)
        body = (
            f"{child}，{sex}，{year}年{_month(rng)}月{rng.randint(1, 28)}日出生，"
            f"父亲{father}，母亲{mother}。凭出生医学证明随{rng.choice(('父', '母'))}申报户口，"
            f"落户{address}。"
        )
    elif roll < 0.35:
        birth = year - rng.randint(40, 90)
        person = _person(rng, sex, birth)
        title, subjects, retention = f"户口注销登记（{person}）", (person,), Retention.YEARS_30
        reason = rng.choice(("死亡", "死亡", "出国（境）定居", "应征入伍"))
        body = (
            f"{person}，{sex}，{birth}年出生，原住{address}。因{reason}，"
            f"经户主申报并核验相关证明，于{year}年{_month(rng)}月注销户口。"
        )
    else:
        birth = year - rng.randint(16, 60)
        person = _person(rng, sex, birth)
        kind = rng.choice(("户口迁移登记", "户口迁入审批表"))
        title, subjects, retention = f"{kind}（{person}）", (person,), Retention.PERMANENT
        reason = rng.choice(_MOVE_REASONS)
        body = (
            f"{person}，{sex}，{birth}年{_month(rng)}月出生，因{reason}，"
            f"由{rng.choice(_ORIGINS)}迁入{address}，凭准予迁入证明及迁移证，经审核准予落户。"
        )
    return title, subjects, creator, retention, body


_GENERATORS: dict[str, _Generator] = {
    "婚姻登记": _marriage,
    "土地承包": _land,
    "学籍": _student,
    "知青": _sent_down_youth,
    "退役军人": _veteran,
    "房产": _housing,
    "社保": _social_security,
    "户籍": _household,
}
assert set(_GENERATORS) == set(CATEGORIES) == set(_MIX_COUNTY) == set(_FONDS)


# -- assembling records ----------------------------------------------------------------------


def _mix(place: _Place) -> dict[str, int]:
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


def _draft(rng: random.Random, place: _Place, category: str) -> _Draft:
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
    place = _place(code, name)
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
