"""Sample records of land and buildings: 土地承包 (land contracts) and 房产 (housing)."""

from __future__ import annotations

import random

from node.identity import Level
from node.records import Retention
from node.sample_data.people import draw_sex, person_name
from node.sample_data.places import VILLAGES, Made, Place, address_in, village_body


def land_contract(rng: random.Random, place: Place, year: int) -> Made:
    head = person_name(rng, draw_sex(rng, 0.85), year - rng.randint(30, 65))
    township = rng.choice(place.townships)
    village = place.village if place.village else rng.choice(VILLAGES)
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


def housing(rng: random.Random, place: Place, year: int) -> Made:
    owner = person_name(rng, draw_sex(rng, 0.6), year - rng.randint(25, 60))
    address = address_in(rng, place)
    area = rng.uniform(38, 160)
    if place.level == Level.VILLAGE:
        creator = village_body(place)
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
