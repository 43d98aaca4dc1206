"""Sample records of civil status: 婚姻登记 (marriages, divorces) and 户籍 (households)."""

from __future__ import annotations

import random

from node.identity import Level
from node.records import Retention
from node.sample_data.people import draw_sex, month, person_name
from node.sample_data.places import Made, Place, address_in, short_name, township_body

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


def marriage_registration(rng: random.Random, place: Place, year: int) -> Made:
    groom_birth = year - rng.randint(22, 32)
    bride_birth = year - rng.randint(20, 30)
    groom = person_name(rng, "男", groom_birth)
    bride = person_name(rng, "女", bride_birth, (groom,))
    if place.level == Level.COUNTY:
        if year < 1967:
            creator = f"{place.county}人民委员会民政科"
        elif year < 1979:
            creator = f"{place.county}革命委员会民政组"
        else:
            creator = f"{place.county}民政局"
    else:
        creator = township_body(place.township, year)
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
            f"男方{groom}，{groom_birth}年{month(rng)}月出生，住{address_in(rng, place)}；"
            f"女方{bride}，{bride_birth}年{month(rng)}月出生，住{address_in(rng, place)}。"
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
            f"男方{groom}，{groom_birth}年{month(rng)}月出生，住{address_in(rng, place)}；"
            f"女方{bride}，{bride_birth}年{month(rng)}月出生，住{address_in(rng, place)}。"
            f"双方自愿结婚，经审查符合{law}的规定，准予登记，"
            f"发给结婚证（字第{number:05d}号）。附：结婚登记申请书、双方户籍证明、照片各一份。"
        )
    return title, (groom, bride), creator, Retention.PERMANENT, body


def household_registration(rng: random.Random, place: Place, year: int) -> Made:
    township = rng.choice(place.townships)
    station = f"{short_name(township)}派出所"
    creator = (
        f"{place.city}公安局{place.county}分局{station}"
        if place.city
        else f"{place.county}公安局{station}"
    )
    sex = draw_sex(rng)
    address = address_in(rng, place)
    subjects: tuple[str, ...]
    roll = rng.random()
    if roll < 0.2:
        child = person_name(rng, sex, year)
        father = person_name(rng, "男", year - rng.randint(23, 38), (child,))
        mother = person_name(rng, "女", year - rng.randint(21, 36), (child, father))
        title, retention = f"出生登记（{child}）", Retention.PERMANENT
        subjects = (child, father, mother)
        body = (
            f"{child}，{sex}，{year}年{month(rng)}月{rng.randint(1, 28)}日出生，"
            f"父亲{father}，母亲{mother}。凭出生医学证明随{rng.choice(('父', '母'))}申报户口，"
            f"落户{address}。"
        )
    elif roll < 0.35:
        birth = year - rng.randint(40, 90)
        person = person_name(rng, sex, birth)
        title, subjects, retention = f"户口注销登记（{person}）", (person,), Retention.YEARS_30
        reason = rng.choice(("死亡", "死亡", "出国（境）定居", "应征入伍"))
        body = (
            f"{person}，{sex}，{birth}年出生，原住{address}。因{reason}，"
            f"经户主申报并核验相关证明，于{year}年{month(rng)}月注销户口。"
        )
    else:
        birth = year - rng.randint(16, 60)
        person = person_name(rng, sex, birth)
        kind = rng.choice(("户口迁移登记", "户口迁入审批表"))
        title, subjects, retention = f"{kind}（{person}）", (person,), Retention.PERMANENT
        reason = rng.choice(_MOVE_REASONS)
        body = (
            f"{person}，{sex}，{birth}年{month(rng)}月出生，因{reason}，"
            f"由{rng.choice(_ORIGINS)}迁入{address}，凭准予迁入证明及迁移证，经审核准予落户。"
        )
    return title, subjects, creator, retention, body
