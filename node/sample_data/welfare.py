"""Sample records of welfare: 退役军人 (veterans' placement) and 社保 (social insurance)."""

from __future__ import annotations

import random

from node.identity import Level
from node.records import Retention
from node.sample_data.people import draw_sex, month, person_name
from node.sample_data.places import Made, Place, address_in, village_body


def veteran_placement(rng: random.Random, place: Place, year: int) -> Made:
    sex = draw_sex(rng, 0.92)
    birth = year - rng.randint(20, 26)
    veteran = person_name(rng, sex, birth)
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
        creator = f"{place.village}退役军人服务站" if year >= 2019 else village_body(place)
    if year >= 2012:
        modes = ("自主就业", "安排工作", "逐月领取退役金")
    else:
        modes = ("安排工作", "复员回乡", "自谋职业")
    body = (
        f"{veteran}，{sex}，{birth}年{month(rng)}月出生，{year - rng.randint(2, 5)}年"
        f"{month(rng)}月入伍，服役于中国人民解放军某部，{year}年{month(rng)}月退出现役。"
        f"经审核，安置方式：{rng.choice(modes)}，户籍落于{address_in(rng, place)}。"
    )
    return f"{kind}（{veteran}）", (veteran,), creator, Retention.PERMANENT, body


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


def social_security(rng: random.Random, place: Place, year: int) -> Made:
    sex = draw_sex(rng)
    birth = year - rng.randint(18, 60)
    insured = person_name(rng, sex, birth)
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
        creator = village_body(place)
    body = (
        f"参保人{insured}，{sex}，{birth}年{month(rng)}月出生，户籍地{address_in(rng, place)}。"
        f"于{year}年{month(rng)}月办理{kind.removesuffix('表')}，"
        f"缴费档次：{rng.choice(('一档', '二档', '三档', '按缴费基数60%', '按缴费基数100%'))}，"
        f"经办机构：{creator}。"
    )
    return f"{kind}（{insured}）", (insured,), creator, retention, body
