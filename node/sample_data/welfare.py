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
