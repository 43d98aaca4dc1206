"""What the utilisation request pages show: the form, the clerk's list, one request, and the
archivist's queue, worded in zh-CN with deadlines in China time and overdue flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from node.federation.services.requests import RequestView
from node.requests import CHINA, Relationship, Role, State


def requests_url(code: str) -> str:
    return f"/n/{code}/requests"


def queue_url(code: str) -> str:
    return f"/n/{code}/requests/queue"


def new_request_url(code: str, holder: str, record_id: str) -> str:
    """The request form for ``holder``'s record, as refusals and controlled hits link to it."""
    return f"/n/{code}/requests/new?" + urlencode({"holder": holder, "record": record_id})


def request_url(code: str, request_id: str) -> str:
    return f"/n/{code}/requests/{quote(request_id, safe='')}"


def china_time(at_ms: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if at_ms is None:
        return ""
    return dt.datetime.fromtimestamp(at_ms / 1000, CHINA).strftime(fmt)


def due_text(at_ms: int | None) -> str:
    return china_time(at_ms, "%Y-%m-%d") + " 前" if at_ms is not None else ""


@dataclass(frozen=True)
class RequestRow:
    """One request as a list or its own page shows it."""

    request_id: str
    href: str
    holder: str
    record_id: str
    archival_code: str
    title: str
    citizen: str
    id_masked: str
    relationship: str
    purpose: str
    clerk: str
    requesting_node: str
    state: str
    state_key: str
    reason: str
    rule: str
    filed_at: str
    changed_at: str
    holder_due: str
    receiver_due: str
    overdue: bool
    overdue_text: str
    content_href: str
    content_name: str
    copy_href: str
    copy_code: str
    attorney: str
    attorney_href: str
    decidable: bool
    withdrawable: bool
    approve_action: str
    reject_action: str
    withdraw_action: str
    signed_by: str


def request_row(code: str, view: RequestView) -> RequestRow:
    f = view.filed
    r = f.request
    href = request_url(code, r.request_id)
    if view.overdue and f.state == State.SUBMITTED:
        late = (
            "已超过馆藏单位答复期限"
            if f.role == Role.OUTGOING
            else "已超过本馆答复期限，请尽快审核"
        )
    elif view.overdue:
        late = "已超过受理单位告知期限，请尽快通知申请人"
    else:
        late = ""
    return RequestRow(
        request_id=r.request_id,
        href=href,
        holder=r.holder,
        record_id=r.record_id,
        archival_code=f.archival_code or r.record_id,
        title=f.record_title,
        citizen=f.citizen_name,
        id_masked=f.id_masked,
        relationship=r.relationship.value,
        purpose=r.purpose,
        clerk=r.clerk,
        requesting_node=r.requesting_node,
        state=f.state.zh,
        state_key=f.state.value,
        reason=f.reason,
        rule=f.rule,
        filed_at=china_time(r.created_ms),
        changed_at=china_time(f.state_at_ms),
        holder_due=due_text(f.holder_due_ms),
        receiver_due=due_text(f.receiver_due_ms),
        overdue=view.overdue,
        overdue_text=late,
        content_href=href + "/content" if f.content is not None else "",
        content_name=f.content.name if f.content is not None else "",
        copy_href=href + "/copy.pdf" if f.copy_code else "",
        copy_code=f.copy_code,
        attorney=(
            f"已附（{f.attorney_type}，sha256 {f.attorney_sha256[:12]}…）"
            if f.attorney_sha256
            else ""
        ),
        attorney_href=href + "/attorney" if f.attorney_sha256 and f.role == Role.INCOMING else "",
        decidable=f.role == Role.INCOMING and f.state == State.SUBMITTED,
        withdrawable=f.role == Role.OUTGOING and f.state == State.SUBMITTED,
        approve_action=href + "/approve",
        reject_action=href + "/reject",
        withdraw_action=href + "/withdraw",
        signed_by=(
            f"{f.change.signer}（密钥 {f.change.key_id}）签名" if f.change is not None else ""
        ),
    )


STATE_FILTERS = (
    ("", "全部"),
    *((s.value, s.zh) for s in State),
)
RELATIONSHIPS = tuple(r.value for r in Relationship)


def request_json(view: RequestView) -> dict[str, object]:
    """A request as the JSON API answers (no identity number, only its masked form)."""
    f = view.filed
    r = f.request
    body: dict[str, object] = {
        "request_id": r.request_id, "holder": r.holder, "record_id": r.record_id,
        "ref": r.ref, "requesting_node": r.requesting_node, "clerk": r.clerk,
        "purpose": r.purpose, "relationship": r.relationship.value,
        "created_ms": r.created_ms, "role": f.role.value, "state": f.state.value,
        "state_zh": f.state.zh, "reason": f.reason, "state_at_ms": f.state_at_ms,
        "holder_due_ms": f.holder_due_ms, "receiver_due_ms": f.receiver_due_ms,
        "overdue": view.overdue, "citizen_name": f.citizen_name, "id_masked": f.id_masked,
        "rule": f.rule, "archival_code": f.archival_code, "title": f.record_title,
        "attorney_sha256": f.attorney_sha256, "copy_code": f.copy_code,
    }  # fmt: skip
    if f.content is not None:
        body["content"] = {
            "name": f.content.name, "media_type": f.content.media_type,
            "size": f.content.size, "sha256": f.content.sha256,
        }  # fmt: skip
    if f.change is not None:
        body["signed_by"] = {"node": f.change.signer, "key_id": f.change.key_id}
    return body
