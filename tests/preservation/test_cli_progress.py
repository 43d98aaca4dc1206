"""``archive-node ingest`` following a package job: a plain line per thousand records when
its output is not a terminal (a log stays readable), the outcome when the job is done."""

from __future__ import annotations

from typing import Any

import pytest

from node.cli import packages


class Jobs:
    """The job's status as the daemon would report it on successive polls."""

    def __init__(self, states: list[dict[str, Any]]) -> None:
        self.states = states

    def get_json(self, path: str) -> dict[str, Any]:
        assert path == "/api/v1/nodes/330106/packages/j1"
        return self.states.pop(0)


def test_a_line_per_thousand_records_when_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packages, "POLL_S", 0)
    polls = [{"state": "checking", "done": d, "total": 3500} for d in (10, 900, 1200, 1900, 3100)]
    polls.append({"state": "done", "done": 3500, "total": 3500, "outcome": {"stored": 3500}})
    job = packages.follow(Jobs(polls), "/api/v1/nodes/330106/packages/j1", "p.zip")  # type: ignore[arg-type]
    assert job["outcome"] == {"stored": 3500}
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"p.zip: 已检测 {d}/3500" for d in (1200, 3100)]


def test_the_summary_names_every_finding() -> None:
    outcome = {
        "stored": 1,
        "unchanged": 0,
        "report": {
            "rows": 2, "files": 0, "total_bytes": 0,
            "properties": {"真实性": False, "完整性": True, "可用性": True, "安全性": True},
            "findings": [
                {"property": "真实性", "subject": "第 3 行", "reason": "形成日期应为 yyyy-mm-dd"}
            ],
        },
    }  # fmt: skip
    text = packages.summary(outcome)
    assert "真实性未通过" in text and "导入 1 条" in text and "第 3 行：形成日期" in text
