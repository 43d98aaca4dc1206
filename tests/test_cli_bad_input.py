"""``archive-node`` reading files a user got wrong: one ``错误:`` line naming the line, never a
traceback (issue 9, item 6). Runs against a real aiohttp server over the fake nodes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_cli import BackgroundServer, _fakes, invoke, one_error_line

from node.web import create_app

RECORD = {
    "record_id": "HY-2015-Y-0001",
    "archival_code": "J001-HY·2015-Y-0001",
    "fonds": "J001",
    "category": "婚姻登记",
    "year": 2015,
    "retention": "永久",
    "title": "王秀英、李建国结婚登记档案",
}


@pytest.fixture
def nodes() -> dict[str, Any]:
    return dict(_fakes().network())


@pytest.fixture
def api(nodes: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with BackgroundServer(create_app(_fakes().hosted(nodes))) as url:
        monkeypatch.setenv("ARCHIVE_NODE_API", url)
        yield url


def _code(nodes: dict[str, Any]) -> str:
    return sorted(nodes)[-1]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ((json.dumps(RECORD, ensure_ascii=False) + "\n").encode("gbk"), "第 1 行不是 UTF-8"),
        (b'{"a": 1}\n\xff\xfe\n', "第 2 行不是 UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", "第 1 行不是有效的 JSON"),
        (b"{not json\n", "第 1 行不是有效的 JSON"),
    ],
    ids=["gbk", "second-line", "deep", "not-json"],
)
def test_a_file_that_cannot_be_read_is_one_line_naming_it(
    api: str, nodes: dict[str, Any], tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(content)
    line = one_error_line(invoke("ingest", "--as", _code(nodes), str(path)))
    assert expected in line
    assert not any(node.ingested for node in nodes.values())


def test_a_byte_order_mark_is_accepted(
    api: str, nodes: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _code(nodes)
    monkeypatch.setenv("ARCHIVE_NODE_TOKEN", f"fake-token-archivist-{code}-0123456789")
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(RECORD, ensure_ascii=False).encode() + b"\n")
    result = invoke("ingest", "--as", _code(nodes), str(path))
    assert result.exit_code == 0, result.stderr
    assert sum(len(node.ingested) for node in nodes.values()) == 1


@pytest.mark.parametrize(
    "changes",
    [{"year": 1e999}, {"version": 2**63}, {"year": "2015"}, {"title": ["嵌套"]}],
    ids=["infinite-year", "huge-version", "year-as-text", "nested-title"],
)
def test_a_record_of_the_wrong_type_is_refused_by_the_node(
    api: str, nodes: dict[str, Any], tmp_path: Path, changes: dict[str, Any]
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({**RECORD, **changes}, ensure_ascii=False) + "\n")
    line = one_error_line(invoke("ingest", "--as", _code(nodes), str(path)))
    assert "第 1–1 行未导入" in line
    assert not any(node.ingested for node in nodes.values())


@pytest.mark.parametrize(
    "content",
    [b"[1, 2]", b'"text"', b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000],
    ids=["list", "string", "not-utf8", "deep"],
)
def test_registry_issue_with_a_request_that_is_not_an_object_is_one_line(
    tmp_path: Path, content: bytes
) -> None:
    key = tmp_path / "root.key"
    invoke("registry", "init-root", "--key", str(key))
    request = tmp_path / "enrol-request.json"
    request.write_bytes(content)
    out = tmp_path / "chain.json"
    line = one_error_line(
        invoke("registry", "issue", "--key", str(key), "--request", str(request), "-o", str(out))
    )
    assert "入网申请" in line and not out.exists()
