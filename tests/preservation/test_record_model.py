"""The record model of issue 11: 档号 as DA/T 22 writes it (an organisation code, the
retention aliases), 文种 and 密级 (nothing classified), stored and read back; the
``[preservation]`` settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import settings_from_mapping
from node.config_sections import PreservationSettings
from node.errors import ConfigError, InvalidRecord
from node.jobs import build_scheduler
from node.records import Access, Record, Retention, nonstandard_reason, parse_archival_code
from node.web.ingest import record_from_json

ROOT = "ab" * 32


def test_an_archival_code_may_carry_an_organisation_code() -> None:
    code = parse_archival_code("J001-HY·2016-D30-BGS-0012")
    assert (code.org, code.item, code.retention) == ("BGS", 12, Retention.YEARS_30)
    assert code.series == "J001-HY·2016-D30-BGS" and str(code) == "J001-HY·2016-D30-BGS-0012"
    assert parse_archival_code("J001-HY·2015-Y-0001").org == ""


def test_the_retention_codes_and_their_aliases_are_accepted() -> None:
    assert parse_archival_code("J001-HY·2015-永久-0001").retention == Retention.PERMANENT
    assert Retention.from_code("D10") == Retention.from_code("10年") == Retention.YEARS_10
    with pytest.raises(InvalidRecord, match="Y、D30 或 D10"):
        Retention.from_code("D5")
    assert nonstandard_reason("J001-HY·2015-永久-0001").startswith("保管期限在档号中应写作 Y")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("J001-HY·2015-Y-0001", ""),
        ("J1-HY·2015-Y-0001", "全宗号应为 4 位"),
        ("J001-HY·2015-Y-1", "件号应为 4 位"),
        ("J001-HY·2015-Y-0000", "件号应为 4 位"),
        ("J001-HY.2015-Y-0001", "间隔号"),
    ],
)
def test_a_standard_archival_code_is_told_from_one_merely_accepted(code: str, reason: str) -> None:
    assert (reason in nonstandard_reason(code)) if reason else nonstandard_reason(code) == ""


def _record(**changes: object) -> Record:
    fields: dict[str, object] = dict(
        holder="330106", record_id="R1", archival_code="J001-HY·2015-Y-0001", fonds="J001",
        category="婚姻登记", year=2015, retention=Retention.PERMANENT, title="结婚登记",
        creator="民政局", date="2015-05-20", access=Access.OPEN,
    )  # fmt: skip
    fields.update(changes)
    return Record(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("secrecy", ["秘密", "机密", "绝密", "内部", "国家秘密"])
def test_anything_classified_is_refused(secrecy: str) -> None:
    with pytest.raises(InvalidRecord, match="涉密档案不得进入本网络"):
        _record(secrecy=secrecy)


def test_doc_type_and_open_secrecy_are_kept_and_travel_through_json() -> None:
    assert _record(doc_type="证明", secrecy="公开").doc_type == "证明"
    with pytest.raises(InvalidRecord, match="文种"):
        _record(doc_type="文" * 21)
    data = {
        "record_id": "R1", "archival_code": "J001-HY·2015-Y-0001", "fonds": "J001",
        "category": "婚姻登记", "year": 2015, "retention": "永久", "title": "t",
        "doc_type": "证明", "secrecy": "非密",
    }  # fmt: skip
    assert record_from_json(data, "330106").secrecy == "非密"
    with pytest.raises(InvalidRecord):
        record_from_json({**data, "secrecy": "机密"}, "330106")


def test_preservation_settings_are_read_and_checked() -> None:
    data = {
        "host": {"root_public_key": ROOT},
        "node": [{"code": "330106", "name": "西湖区档案馆"}],
        "preservation": {"fixity_interval": "30m", "fixity_batch": 50, "max_zip_ratio": 100},
    }
    settings = settings_from_mapping(data, {}, Path(".")).preservation
    assert (settings.fixity_interval_s, settings.fixity_batch, settings.max_zip_ratio) == (
        1800,
        50,
        100,
    )
    assert settings.max_file_bytes == PreservationSettings().max_file_bytes
    for bad in ({"fixity_batch": 0}, {"fixity_speed": 1}, {"max_zip_ratio": "high"}):
        with pytest.raises(ConfigError, match="preservation"):
            settings_from_mapping({**data, "preservation": bad}, {}, Path("."))


def test_the_fixity_job_is_scheduled_per_node_and_jittered() -> None:
    class Checker:
        code = "330106"

        async def run_scheduled(self) -> None:
            return None

    scheduler = build_scheduler([], 10.0, fixity=[Checker()], fixity_interval_s=600.0)  # type: ignore[list-item]
    (job,) = [j for j in scheduler.get_jobs() if j.id == "fixity:330106"]
    assert job.trigger.interval.total_seconds() == 600 and job.trigger.jitter == 300
