"""Utilisation requests between a receiving node and the holder: filing, deciding, updates.

The receiving node files a request (``file``): the clear part and the personal part sealed
to the holder's current key (from the trust directory) are stored with an outbox item in one
transaction, so nothing readable of the citizen is kept here and the call survives restarts
(``request_outbox.py``). At the holder ``receive`` unseals it and decides by rule
(``request_rules.py``), or leaves it to an archivist (``decide``). Every decision is a
``StateChange`` signed with the holder's key and sent back through the holder's outbox
(``RequestUpdate``); the requesting node signs its own moves (withdrawn, delivered) and sends
them the other way. Both ends audit every step. Once approved, the requesting node fetches
the content sealed to its key (``delivery.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from node.actors import Actor, node_actor
from node.audit import Act
from node.errors import AuthError, Forbidden, InvalidInput, Misaddressed, NodeError, NotFound
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
from node.federation.request_rules import SubjectMatcher, decide_by_rule
from node.federation.trust.events import TrustState
from node.requests import (
    Deadlines,
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

ACT_FILE = Act.REQUEST_FILE
ACT_RECEIVE = Act.REQUEST_RECEIVE
ACT_DECIDE = Act.REQUEST_DECIDE
ACT_UPDATE = Act.REQUEST_UPDATE
ACT_WITHDRAW = Act.REQUEST_WITHDRAW


class RequestDesk:
    """Both ends of this node's utilisation requests."""

    def __init__(
        self,
        client: FederationClient,
        outbox: RequestOutbox,
        directory: TrustState,
        deadlines: Deadlines,
        *,
        matches: SubjectMatcher,
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
        return delivery.sealing_key(self.directory, holder)

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
        state, rule, record = await decide_by_rule(p, request, personal, self.matches)
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
        # The 档号 is in catalogues anyway; a title travels only with the (sealed) content.
        code = filed.archival_code if change.state == State.APPROVED else ""
        return self._update_item(filed.request, RequestUpdate(change, "", code))

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

    async def run_scheduled(self) -> None:
        """The scheduled upkeep (``node/jobs.py``): lapse old approvals, retry the outbox."""
        try:
            await self.expire_due(actor=node_actor(self.parts.code, self.parts.code))
        except NodeError as exc:
            log.warning("request upkeep of %s failed: %s", self.parts.code, exc)
        self.outbox.wake()

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
        strict: bool = True,
        copy_document: bytes | None = None,
        **fields: object,
    ) -> FiledRequest:
        """Apply one signed move (compare-and-set on the state seen), tell the other end. If
        the request moved meanwhile: ``InvalidInput`` if ``strict`` (a person acted on what
        they saw), else the request as it stands (an update raced the submit's answer)."""
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
            filed.state, updated, outgoing=outgoing, now_ms=now, also=hook,
            copy_document=copy_document,
        )  # fmt: skip
        if stored is None:
            raise NotFound(f"本节点没有编号为 {filed.request_id} 的利用申请")
        if stored is not updated and not strict:
            return stored
        if stored is not updated:
            raise InvalidInput(
                f"利用申请 {filed.request_id} 刚刚变为“{stored.state.zh}”，请刷新后查看"
            )
        if outgoing:
            self.outbox.wake()
        return stored

    async def apply(
        self, update: RequestUpdate, signed_by: Envelope, holder_due_ms: int = 0
    ) -> FiledRequest | None:
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
                return await self._received(filed, change, holder_due_ms)
            return filed
        fields: dict[str, object] = {}
        if update.archival_code:
            fields["archival_code"] = update.archival_code[:40]
        if update.record_title:
            fields["record_title"] = update.record_title[:600]
        by = node_actor(signed_by.origin, self.parts.code)
        return await self._move(
            filed,
            change,
            by,
            ACT_UPDATE,
            tell=False,
            strict=False,
            **fields,  # type: ignore[arg-type]
        )

    async def _received(
        self, filed: FiledRequest, change: StateChange, due_ms: int
    ) -> FiledRequest:
        """The holder's receipt (still ``submitted``): keep its word and its deadline, which
        counts from when it received the request, not from when it was filed here."""
        if filed.change is not None and filed.change.signer == change.signer:
            return filed
        due = due_ms or filed.holder_due_ms
        updated = replace(filed, reason=change.reason, change=change, holder_due_ms=due)
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
                await delivery.deliver(self, filed)
            return
        reply = await self.client.call(item.method, item.destination, item.payload)
        if item.method == SUBMIT_REQUEST:
            ack = p.codec.decode(SubmitAck, reply.payload)
            if ack.change is not None:
                await self.apply(RequestUpdate(ack.change), reply, ack.holder_due_ms)
