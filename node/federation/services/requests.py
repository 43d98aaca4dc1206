"""Utilisation requests as the clerk and the archivist use them (pages, API, CLI).

The clerk at the receiving node files (``submit``), follows (``list``, ``show``), withdraws
and collects the delivered content (``content``); the archivist at the holder decides
(``approve``, ``reject``; a rejection needs a reason). Every method takes the ``actor``; acts
that change state are audited by the desk (``federation/requests.py``) in their own
transaction, reads of requests are noted here (they show personal data: a name).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from node.actors import Actor
from node.audit import Act
from node.citizens import IdNumber
from node.errors import InvalidInput, NotFound
from node.federation.messages import CHUNK_BYTES
from node.federation.parts import NodeParts
from node.federation.services.copies import CopyService
from node.identity import validate_code
from node.requests import (
    Attorney,
    Delivered,
    FiledRequest,
    PersonalPart,
    Relationship,
    Role,
    State,
    new_request_id,
    validate_request_id,
)

if TYPE_CHECKING:  # the desk imports the services package (delivery checks chunks there)
    from node.federation.requests import RequestDesk

MAX_LIST = 200
ACT_READ = Act.REQUEST_READ


@dataclass(frozen=True)
class RequestView:
    """A request as a page shows it: what the node knows, and whether it is overdue now."""

    filed: FiledRequest
    overdue: bool


@dataclass(frozen=True)
class RequestListing:
    total: int
    items: tuple[RequestView, ...]
    overdue: int  # of the items shown


@dataclass(frozen=True)
class DeliveredContent:
    content: Delivered
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class PrintedCopy:
    pdf: bytes
    code: str  # the verification code printed on it
    file_name: str


@runtime_checkable
class RequestService(Protocol):
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
        """File a request at this node for ``holder``'s record; it leaves through the outbox.

        Raises ``InvalidInput`` (a field, an agent without a power of attorney, this node's
        own record), ``NotFound`` (no certificate of ``holder`` to seal to).
        """
        ...

    async def list(
        self,
        role: Role,
        states: tuple[State, ...] = (),
        *,
        limit: int = 50,
        offset: int = 0,
        actor: Actor,
    ) -> RequestListing:
        """Requests filed here (``OUTGOING``) or held here (``INCOMING``), overdue first."""
        ...

    async def show(self, request_id: str, *, actor: Actor) -> RequestView:
        """One request (``NotFound`` if this node has none by that id)."""
        ...

    async def approve(self, request_id: str, reason: str = "", *, actor: Actor) -> RequestView:
        """The archivist approves a request waiting at this holder."""
        ...

    async def reject(self, request_id: str, reason: str, *, actor: Actor) -> RequestView:
        """The archivist refuses, with a reason (``InvalidInput`` without one)."""
        ...

    async def withdraw(self, request_id: str, *, actor: Actor) -> RequestView:
        """The clerk withdraws a request filed here that is not decided yet."""
        ...

    async def content(self, request_id: str, *, actor: Actor) -> DeliveredContent:
        """The content delivered for a request filed here (``NotFound`` until delivered)."""
        ...

    async def attorney(self, request_id: str, *, actor: Actor) -> DeliveredContent:
        """The power of attorney of an agent's request held here, for the archivist to check
        (``NotFound`` if the request has none)."""
        ...

    async def copy_pdf(self, request_id: str, *, actor: Actor) -> PrintedCopy:
        """The printed 档案证明 of the holder's certified copy delivered with a request filed
        here, with the content attached (``NotFound`` until one came; ``InvalidInput`` if it
        does not verify: nobody prints a copy a bank would refuse)."""
        ...


class Requests:
    """``RequestService`` over this node's desk and stores."""

    def __init__(self, parts: NodeParts, desk: RequestDesk, copies: CopyService) -> None:
        self.parts = parts
        self.desk = desk
        self.copies = copies

    def _view(self, filed: FiledRequest) -> RequestView:
        return RequestView(filed, filed.overdue(self.desk.now_ms()))

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
            raise InvalidInput("委托代理人申请须附授权委托书（PDF 或图片），请上传后重新提交")
        personal = PersonalPart(citizen_name.strip(), id_number, attorney)
        filed = await self.desk.file(
            validate_code(holder.strip()),
            record_id.strip(),
            personal,
            relationship,
            purpose.strip(),
            actor=actor,
            request_id=new_request_id(self.parts.code),
        )
        return self._view(filed)

    async def list(
        self,
        role: Role,
        states: tuple[State, ...] = (),
        *,
        limit: int = 50,
        offset: int = 0,
        actor: Actor,
    ) -> RequestListing:
        limit = max(1, min(int(limit), MAX_LIST))
        total, rows = await self.parts.requests.listing(
            role, states, now_ms=self.desk.now_ms(), limit=limit, offset=max(0, int(offset))
        )
        items = tuple(self._view(f) for f in rows)
        detail = {"role": role.value, "states": [s.value for s in states], "shown": len(items)}
        self.parts.audit.note(actor, ACT_READ, "requests", detail)
        return RequestListing(total, items, sum(1 for i in items if i.overdue))

    async def show(self, request_id: str, *, actor: Actor) -> RequestView:
        filed = await self.parts.requests.get(validate_request_id(request_id))
        if filed is None:
            raise NotFound(f"本节点没有编号为 {request_id} 的利用申请，请核对编号")
        self.parts.audit.note(actor, ACT_READ, request_id, {"state": filed.state.value})
        return self._view(filed)

    async def approve(self, request_id: str, reason: str = "", *, actor: Actor) -> RequestView:
        validate_request_id(request_id)
        return self._view(await self.desk.decide(request_id, True, reason, actor=actor))

    async def reject(self, request_id: str, reason: str, *, actor: Actor) -> RequestView:
        validate_request_id(request_id)
        return self._view(await self.desk.decide(request_id, False, reason, actor=actor))

    async def withdraw(self, request_id: str, *, actor: Actor) -> RequestView:
        validate_request_id(request_id)
        return self._view(await self.desk.withdraw(request_id, actor=actor))

    async def content(self, request_id: str, *, actor: Actor) -> DeliveredContent:
        filed = await self.parts.requests.get(validate_request_id(request_id))
        if filed is None or filed.role != Role.OUTGOING or filed.content is None:
            raise NotFound(f"利用申请 {request_id} 的档案内容尚未送达本节点，请稍后查看申请状态")
        self.parts.audit.note(
            actor, Act.REQUEST_CONTENT, request_id, {"sha256": filed.content.sha256}
        )
        chunks = self.parts.blobs.read_chunks(filed.content.sha256, CHUNK_BYTES)
        return DeliveredContent(filed.content, chunks)

    async def copy_pdf(self, request_id: str, *, actor: Actor) -> PrintedCopy:
        filed = await self.parts.requests.get(validate_request_id(request_id))
        document = await self.parts.requests.copy_document(request_id)
        if filed is None or filed.role != Role.OUTGOING or filed.content is None or not document:
            raise NotFound(
                f"利用申请 {request_id} 还没有馆藏单位出具的档案证明：档案送达后即可打印，"
                "请稍后查看申请状态"
            )
        content = b"".join(
            [c async for c in self.parts.blobs.read_chunks(filed.content.sha256, CHUNK_BYTES)]
        )
        pdf = await self.copies.printout(document, content, content_name=filed.content.name)
        self.parts.audit.note(actor, Act.COPY_PRINT, request_id, {"code": filed.copy_code})
        return PrintedCopy(pdf, filed.copy_code, f"档案证明-{request_id}.pdf")

    async def attorney(self, request_id: str, *, actor: Actor) -> DeliveredContent:
        filed = await self.parts.requests.get(validate_request_id(request_id))
        if filed is None or filed.role != Role.INCOMING or not filed.attorney_sha256:
            raise NotFound(f"利用申请 {request_id} 没有附授权委托书")
        self.parts.audit.note(actor, Act.REQUEST_ATTORNEY, request_id, {})
        sha = filed.attorney_sha256
        size = (await self.parts.blobs.sizes([sha])).get(sha)
        if size is None:
            raise NotFound(f"利用申请 {request_id} 的授权委托书文件不在本馆存储中，请联系运维")
        content = Delivered(sha, "授权委托书", filed.attorney_type, size)
        chunks = self.parts.blobs.read_chunks(filed.attorney_sha256, CHUNK_BYTES)
        return DeliveredContent(content, chunks)
