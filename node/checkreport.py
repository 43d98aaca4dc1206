"""The report of a four-property check (四性检测, DA/T 70): frozen, as JSON and as a page.

``node/fourcheck.py`` makes it; the web layer shows ``to_html`` as the printable page and the
API and CLI return ``to_json``. Which findings are fatal (nothing stored, whatever the
archivist chose) is decided here once: a finding about the package as a whole, or any 安全性.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from node.transfer import Finding

PROPERTIES = ("真实性", "完整性", "可用性", "安全性")


@dataclass(frozen=True)
class CheckReport:
    """The outcome of checking one batch: what was checked and every finding."""

    package: str
    holder: str
    checked_at_ms: int
    kind: str  # package, bag
    rows: int
    files: int
    total_bytes: int
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    formats: tuple[tuple[str, int], ...] = ()  # identified media type -> files

    @property
    def fatal(self) -> bool:
        """True if nothing of the batch may be stored, whatever the archivist chose."""
        return any(f.row == 0 or f.property == "安全性" for f in self.findings)

    @property
    def bad_rows(self) -> frozenset[int]:
        return frozenset(f.row for f in self.findings if f.row)

    @property
    def ok(self) -> bool:
        return not self.findings

    def passed(self, prop: str) -> bool:
        return not any(f.property == prop for f in self.findings)

    def to_json(self) -> dict[str, object]:
        return {
            "package": self.package,
            "holder": self.holder,
            "checked_at_ms": self.checked_at_ms,
            "kind": self.kind,
            "rows": self.rows,
            "files": self.files,
            "total_bytes": self.total_bytes,
            "ok": self.ok,
            "fatal": self.fatal,
            "properties": {p: self.passed(p) for p in PROPERTIES},
            "findings": [
                {
                    "property": f.property,
                    "check": f.check,
                    "subject": f.subject,
                    "reason": f.reason,
                    "row": f.row,
                }
                for f in self.findings
            ],  # fmt: skip
            "notes": list(self.notes),
            "formats": dict(self.formats),
        }

    def to_html(self) -> str:
        """A self-contained, printable zh-CN page (every value escaped)."""
        e = html.escape
        rows = "".join(
            f"<tr><td>{e(f.property)}</td><td>{e(f.subject)}</td><td>{e(f.reason)}</td></tr>"
            for f in self.findings
        )
        props = "".join(
            f"<li>{e(p)}：{'通过' if self.passed(p) else '未通过'}</li>" for p in PROPERTIES
        )
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        formats = "、".join(f"{e(k)} {v} 个" for k, v in self.formats) or "无"
        return (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            "<title>四性检测报告</title><style>body{font-family:sans-serif;margin:2em}"
            "table{border-collapse:collapse}td,th{border:1px solid #888;padding:4px 8px}"
            "@media print{a{display:none}}</style></head><body>"
            f"<h1>电子档案四性检测报告（DA/T 70）</h1><p>移交包：{e(self.package)}；"
            f"馆藏单位：{e(self.holder)}；条目 {self.rows} 条，文件 {self.files} 个，"
            f"共 {self.total_bytes} 字节；结论：{'通过' if self.ok else '未通过'}</p>"
            f"<ul>{props}</ul><p>文件格式：{formats}</p>"
            + (f"<h2>说明</h2><ul>{notes}</ul>" if notes else "")
            + "<h2>问题</h2>"
            + (
                f"<table><tr><th>属性</th><th>对象</th><th>原因</th></tr>{rows}</table>"
                if rows
                else "<p>未发现问题。</p>"
            )
            + "</body></html>"
        )


def refused(source: str, holder: str, at_ms: int, findings: tuple[Finding, ...]) -> CheckReport:
    """The report of a package ``transfer.open_package`` refused outright."""
    return CheckReport(source, holder, at_ms, "package", 0, 0, 0, findings)
