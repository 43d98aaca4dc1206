"""Sample records for the demo network: deterministic, valid, realistic in shape."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest

from node.citizens import IdNumber
from node.divisions import division_name
from node.errors import InvalidCode
from node.identity import Level, level_of, parent_of, validate_code
from node.records import (
    CATEGORIES,
    Access,
    Record,
    catalogue_entry,
    parse_archival_code,
    validate_record,
)
from node.sample_data import (
    DEMO_CITIZEN,
    DEMO_NETWORK,
    RECORDS_PER_LEVEL,
    demo_records,
    sample_records,
    sample_subject_ids,
)

COUNTIES = ("330106", "330110")
FINGERPRINT = "7735516d317bc7919453c1a17e63e2b4d33db65d1ae0b1c11ffe805257cb476f"


@pytest.fixture(scope="module")
def demo() -> dict[str, list[tuple[Record, bytes]]]:
    return demo_records()


def test_demo_network_shape() -> None:
    codes = [code for code, _ in DEMO_NETWORK]
    assert len(codes) == len(set(codes)) == 16
    townships = ["330106001", "330106002", "330110001", "330110002"]
    villages = [t + v for t in townships for v in ("001", "002")]
    assert set(codes) == {"33", "3301", *COUNTIES, *townships, *villages}
    for index, code in enumerate(codes):
        validate_code(code)
        parent = parent_of(code)
        if parent is not None:
            assert parent in codes[:index], "parents come before their children"


def test_real_codes_are_named_from_the_csv() -> None:
    names = dict(DEMO_NETWORK)
    assert names["33"] == "浙江省档案馆"
    assert names["3301"] == "杭州市档案馆"
    assert names["330106"] == "西湖区档案馆"
    assert names["330110"] == "余杭区档案馆"
    for code, name in DEMO_NETWORK:
        real = division_name(code)
        if level_of(code) <= Level.COUNTY:
            assert real is not None and name == real + "档案馆"
        else:
            assert real is None
            assert name.endswith("档案室")
            assert re.fullmatch(r".+(街道|镇|乡|村|社区)档案室", name)
    assert len({name for _, name in DEMO_NETWORK}) == len(DEMO_NETWORK)


def test_generation_is_deterministic(demo: dict[str, list[tuple[Record, bytes]]]) -> None:
    assert demo_records() == demo
    assert sample_records("330110", "余杭区档案馆") == demo["330110"]


def test_different_nodes_get_different_records(
    demo: dict[str, list[tuple[Record, bytes]]],
) -> None:
    titles = {code: [r.title for r, _ in records] for code, records in demo.items()}
    assert titles["330106"] != titles["330110"]


def test_counts_per_level(demo: dict[str, list[tuple[Record, bytes]]]) -> None:
    assert set(demo) == {code for code, _ in DEMO_NETWORK}
    for code, records in demo.items():
        assert len(records) == RECORDS_PER_LEVEL[level_of(code)]
    assert demo["33"] == [] and demo["3301"] == []
    assert all(len(demo[code]) == 300 for code in COUNTIES)


def test_every_county_has_every_category_and_open_marriages(
    demo: dict[str, list[tuple[Record, bytes]]],
) -> None:
    for county in COUNTIES:
        records = [r for r, _ in demo[county]]
        categories = Counter(r.category for r in records)
        assert set(categories) == set(CATEGORIES)
        assert min(categories.values()) >= 10
        open_marriages = [
            r for r in records if r.category == "婚姻登记" and r.access == Access.OPEN
        ]
        assert len(open_marriages) >= 3
        assert all(len(r.subjects) == 2 for r in open_marriages)


def test_records_are_valid_and_belong_to_their_holder(
    demo: dict[str, list[tuple[Record, bytes]]],
) -> None:
    for code, records in demo.items():
        for record, _ in records:
            validate_record(record)
            assert record.holder == code
            assert record.version == 1 and not record.deleted
            code_ = parse_archival_code(record.archival_code)
            assert code_.fonds == record.fonds
            assert code_.category_code == CATEGORIES[record.category]
            assert code_.year == record.year
            assert code_.retention == record.retention
            assert record.date.startswith(f"{record.year}-")
            assert 1965 <= record.year <= 2024
            assert record.subjects and record.subjects[0] in record.title
            assert record.title.strip() and record.creator.strip()


def test_category_specific_years(demo: dict[str, list[tuple[Record, bytes]]]) -> None:
    records = [r for rs in demo.values() for r, _ in rs]
    assert all(1968 <= r.year <= 1979 for r in records if r.category == "知青")
    assert all(r.year >= 1983 for r in records if r.category == "土地承包")
    marriages = [r for r in records if r.category == "婚姻登记"]
    assert all(r.retention.value == "永久" for r in marriages)


def test_record_ids_are_unique_and_stable(demo: dict[str, list[tuple[Record, bytes]]]) -> None:
    for records in demo.values():
        ids = [r.record_id for r, _ in records]
        assert len(ids) == len(set(ids))
        codes = [r.archival_code for r, _ in records]
        assert len(codes) == len(set(codes))
        for record, _ in records:
            assert re.fullmatch(r"[A-Z]{2}-\d{4}-(Y|D30|D10)-\d{4}", record.record_id)
            code = parse_archival_code(record.archival_code)
            assert record.record_id == (
                f"{code.category_code}-{code.year}-{code.retention.code}-{code.item:04d}"
            )


def test_content_matches_its_file_entry(demo: dict[str, list[tuple[Record, bytes]]]) -> None:
    for code, records in demo.items():
        name = dict(DEMO_NETWORK)[code]
        for record, content in records:
            assert len(record.files) == 1
            file = record.files[0]
            assert file.name == f"{record.record_id}.txt"
            assert file.sha256 == hashlib.sha256(content).hexdigest()
            assert file.size == len(content)
            assert file.media_type == "text/plain; charset=utf-8"
            text = content.decode("utf-8")
            assert 300 <= len(content) <= 8192
            assert text.startswith("档案摘录")
            assert "演示数据" in text
            for needle in (record.archival_code, record.title, record.creator, record.date, name):
                assert needle in text


def test_access_mix_is_roughly_60_35_5(demo: dict[str, list[tuple[Record, bytes]]]) -> None:
    records = [r for rs in demo.values() for r, _ in rs]
    mix = Counter(r.access for r in records)
    total = len(records)
    assert abs(mix[Access.OPEN] / total - 0.60) < 0.07
    assert abs(mix[Access.CONTROLLED] / total - 0.35) < 0.07
    assert 0.01 < mix[Access.CLOSED] / total < 0.10
    for county in COUNTIES:
        assert any(r.access == Access.CLOSED for r, _ in demo[county])


def test_catalogue_entries_can_be_made(demo: dict[str, list[tuple[Record, bytes]]]) -> None:
    for code, records in demo.items():
        for record, _ in records:
            entry = catalogue_entry(record, dict(DEMO_NETWORK)[code])
            assert (entry is None) == (record.access == Access.CLOSED)


def test_titles_name_places_of_the_holder(demo: dict[str, list[tuple[Record, bytes]]]) -> None:
    xihu = [r for r, _ in demo["330106"]]
    assert any(r.creator == "西湖区民政局" for r in xihu)
    assert all("余杭" not in r.creator for r in xihu)
    land = [r.title for r in xihu if r.category == "土地承包"]
    assert land and all(title.endswith("户）") for title in land)
    cangqian = [r for r, _ in demo["330110002"]]
    assert any("仓前" in r.creator for r in cangqian)


def test_any_code_can_get_samples() -> None:
    records = sample_records("330212", "鄞州区档案馆")
    assert len(records) == 300
    assert {r.category for r, _ in records} == set(CATEGORIES)
    assert sample_records("330212003", "某镇档案室")
    assert sample_records("330212003004", "某村档案室")
    with pytest.raises(InvalidCode):
        sample_records("3300", "bad")


def _fingerprint(demo: dict[str, list[tuple[Record, bytes]]]) -> str:
    """One hash over every demo record's fields and content bytes, in order."""
    digest = hashlib.sha256()
    for code, records in demo.items():
        for record, content in records:
            fields = (
                code, record.record_id, record.archival_code, record.fonds, record.category,
                str(record.year), record.retention.value, record.title, record.creator,
                record.date, record.access.value, "|".join(record.subjects),
                record.files[0].sha256,
            )  # fmt: skip
            digest.update("\x1f".join(fields).encode() + b"\x1e" + content)
    return digest.hexdigest()


