"""Hypothesis over metadata rows: whatever a CSV cell or a JSON value holds, reading it never
raises, and a row that makes a record makes one that stores (the domain's checks passed)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.metadata import read_csv, read_jsonl
from node.records import Record

from .kit import HEADER, HOLDER, csv_bytes, row

cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "永久", "Y", "D30", "开放", "20150520", "秘密", "2015-02-30"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(HEADER), cells, max_size=len(HEADER)))
def test_any_csv_row_is_a_record_or_named_problems(changes: dict[str, str]) -> None:
    rows, _, problem = read_csv(csv_bytes([row(1, **changes)]), HOLDER)
    assert not problem and len(rows) == 1
    (parsed,) = rows
    assert parsed.number == 2
    assert (parsed.record is None) == bool(parsed.problems) or parsed.problems
    if parsed.record is not None:
        assert isinstance(parsed.record, Record) and parsed.record.holder == HOLDER
    else:
        assert all(reason for _, _, reason in parsed.problems)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "archival_code",
                "title",
                "creator",
                "year",
                "date",
                "files",
                "access",
                "题名",
                "subjects",
                "version",
                "x",
            ]
        ),
        json_values,
    )
)
def test_any_json_row_is_a_record_or_named_problems(changes: dict[str, object]) -> None:
    base: dict[str, object] = {"archival_code": "J001-HY·2015-Y-0001", "title": "t", "creator": "c"}
    line = json.dumps({**base, **changes}, allow_nan=True).encode()
    (parsed,), _, _ = read_jsonl(line, HOLDER)
    assert parsed.record is not None or parsed.problems


@given(st.binary(max_size=200))
def test_any_bytes_as_csv_or_jsonl_never_raise(data: bytes) -> None:
    read_csv(b"\xe6\xa1\xa3\xe5\x8f\xb7\n" + data, HOLDER)  # 档号 header, then anything
    read_jsonl(data, HOLDER)
