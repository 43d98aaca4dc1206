"""Fictitious people for the sample records: names by sex and birth era, birth months.

Every draw comes from the caller's seeded ``random.Random``, so the same node always gets the
same people.
"""

from __future__ import annotations

import random

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


def person_name(rng: random.Random, sex: str, birth_year: int, avoid: tuple[str, ...] = ()) -> str:
    """A plausible name for someone of ``sex`` born in ``birth_year``, not one of ``avoid``."""
    while True:
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN[(sex, _era(birth_year))])
        if name not in avoid:
            return name


def draw_sex(rng: random.Random, male_share: float = 0.5) -> str:
    return "男" if rng.random() < male_share else "女"


def month(rng: random.Random) -> int:
    return rng.randint(1, 12)
