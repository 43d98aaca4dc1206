"""The holder's rules for a utilisation request (issue 10): which are approved at once.

An open record is approved by rule; so is the subject asking for her own controlled record,
which the holder tells by comparing the unsealed identity number with the record's subjects
(``SubjectMatcher``). A closed, deleted or unknown record is refused, with one reason for all
three, so the refusal does not tell that a closed record exists. Anything else waits for an
archivist, with the rule that did not apply written down for the queue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from node.citizens import IdNumber
from node.errors import NotFound
from node.federation.parts import NodeParts
from node.records import Access, Record
from node.requests import PersonalPart, Relationship, State, UtilisationRequest

SubjectMatcher = Callable[[IdNumber, Record], Awaitable[bool]]
"""Whether an identity number is one of a record's subjects (the holder's rule): the blind
index's ``matches(number, record)`` (``federation/blind_index.py``), async like it."""

RULE_OPEN = "开放档案：按规则批准"
RULE_SELF = "本人申请查阅本人为当事人的档案（身份证号码与档案当事人相符）：按规则批准"
RULE_AGENT = "未按规则批准：委托代理人申请控制使用档案，须档案员核验授权委托书"
RULE_NO_MATCH = "未按规则批准：身份证号码与档案当事人不符，须档案员审核"
RULE_UNREADABLE = "未按规则批准：申请的个人信息无法解密，须档案员联系受理单位"


def unavailable(holder_name: str, record_id: str) -> str:
    """The one reason for a closed, deleted or unknown record: it tells none from another."""
    return (
        f"{holder_name}没有可提供利用的档案 {record_id}（不存在、已删除或不开放）。"
        "请核对档号与馆藏单位后重新检索；如有疑问请咨询馆藏单位。"
    )


async def decide_by_rule(
    parts: NodeParts,
    request: UtilisationRequest,
    personal: PersonalPart | None,
    matches: SubjectMatcher,
) -> tuple[State, str, Record | None]:
    """(state, the rule that applied or why none did, the record if it may be named)."""
    p = parts
    try:
        record = await p.records.get(request.record_id)
    except NotFound:
        record = None
    if record is None or record.deleted or record.access == Access.CLOSED:
        return State.REJECTED, unavailable(p.name, request.record_id), None
    if record.access == Access.OPEN:
        return State.APPROVED, RULE_OPEN, record
    if personal is None:
        return State.SUBMITTED, RULE_UNREADABLE, record
    if request.relationship != Relationship.SELF:
        return State.SUBMITTED, RULE_AGENT, record
    if await matches(personal.id_number, record):
        return State.APPROVED, RULE_SELF, record
    return State.SUBMITTED, RULE_NO_MATCH, record
