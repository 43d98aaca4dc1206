"""View values of the archivist's pages: enrolment and refusals (``registry.html``) and
catalogue sync (``status.html``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.config import is_local_address
from node.crypto import key_id_of
from node.errors import InvalidCode
from node.identity import level_of, parent_of
from node.web.views import local_time, registry_action_url
from node.wording import duration, link_state, when

if TYPE_CHECKING:
    from node.certificates import Application
    from node.federation.refusals import Refusal
    from node.federation.services import ChildSyncStatus, LinkStatus

_APPLICATION_STATUS = {"pending": "待审批", "approved": "已批准", "rejected": "已拒绝"}


@dataclass(frozen=True)
class ApplicationRow:
    """One enrolment application; the form actions are ``""`` once it is decided."""

    code: str
    name: str
    level: str
    key_id: str
    address: str
    status: str
    approve_action: str
    reject_action: str


def _address(address: str) -> str:
    """The address the certificate will name, flagged when no other machine can dial it."""
    if not address or is_local_address(address):
        shown = address or "（未填写）"
        return f"{shown}（本机或未指定的地址：批准后本节点无法连接它，请对方改正后重新申请）"
    return address


def application_row(code: str, application: Application) -> ApplicationRow:
    approve = reject = ""
    if application.status == "pending":
        approve = registry_action_url(code, application.code, "approve")
        reject = registry_action_url(code, application.code, "reject")
    try:
        level = level_of(application.code).zh
    except InvalidCode:
        level = "?"
    direct = parent_of(application.code) == code
    status = _APPLICATION_STATUS.get(application.status, application.status)
    return ApplicationRow(
        code=application.code + ("" if direct else "（非直接下级）"),
        name=application.name,
        level=level,
        key_id=key_id_of(application.public_key),
        address=_address(application.address),
        status=status + (f"：{application.note}" if application.note else ""),
        approve_action=approve,
        reject_action=reject,
    )


@dataclass(frozen=True)
class RefusalRow:
    at: str
    origin: str
    method: str
    kind: str
    reason: str


def refusal_row(refusal: Refusal) -> RefusalRow:
    return RefusalRow(
        at=local_time(refusal.at),
        origin=refusal.origin or "（无法识别）",
        method=refusal.method.rsplit("/", 1)[-1],
        kind=refusal.kind,
        reason=refusal.reason,
    )


@dataclass(frozen=True)
class LinkRow:
    """One sync link toward the parent, worded relative to when the status was read."""

    peer: str
    state: str
    cursor: int
    head: int
    lag: int
    lag_s: str
    success: str
    error: str
    retry: str


def link_row(link: LinkStatus, now: float) -> LinkRow:
    return LinkRow(
        peer=link.peer,
        state=link_state(link.state),
        cursor=link.cursor,
        head=link.head,
        lag=link.lag,
        lag_s=duration(link.lag_s) if link.lag else "-",
        success=when(link.last_success_at, now),
        error=_link_error(link, now),
        retry=when(link.next_retry_at, now),
    )


def _link_error(link: LinkStatus, now: float) -> str:
    if not link.last_error:
        return "-"
    failing = f"，连续失败 {link.failures} 次" if link.failures else "，之后已恢复"
    return f"{link.last_error}（{when(link.last_error_at, now)}{failing}）"


@dataclass(frozen=True)
class ChildRow:
    child: str
    cursor: int
    at: str


def child_row(child: ChildSyncStatus, now: float) -> ChildRow:
    return ChildRow(child.child, child.cursor, when(child.last_batch_at, now))
