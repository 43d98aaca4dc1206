"""Utilisation requests between a receiving node and the holder: filing, deciding, updates.

The receiving node files a request (``file``): the clear part and the personal part sealed
to the holder's current key (from the trust directory) are stored with an outbox item in one
transaction, so nothing readable of the citizen is kept here and the call survives restarts
(``request_outbox.py``). At the holder ``receive`` unseals it and decides by rule
(``decide_by_rule``): an open record, or the subject asking for her own controlled record
(``matches``), is approved at once; closed, deleted and unknown records are refused with one
and the same reason, so a refusal does not tell that a closed record exists; anything else
waits for an archivist (``decide``). Every decision is a ``StateChange`` signed with the
holder's key and sent back through the holder's outbox (``RequestUpdate``); the requesting
node signs its own moves (withdrawn, delivered) and sends them the other way. Both ends audit
every step. Once approved, the requesting node fetches the content sealed to its key
(``delivery.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from node.actors import Actor, node_actor
from node.citizens import IdNumber
from node.errors import AuthError, Forbidden, InvalidInput, Misaddressed, NotFound
from node.federation import delivery
from node.federation.client import FederationClient
from node.federation.messages import (
    FETCH,
    REQUEST_UPDATE,
    SUBMIT_REQUEST,
    Envelope,
    RequestUpdate,
    RequestUpdateAck,
    SubmitAck,
    SubmitRequest,
)
from node.federation.request_outbox import RequestOutbox
from node.federation.trust.events import TrustState
from node.records import Access, Record
from node.requests import (
    Deadlines,
    Delivered,
    FiledRequest,
    PersonalPart,
    Relationship,
    Role,
    State,
    StateChange,
    UtilisationRequest,
    allowed,
)
from node.storage.requests import OutboxItem, Outgoing

log = logging.getLogger(__name__)

SubjectMatcher = Callable[[IdNumber, Record], bool]
"""Whether an identity number is one of a record's subjects (the holder's rule)."""

ACT_FILE = "request.file"
ACT_RECEIVE = "request.receive"
ACT_DECIDE = "request.decide"
ACT_UPDATE = "request.update"
ACT_WITHDRAW = "request.withdraw"
ACT_DELIVER = "request.deliver"

RULE_OPEN = "开放档案：按规则批准"
RULE_SELF = "本人申请查阅本人为当事人的档案（身份证号码与档案当事人相符）：按规则批准"
RULE_AGENT = "未按规则批准：委托代理人申请控制使用档案，须档案员核验授权委托书"
RULE_NO_MATCH = "未按规则批准：身份证号码与档案当事人不符，须档案员审核"
RULE_UNREADABLE = "未按规则批准：申请的个人信息无法解密，须档案员联系受理单位"


def stand_in_matches(number: IdNumber, record: Record) -> bool:
    """STAND-IN until the blind index is merged: the record's ``subject_index`` holds
    ``stand_in_index(number)`` for its subjects. The lead wires the real
    ``blindindex.matches(number, record)`` in ``Node`` instead of this."""
    return stand_in_index(number) in record.subject_index


def stand_in_index(number: IdNumber) -> str:
    """STAND-IN blind index (unkeyed, for tests and the demo only): see ``stand_in_matches``."""
    from node import crypto

    return "stand-in:" + crypto.sha256_hex(b"stand-in-index\0" + number.digits.encode())[:32]


def unavailable(holder_name: str, record_id: str) -> str:
    """The one reason for a closed, deleted or unknown record: it tells none from another."""
    return (
        f"{holder_name}没有可提供利用的档案 {record_id}（不存在、已删除或不开放）。"
        "请核对档号与馆藏单位后重新检索；如有疑问请咨询馆藏单位。"
    )


class RequestDesk:
    """Both ends of this node's utilisation requests."""

    def __init__(
        self,
        client: FederationClient,
        outbox: RequestOutbox,
        directory: TrustState,
        deadlines: Deadlines,
        *,
        matches: SubjectMatcher = stand_in_matches,
        approval_lifetime_s: float = 30 * 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.parts = client.parts
        self.outbox = outbox
        self.directory = directory
        self.deadlines = deadlines
        self.matches = matches
        self.approval_lifetime_s = approval_lifetime_s
        self.clock = clock
        outbox.send = self._send

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- signing -----------------------------------------------------------------------------

    def sign(self, request: UtilisationRequest, state: State, reason: str) -> StateChange:
        key = self.parts.signer.key
        change = StateChange(
            request.request_id, request.holder, state, reason, self.now_ms(), self.parts.code,
            key.key_id,
        )  # fmt: skip
        return change.signed(key)

    def _update_item(self, request: UtilisationRequest, update: RequestUpdate) -> Outgoing:
        to = request.requesting_node if update.change.signer == request.holder else request.holder
        return Outgoing(request.request_id, to, REQUEST_UPDATE, self.parts.codec.encode(update))

    def holder_key(self, holder: str) -> bytes:
        """The public key of ``holder``'s newest valid certificate, to seal to."""
        current = self.directory.current(holder)
        if not current:
            raise NotFound(
                f"信任目录中没有馆藏单位 {holder} 的有效证书，无法加密申请。"
                "请核对馆藏单位代码；如该单位刚入网，请稍后重试。"
            )
        return max(current, key=lambda c: c.not_before_ms).public_key

    # -- the receiving node ------------------------------------------------------------------

    async def file(
        self,
        holder: str,
        record_id: str,
        personal: PersonalPart,
        relationship: Relationship,
        purpose: str,
        *,
        actor: Actor,
        request_id: str,
    ) -> FiledRequest:
        p = self.parts
        holder = self.directory.resolve(holder)
        if holder == p.code:
            raise InvalidInput("本馆所藏档案无需跨馆申请：请由本馆档案员直接办理利用手续。")
        now = self.now_ms()
        request = UtilisationRequest(
            request_id, holder, record_id, p.code, actor.name or actor.label, purpose,
            relationship, now,
        )  # fmt: skip
        sealed = personal.seal(self.holder_key(holder))
        filed = FiledRequest(
            request=request,
            role=Role.OUTGOING,
            state=State.SUBMITTED,
            reason="已提交，等待馆藏单位审核",
            state_at_ms=now,
            holder_due_ms=self.deadlines.holder_due(now),
            citizen_name=personal.citizen_name,
            id_masked=personal.id_number.masked,
            attorney_sha256=personal.attorney.sha256 if personal.attorney else "",
            attorney_type=personal.attorney.media_type if personal.attorney else "",
        )
        item = Outgoing(
            request_id, holder, SUBMIT_REQUEST, p.codec.encode(SubmitRequest(request, sealed))
        )
        detail = {"holder": holder, "record": record_id, "relationship": relationship.value}
        hook = p.audit.hook([(actor, ACT_FILE, request_id, detail)])
        await p.requests.insert(filed, sealed=sealed, outgoing=[item], now_ms=now, also=hook)
        self.outbox.wake()
        return filed

    async def withdraw(self, request_id: str, *, actor: Actor) -> FiledRequest:
        filed = await self._get(request_id, Role.OUTGOING)
        if filed.state != State.SUBMITTED:
            raise InvalidInput(
                f"利用申请 {request_id} 目前为“{filed.state.zh}”，只能撤回待审核的申请"
            )
        change = self.sign(filed.request, State.WITHDRAWN, "受理单位撤回")
        return await self._move(filed, change, actor, ACT_WITHDRAW, tell=True)

    # -- the holder --------------------------------------------------------------------------

    async def receive(self, call: Envelope) -> bytes:
        """``SubmitRequest`` at the holder: store, decide by rule, answer with the state."""
        p = self.parts
        submit = p.codec.decode(SubmitRequest, call.payload)
        request = submit.request
        if request.holder != p.code:
            raise Misaddressed(f"request for {request.holder} reached {p.code}")
        if request.requesting_node != call.origin:
            raise Forbidden(
                f"{call.origin} may not file a request in {request.requesting_node}'s name"
            )
        known = await p.requests.get(request.request_id)
        if known is None:
            known = await self._receive_new(request, submit.sealed_personal, call.origin)
        elif known.request != request:
            raise InvalidInput(f"利用申请编号 {request.request_id} 已用于另一份申请")
        reply = SubmitAck(request.request_id, known.change, known.holder_due_ms)
        return p.codec.encode(reply)

    async def _receive_new(
        self, request: UtilisationRequest, sealed: bytes, origin: str
    ) -> FiledRequest:
        p = self.parts
        now = self.now_ms()
        personal: PersonalPart | None
        try:
            personal = PersonalPart.from_bytes(p.signer.key.unseal(sealed))
        except Exception:  # sealed to a retired key, or not ours: the archivist asks
            personal = None
        state, rule, record = await self.decide_by_rule(request, personal)
        reason = rule if state != State.SUBMITTED else "已收到，等待档案员审核"
        if state == State.REJECTED:
            reason = rule
        change = self.sign(request, state, reason)
        attorney = personal.attorney if personal else None
        if attorney is not None:
            await p.blobs.put(attorney.data)
        filed = FiledRequest(
            request=request,
            role=Role.INCOMING,
            state=state,
            reason=reason,
            state_at_ms=now,
            holder_due_ms=self.deadlines.holder_due(now),
            citizen_name=personal.citizen_name if personal else "",
            id_masked=personal.id_number.masked if personal else "",
            rule=rule,
            attorney_sha256=attorney.sha256 if attorney else "",
            attorney_type=attorney.media_type if attorney else "",
            record_title=record.title if record else "",
            archival_code=record.archival_code if record else "",
            change=change,
        )
        update = self._update_for(filed, change)
        by = node_actor(origin, p.code)
        detail = {"record": request.ref, "state": state.value, "rule": rule}
        hook = p.audit.hook([(by, ACT_RECEIVE, request.request_id, detail)])
        if await p.requests.insert(filed, outgoing=[update], now_ms=now, also=hook):
            self.outbox.wake()
            return filed
        stored = await p.requests.get(request.request_id)  # a concurrent resend won
        assert stored is not None
        return stored

    def _update_for(self, filed: FiledRequest, change: StateChange) -> Outgoing:
        # The archival code is shown in catalogues anyway; a record's title travels only with
        # its content (sealed, if the record is not open: delivery.py).
        code = filed.archival_code if change.state == State.APPROVED else ""
        return self._update_item(filed.request, RequestUpdate(change, "", code))

    async def decide_by_rule(
        self, request: UtilisationRequest, personal: PersonalPart | None
    ) -> tuple[State, str, Record | None]:
        """(state, the rule that applied or why none did, the record if it may be named)."""
        p = self.parts
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
        if self.matches(personal.id_number, record):
            return State.APPROVED, RULE_SELF, record
        return State.SUBMITTED, RULE_NO_MATCH, record

    async def decide(
        self, request_id: str, approve: bool, reason: str, *, actor: Actor
    ) -> FiledRequest:
        """An archivist's decision on a request waiting at this holder."""
        filed = await self._get(request_id, Role.INCOMING)
        reason = reason.strip()
        if not approve and not reason:
            raise InvalidInput("不予批准须填写理由（将告知受理单位和申请人），请填写后重新提交")
        if filed.state != State.SUBMITTED:
            raise InvalidInput(f"利用申请 {request_id} 已是“{filed.state.zh}”，无需再审核")
        state = State.APPROVED if approve else State.REJECTED
        change = self.sign(filed.request, state, reason or "经档案员审核批准")
        return await self._move(filed, change, actor, ACT_DECIDE, tell=True)

    async def expire_due(self, *, actor: Actor) -> int:
        """Approvals at this holder older than the approval lifetime lapse; the count."""
        before = self.now_ms() - int(self.approval_lifetime_s * 1000)
        count = 0
        for filed in await self.parts.requests.approved_before(Role.INCOMING, before):
            change = self.sign(filed.request, State.EXPIRED, "批准后逾期未调阅，批准已失效")
            await self._move(filed, change, actor, ACT_DECIDE, tell=True)
            count += 1
        return count

    # -- both ends ---------------------------------------------------------------------------

    async def _get(self, request_id: str, role: Role) -> FiledRequest:
        filed = await self.parts.requests.get(request_id)
        if filed is None or filed.role != role:
            raise NotFound(f"本节点没有编号为 {request_id} 的利用申请，请核对编号")
        return filed

    async def _move(
        self,
        filed: FiledRequest,
        change: StateChange,
        actor: Actor,
        act: str,
        *,
        tell: bool,
        **fields: object,
    ) -> FiledRequest:
        """Apply one signed move (compare-and-set on the state seen), tell the other end."""
        p = self.parts
        now = self.now_ms()
        receiver_due = filed.receiver_due_ms
        if filed.role == Role.OUTGOING and change.state in (State.APPROVED, State.REJECTED):
            receiver_due = self.deadlines.receiver_due(now)
        updated = replace(
            filed,
            state=change.state,
            reason=change.reason,
            state_at_ms=change.at_ms,
            receiver_due_ms=receiver_due,
            change=change,
            **fields,  # type: ignore[arg-type]
        )
        outgoing = [self._update_for(filed, change)] if tell else []
        if filed.role == Role.OUTGOING and change.state == State.APPROVED:
            # the fetch of the sealed content is an outbox item too: it survives a restart
            # and is retried while the holder cannot be reached
            outgoing.append(Outgoing(filed.request_id, filed.request.holder, FETCH, b""))
        detail = {"state": change.state.value, "reason": change.reason, "by": change.signer}
        hook = p.audit.hook([(actor, act, filed.request_id, detail)])
        stored = await p.requests.replace(
            filed.state, updated, outgoing=outgoing, now_ms=now, also=hook
        )
        if stored is None:
            raise NotFound(f"本节点没有编号为 {filed.request_id} 的利用申请")
        if stored is not updated:
            raise InvalidInput(
                f"利用申请 {filed.request_id} 刚刚变为“{stored.state.zh}”，请刷新后查看"
            )
        if outgoing:
            self.outbox.wake()
        return stored

    async def apply(self, update: RequestUpdate, signed_by: Envelope) -> FiledRequest | None:
        """A state change from the other end (a ``RequestUpdate`` call or a ``SubmitAck``),
        checked against the key that signed its envelope; the stored request after it."""
        change = update.change
        filed = await self.parts.requests.get(change.request_id)
        if filed is None:
            return None
        request = filed.request
        other = request.holder if filed.role == Role.OUTGOING else request.requesting_node
        if signed_by.origin != other or change.signer != other or change.holder != request.holder:
            raise Forbidden(f"{signed_by.origin} may not change request {change.request_id}")
        leaf = signed_by.chain[0] if signed_by.chain else None
        if leaf is None or not change.verify(leaf.public_key):
            raise AuthError(f"state change of {change.request_id} is not signed by {other}")
        if filed.state == change.state or not allowed(
            filed.state, change.state, by_holder=filed.role == Role.OUTGOING
        ):
            # A repeat, or overtaken (withdrawn while the holder approved): nothing to do;
            # the answer tells the sender which state stands.
            if filed.role == Role.OUTGOING and change.state == State.SUBMITTED:
                return await self._received(filed, change)
            return filed
        fields: dict[str, object] = {}
        if update.archival_code:
            fields["archival_code"] = update.archival_code[:40]
        if update.record_title:
            fields["record_title"] = update.record_title[:600]
        by = node_actor(signed_by.origin, self.parts.code)
        return await self._move(filed, change, by, ACT_UPDATE, tell=False, **fields)

    async def _received(self, filed: FiledRequest, change: StateChange) -> FiledRequest:
        """The holder's receipt (still ``submitted``): keep its deadline and word."""
        if filed.change is not None and filed.change.signer == change.signer:
            return filed
        updated = replace(filed, reason=change.reason, change=change)
        stored = await self.parts.requests.replace(filed.state, updated, now_ms=self.now_ms())
        return stored or filed

    async def on_update_call(self, call: Envelope) -> bytes:
        """``RequestUpdate`` handler, at either end."""
        update = self.parts.codec.decode(RequestUpdate, call.payload)
        stored = await self.apply(update, call)
        state = stored.state.value if stored is not None else ""
        return self.parts.codec.encode(RequestUpdateAck(update.change.request_id, state))

    # -- the outbox's sending ----------------------------------------------------------------

    async def _send(self, item: OutboxItem) -> None:
        p = self.parts
        if item.method == FETCH:
            filed = await p.requests.get(item.request_id)
            if filed is not None and filed.state == State.APPROVED:
                await self._deliver(filed)
            return
        reply = await self.client.call(item.method, item.destination, item.payload)
        if item.method == SUBMIT_REQUEST:
            ack = p.codec.decode(SubmitAck, reply.payload)
            if ack.change is not None:
                await self.apply(RequestUpdate(ack.change), reply)

    async def _deliver(self, filed: FiledRequest) -> None:
        """Fetch the approved content sealed to this node, keep it, tell the holder."""
        p = self.parts
        got = await delivery.fetch_sealed(self.client, filed.request)
        sha256, size = await p.blobs.put(got.content)
        content = Delivered(sha256, got.manifest.file_name, got.manifest.media_type, size)
        change = self.sign(filed.request, State.DELIVERED, "已送达受理单位")
        await self._move(
            filed,
            change,
            node_actor(filed.request.holder, p.code),
            ACT_DELIVER,
            tell=True,
            content=content,
            record_title=got.manifest.title,
            archival_code=got.manifest.archival_code,
        )
