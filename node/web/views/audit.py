"""View values of the archivist's audit-log page (``audit_log.html``): one row per entry,
the filter form's options, the pager, and the checkpoint summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from node.audit import Act, act_zh
from node.web.views import local_time
from node.web.views.catalogue import Option, Pager

if TYPE_CHECKING:
    from node.audit import AuditEntry, AuditPage
    from node.federation.services import CheckpointStatus

_DETAIL_ZH = {
    "q": "检索词",
    "total": "命中",
    "answered_by": "应答节点",
    "file": "文件",
    "refused": "被拒绝",
    "reason": "原因",
    "version": "版本",
    "access": "开放级别",
    "note": "说明",
    "new": "新代码",
    "size": "条数",
    "deep": "逐字段校验",
}


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: str
    actor: str
    act: str
    subject: str
    subject_href: str  # the page filtered to this record, "" if the subject is not one
    detail: str


def audit_log_url(code: str, **params: str) -> str:
    kept = [(k, v) for k, v in params.items() if v]
    return f"/n/{code}/audit-log" + (f"?{urlencode(kept)}" if kept else "")


def _detail(entry: AuditEntry) -> str:
    parts = []
    for key, value in entry.details.items():
        if key in ("sha256", "head", "witnessed_head"):
            continue  # hashes are for machines; the API has them
        label = _DETAIL_ZH.get(key, key)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{label}: {text}")
    return "；".join(parts)


def audit_row(code: str, entry: AuditEntry) -> AuditRow:
    is_record = "/" in entry.subject
    return AuditRow(
        seq=entry.seq,
        at=local_time(entry.at_ms / 1000),
        actor=entry.actor,
        act=act_zh(entry.act),
        subject=entry.subject or "-",
        subject_href=audit_log_url(code, record=entry.subject) if is_record else "",
        detail=_detail(entry),
    )


def act_options(selected: str) -> tuple[Option, ...]:
    return tuple(Option(act.value, act.zh, act.value == selected) for act in Act)


def audit_pager(code: str, page_no: int, page: AuditPage, params: dict[str, str]) -> Pager | None:
    """上一页 (newer entries) / 下一页 (older), by seq; None when everything fits one page."""
    if not page.prev_after and not page.next_before:
        return None
    newer = (
        audit_log_url(code, **params, after=str(page.prev_after), page=str(max(1, page_no - 1)))
        if page.prev_after
        else ""
    )
    older = (
        audit_log_url(code, **params, before=str(page.next_before), page=str(page_no + 1))
        if page.next_before
        else ""
    )
    return Pager(prev_href=newer, page=page_no, pages=None, next_href=older)


def checkpoint_summary(status: CheckpointStatus) -> str:
    """One sentence on where this node's checkpoints stand."""
    if not status.own:
        return f"日志共 {status.size} 条，尚未签署检查点。"
    latest = status.own[0]
    state = {"accepted": "已被上级见证", "refused": "被上级拒绝（日志可能被改写，请立即核对）"}
    word = state.get(latest.status, "未经上级见证")
    return (
        f"日志共 {status.size} 条；最近检查点在第 {latest.size} 条"
        f"（{local_time(latest.at_ms / 1000)}），{word}。"
    )
