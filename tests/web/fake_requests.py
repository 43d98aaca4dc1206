"""An in-memory ``RequestService`` for the web tests: requests filed and decided in a dict.

``submit`` files an outgoing request in state submitted; ``add_incoming`` puts one in the
archivist's queue; ``deliver`` gives a filed one content, as the holder's delivery would.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from node.actors import Actor
from node.citizens import IdNumber
from node.errors import InvalidInput, NotFound
from node.federation.services.requests import (
    DeliveredContent,
    PrintedCopy,
    RequestListing,
    RequestView,
)
from node.requests import (
    Attorney,
    Delivered,
    FiledRequest,
    Relationship,
    Role,
    State,
    UtilisationRequest,
    new_request_id,
    validate_request_id,
)

NOW_MS = 1_764_000_000_000


@dataclass
class FakeRequests:
    code: str
    filed: dict[str, FiledRequest] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    acts: list[tuple[str, str]] = field(default_factory=list)  # (act, request id)

    def _view(self, f: FiledRequest) -> RequestView:
        return RequestView(f, f.overdue(NOW_MS))

    async def submit(
        self,
        holder: str,
        record_id: str,
        citizen_name: str,
        id_number: IdNumber,
        relationship: Relationship,
        purpose: str,
        *,
        attorney: Attorney | None = None,
        actor: Actor,
    ) -> RequestView:
        if relationship == Relationship.AGENT and attorney is None:
            raise InvalidInput("委托代理人申请须附授权委托书")
        rid = new_request_id(self.code)
        request = UtilisationRequest(
            rid, holder, record_id, self.code, actor.name, purpose, relationship, NOW_MS
        )
        f = FiledRequest(
            request, Role.OUTGOING, State.SUBMITTED, "已提交", NOW_MS, NOW_MS + 86_400_000,
            citizen_name=citizen_name, id_masked=id_number.masked,
        )  # fmt: skip
        self.filed[rid] = f
        self.acts.append(("submit", rid))
        return self._view(f)

    def add_incoming(self, requesting_node: str, record_id: str, rule: str) -> str:
        rid = new_request_id(requesting_node)
        request = UtilisationRequest(
            rid, self.code, record_id, requesting_node, "wang", "查档", Relationship.SELF, NOW_MS
        )
        self.filed[rid] = FiledRequest(
            request, Role.INCOMING, State.SUBMITTED, "等待审核", NOW_MS, NOW_MS - 1,
            citizen_name="王秀英", id_masked="330110********0021", rule=rule,
        )  # fmt: skip
        return rid

    def deliver(self, rid: str, data: bytes) -> None:
        self.filed[rid] = replace(
            self.filed[rid],
            state=State.DELIVERED,
            content=Delivered(hashlib.sha256(data).hexdigest(), "1.txt", "text/plain", len(data)),
        )
        self.contents[rid] = data

    async def list(
        self,
        role: Role,
        states: tuple[State, ...] = (),
        *,
        limit: int = 50,
        offset: int = 0,
        actor: Actor,
    ) -> RequestListing:
        rows = [
            f for f in self.filed.values() if f.role == role and (not states or f.state in states)
        ]
        items = tuple(self._view(f) for f in rows[offset : offset + limit])
        return RequestListing(len(rows), items, sum(1 for i in items if i.overdue))

    def _get(self, rid: str) -> FiledRequest:
        validate_request_id(rid)
        if rid not in self.filed:
            raise NotFound(f"本节点没有编号为 {rid} 的利用申请")
        return self.filed[rid]

    async def show(self, request_id: str, *, actor: Actor) -> RequestView:
        return self._view(self._get(request_id))

    async def _decide(self, rid: str, state: State, reason: str) -> RequestView:
        f = self._get(rid)
        if f.role != Role.INCOMING or f.state != State.SUBMITTED:
            raise InvalidInput("无需再审核")
        self.filed[rid] = replace(f, state=state, reason=reason)
        self.acts.append((state.value, rid))
        return self._view(self.filed[rid])

    async def approve(self, request_id: str, reason: str = "", *, actor: Actor) -> RequestView:
        return await self._decide(request_id, State.APPROVED, reason or "批准")

    async def reject(self, request_id: str, reason: str, *, actor: Actor) -> RequestView:
        if not reason.strip():
            raise InvalidInput("不予批准须填写理由")
        return await self._decide(request_id, State.REJECTED, reason)

    async def withdraw(self, request_id: str, *, actor: Actor) -> RequestView:
        f = self._get(request_id)
        if f.role != Role.OUTGOING or f.state != State.SUBMITTED:
            raise InvalidInput("只能撤回待审核的申请")
        self.filed[request_id] = replace(f, state=State.WITHDRAWN)
        return self._view(self.filed[request_id])

    async def content(self, request_id: str, *, actor: Actor) -> DeliveredContent:
        f = self._get(request_id)
        if f.content is None:
            raise NotFound("尚未送达")
        data = self.contents[request_id]

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        return DeliveredContent(f.content, chunks())

    async def copy_pdf(self, request_id: str, *, actor: Actor) -> PrintedCopy:
        f = self._get(request_id)
        if not f.copy_code:
            raise NotFound("还没有馆藏单位出具的档案证明")
        return PrintedCopy(b"%PDF-1.7 fake", f.copy_code, f"档案证明-{request_id}.pdf")

    async def attorney(self, request_id: str, *, actor: Actor) -> DeliveredContent:
        f = self._get(request_id)
        if not f.attorney_sha256:
            raise NotFound("没有附授权委托书")

        async def chunks() -> AsyncIterator[bytes]:
            yield b"%PDF-1.4 attorney"

        return DeliveredContent(
            Delivered(f.attorney_sha256, "授权委托书", f.attorney_type, 17), chunks()
        )