def test_the_demo_records_are_the_same_byte_for_byte(
    demo: dict[str, list[tuple[Record, bytes]]],
) -> None:
    # Pinned when sample_data.py became a package: any change to a generator, the plan or the
    # demo network's names changes this (and the demo's catalogue); change it only on purpose.
    assert _fingerprint(demo) == FINGERPRINT


def test_subjects_of_controlled_records_get_valid_distinct_numbers(
    demo: dict[str, list[tuple[Record, bytes]]],
) -> None:
    seen: dict[str, str] = {}
    for code, samples in demo.items():
        records = [r for r, _ in samples]
        numbers = sample_subject_ids(records)
        controlled = {r.record_id for r in records if r.access == Access.CONTROLLED and r.subjects}
        assert set(numbers) == controlled
        by_id = {r.record_id: r for r in records}
        for record_id, ids in numbers.items():
            record = by_id[record_id]
            assert len(ids) == len(record.subjects)
            for number in ids:
                IdNumber.parse(number.digits)  # GB 11643 check digit, a real birth date
                assert number.digits[:6] == code[:6]
                assert number.birth_date.year < record.year
                assert seen.setdefault(number.digits, record.ref) == record.ref
        assert sample_subject_ids(records) == numbers  # deterministic


def test_the_demo_citizen_has_a_controlled_marriage_record_under_330110() -> None:
    citizen = DEMO_CITIZEN
    assert citizen.holder.startswith("330110") and citizen.holder_name == "余杭区档案馆"
    records = {r.record_id: r for r, _ in sample_records(citizen.holder, citizen.holder_name)}
    record = records[citizen.record_id]
    assert (record.category, record.access, record.year) == (
        "婚姻登记",
        Access.CONTROLLED,
        citizen.year,
    )
    assert citizen.name in record.subjects
    assert citizen.id_number in sample_subject_ids(list(records.values()))[record.record_id]
    assert citizen.id_number.digits not in repr(citizen)
