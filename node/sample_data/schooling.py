"""Sample records of schooling: 学籍 (pupils' files) and 知青 (sent-down youth)."""

from __future__ import annotations

import random

from node.identity import Level
from node.records import Retention
from node.sample_data.people import draw_sex, month, person_name
from node.sample_data.places import VILLAGES, Made, Place, address_in, short_name


def _school(rng: random.Random, place: Place) -> tuple[str, bool]:
    """A school name and whether it is a primary school."""
    county_short = short_name(place.county)
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
        township = short_name(place.townships[0])
        schools = (
            (f"{place.county}{township}中学", False),
            (f"{place.county}{township}中心小学", True),
        )
    return rng.choice(schools)


def school_record(rng: random.Random, place: Place, year: int) -> Made:
    school, primary = _school(rng, place)
    sex = draw_sex(rng)
    birth = year - (12 if primary else 18)
    student = person_name(rng, sex, birth)
    teacher = person_name(rng, draw_sex(rng, 0.4), year - rng.randint(25, 55), (student,))
    if rng.random() < 0.75:
        title, retention = f"{school}{year}届学生学籍卡（{student}）", Retention.PERMANENT
    else:
        title, retention = f"{school}{year}届毕业生登记表（{student}）", Retention.YEARS_30
    grade = rng.choice(("优", "良", "良", "合格"))
    body = (
        f"学生{student}，{sex}，{birth}年{month(rng)}月出生，家住{address_in(rng, place)}。"
        f"{year - (6 if primary else 3)}年9月入学，{year}年7月毕业。在校期间各科成绩合格，"
        f"操行评定：{grade}。班主任：{teacher}。学籍卡附成绩登记表及体格检查表。"
    )
    return title, (student,), school, retention, body


def sent_down_youth(rng: random.Random, place: Place, year: int) -> Made:
    sex = draw_sex(rng)
    birth = year - rng.randint(16, 20)
    youth = person_name(rng, sex, birth)
    city = place.city or "杭州市"
    commune = short_name(rng.choice(place.townships))
    brigade = short_name(rng.choice(VILLAGES))
    if place.level == Level.COUNTY:
        creator = f"{place.county}知识青年上山下乡办公室"
    else:
        township = place.townships[0]
        creator = (
            f"{township}办事处"
            if township.endswith("街道")
            else f"{short_name(township)}公社知青办"
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
            f"{youth}，{sex}，{birth}年生，原{origin_school}学生。于{year}年{month(rng)}月"
            f"响应号召，赴{place.county}{commune}公社{brigade}大队插队落户，"
            f"安置经费已拨付生产队，口粮按当地标准供应。"
        )
    return title, (youth,), creator, Retention.PERMANENT, body
