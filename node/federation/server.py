"""The receiving side of the federation: admit a call, answer it or relay it one hop on.

Admission (``_admit``) authenticates before anything is touched: the hop's envelope, and for
a relayed call the originator's envelope inside it, which travels unchanged end to end. A
transaction already answered gets its stored answer (``admission.py``); a new one has its
nonces checked, takes one of its origin's concurrent-call slots, and is either answered here
(the answer signed) or passed to the next node on its route in this node's own envelope.
Enrolment is the one call from a node without a certificate: its envelope is signed by the
key it asks to have certified.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace

from node import crypto
from node.errors import (
    AccessDenied,
    Forbidden,
    InvalidCode,
    InvalidInput,
    Misaddressed,
    NotFound,
    ProtocolError,
)
from node.federation.admission import RETRYABLE, Admission
from node.federation.antientropy import CatalogueComparer
from node.federation.messages import (
    CHUNK_BYTES,
    COMPARE,
    ENROL,
    FETCH,
    GET_DIRECTORY,
    HEARTBEAT,
    MANIFEST_SUFFIX,
    PUSH,
    RENEW,
    REPAIR,
    REPLY_SUFFIX,
    REPORT_TRUST,
    SEARCH,
    ContentManifest,
    DirectoryRequest,
    EnrolApplication,
    Envelope,
    FetchPart,
    FetchRequest,
    Heartbeat,
    HeartbeatReply,
    PushAck,
    PushBatch,
    RenewRequest,
    TrustReport,
)
from node.federation.parts import NodeParts
from node.federation.trust.keeper import TrustKeeper
from node.identity import covers, next_hop, parent_of
from node.records import MAX_BATCH_ENTRIES, Access, SearchQuery

log = logging.getLogger(__name__)

MAX_RECENT_ACCEPTED = 10_000


@dataclass(frozen=True)
class Admitted:
    call: Envelope  # the originator's envelope
    call_bytes: bytes  # its exact bytes, for relaying unchanged
    hop: Envelope  # the envelope of the hop it arrived on (``call`` itself if not relayed)

    def check_nonces(self, parts: NodeParts) -> None:
        parts.gatekeeper.check_nonce(self.hop)
        if self.hop is not self.call:
            try:
                parts.gatekeeper.check_nonce(self.call)
            except BaseException:
                parts.gatekeeper.forget_nonce(self.hop)
                raise

    def forget_nonces(self, parts: NodeParts) -> None:
        parts.gatekeeper.forget_nonce(self.hop)
        parts.gatekeeper.forget_nonce(self.call)


class FederationServer:
    """Answers or relays the federation calls addressed to one node."""

    def __init__(
        self,
        parts: NodeParts,
        keeper: TrustKeeper,
        on_catalogue_changed: Callable[[], None] = lambda: None,
        admission: Admission | None = None,
        on_peer_call: Callable[[str], None] = lambda origin: None,
    ) -> None:
        self.parts = parts
        self.keeper = keeper
        self.on_catalogue_changed = on_catalogue_changed
        # told the neighbour of every authenticated call (not replayed): the link to it works
        self.on_peer_call = on_peer_call
        self.admission = admission or Admission(clock=parts.signer.clock)
        # calls answered (or relayed) successfully: a count, and the newest transactions
        self.accepted = 0
        self.recent_accepted: deque[tuple[str, str]] = deque(maxlen=MAX_RECENT_ACCEPTED)
        comparer = CatalogueComparer(parts, lambda: self.on_catalogue_changed())
        self._unary: dict[str, Callable[[Envelope], Awaitable[bytes]]] = {
            PUSH: self._push,
            SEARCH: self._search,
            HEARTBEAT: self._heartbeat,
            GET_DIRECTORY: self._directory,
            RENEW: self._renew,
            REPORT_TRUST: self._report,
            COMPARE: comparer.compare,
            REPAIR: comparer.repair,
        }

    @property
    def code(self) -> str:
        return self.parts.code

    def _admit(self, method: str, request: bytes, outer: Envelope) -> Admitted:
        """Authenticate the hop and the originator (all but the nonces) and check the route."""
        p = self.parts
        p.gatekeeper.authenticate(outer, method)
        try:
            if outer.relayed:
                if outer.destination != self.code:
                    raise Misaddressed(f"relayed call for {outer.destination} reached {self.code}")
                inner = p.codec.decode(Envelope, outer.payload)
                if inner.relayed:
                    raise ProtocolError("a relayed call may not wrap another relayed call")
                p.gatekeeper.authenticate(inner, method)
                if (
                    inner.destination != self.code
                    and next_hop(outer.origin, inner.destination) != self.code
                ):
                    raise Misaddressed(f"{self.code} is not on the route to {inner.destination}")
                return Admitted(inner, outer.payload, outer)
            if (
                outer.destination != self.code
                and next_hop(outer.origin, outer.destination) != self.code
            ):
                raise Misaddressed(
                    f"call for {outer.destination} is not routed through {self.code}"
                )
            return Admitted(outer, request, outer)
        except InvalidCode as exc:
            raise Misaddressed(f"call names an invalid destination: {exc}") from None

    def _relay_envelope(self, method: str, admitted: Admitted) -> tuple[str, bytes]:
        hop = next_hop(self.code, admitted.call.destination)
        wrapped = self.parts.signer.seal(method, hop, admitted.call_bytes, relayed=True)
        return hop, self.parts.codec.encode(wrapped)

    async def unary(self, method: str, request: bytes, outer: Envelope) -> bytes:
        if method == ENROL:
            return await self._enrol(outer)
        handler = self._unary.get(method)
        if handler is None:
            raise ProtocolError(f"unknown federation method {method}")
        admitted = self._admit(method, request, outer)
        call = admitted.call

        async def run() -> bytes:
            admitted.check_nonces(self.parts)
            self.on_peer_call(admitted.hop.origin)
            try:
                with self.admission.slot(call.origin):
                    if call.destination != self.code:
                        hop, wrapped = self._relay_envelope(method, admitted)
                        answer = await self.parts.transport.unary(
                            hop, method, wrapped, self.parts.call_timeout
                        )
                    else:
                        answer = self._reply(method, call, await handler(call))
            except RETRYABLE:
                admitted.forget_nonces(self.parts)  # nothing applied: let the retry through
                raise
            self._accepted(call)
            return answer

        fingerprint = crypto.sha256(method.encode() + b"\0" + call.payload)
        return await self.admission.once(call.origin, call.transaction_id, fingerprint, run)

    def _accepted(self, call: Envelope) -> None:
        self.accepted += 1
        self.recent_accepted.append((call.origin, call.transaction_id))

    def _reply(self, method: str, call: Envelope, payload: bytes) -> bytes:
        reply = self.parts.signer.seal(
            method + REPLY_SUFFIX, call.origin, payload, transaction_id=call.transaction_id
        )
        return self.parts.codec.encode(reply)

    async def stream(self, method: str, request: bytes, outer: Envelope) -> AsyncIterator[bytes]:
        if method != FETCH:
            raise ProtocolError(f"unknown streaming method {method}")
        admitted = self._admit(method, request, outer)
        admitted.check_nonces(self.parts)
        self.on_peer_call(admitted.hop.origin)
        with self.admission.slot(admitted.call.origin):
            self._accepted(admitted.call)
            if admitted.call.destination != self.code:
                hop, wrapped = self._relay_envelope(method, admitted)
                async for part in self.parts.transport.stream(
                    hop, method, wrapped, self.parts.fetch_timeout
                ):
                    yield part
                return
            async for part in self._fetch(admitted.call):
                yield part

    # -- handlers ---------------------------------------------------------------------------

    async def _push(self, call: Envelope) -> bytes:
        p = self.parts
        if parent_of(call.origin) != self.code:
            raise Misaddressed(f"{call.origin} is not a child of {self.code}; it may not push here")
        batch = p.codec.decode(PushBatch, call.payload)
        if len(batch.entries) > MAX_BATCH_ENTRIES:
            raise InvalidInput(
                f"batch of {len(batch.entries)} entries (at most {MAX_BATCH_ENTRIES})"
            )
        for entry in batch.entries:  # the store validates each entry itself
            if not covers(call.origin, entry.holder):
                raise InvalidInput(
                    f"{call.origin} pushed an entry held by {entry.holder}, outside its subtree"
                )
        result = await p.catalogue.apply_batch(
            call.origin, batch.from_seq, batch.to_seq, batch.entries, batch.batch_id
        )
        if result.applied:
            self.on_catalogue_changed()
        return p.codec.encode(PushAck(cursor=result.cursor, applied=result.applied))

    async def _search(self, call: Envelope) -> bytes:
        p = self.parts
        query = p.codec.decode(SearchQuery, call.payload)
        scope = query.scope or self.code
        if not covers(self.code, scope):
            raise InvalidInput(f"{self.code} does not cover the search scope {scope}")
        page = await p.catalogue.search(query)
        page = replace(page, answered_by=self.code)
        return p.codec.encode(page)

    async def _heartbeat(self, call: Envelope) -> bytes:
        beat = self.parts.codec.decode(Heartbeat, call.payload)
        self.keeper.directory.announced(call.origin, beat.directory_version)
        cursor = await self.parts.catalogue.child_cursor(call.origin)
        return self.parts.codec.encode(
            HeartbeatReply(cursor=cursor, directory_version=self.keeper.head.version)
        )

    async def _directory(self, call: Envelope) -> bytes:
        request = self.parts.codec.decode(DirectoryRequest, call.payload)
        return self.parts.codec.encode(await self.keeper.directory.page(request))

    async def _renew(self, call: Envelope) -> bytes:
        request = self.parts.codec.decode(RenewRequest, call.payload)
        reply = await self.keeper.credentials.grant_renewal(call.chain[0], request)
        return self.parts.codec.encode(reply)

    async def _report(self, call: Envelope) -> bytes:
        report = self.parts.codec.decode(TrustReport, call.payload)
        ack = await self.keeper.reports.receive_report(call.chain[0], report)
        return self.parts.codec.encode(ack)

    async def _enrol(self, envelope: Envelope) -> bytes:
        """An applicant without a certificate, proving it holds the key it wants certified."""
        p = self.parts
        if envelope.relayed or envelope.destination != self.code:
            raise Misaddressed("an enrolment application goes straight to the applicant's parent")
        application = p.codec.decode(EnrolApplication, envelope.payload)
        if envelope.origin != application.code:
            raise Forbidden("the application is not signed in the applicant's own name")
        p.gatekeeper.authenticate_applicant(envelope, ENROL, application.public_key)
        p.gatekeeper.check_nonce(envelope)
        with self.admission.slot(envelope.origin):
            status = await self.keeper.enrolment.receive_application(application)
        return self._reply(ENROL, envelope, p.codec.encode(status))

    async def _fetch(self, call: Envelope) -> AsyncIterator[bytes]:
        p = self.parts
        request = p.codec.decode(FetchRequest, call.payload)
        if request.holder != self.code:
            raise Misaddressed(f"fetch for a record held by {request.holder} reached {self.code}")
        manifest = await self.manifest_for(request)
        signed = p.signer.seal(
            FETCH + MANIFEST_SUFFIX,
            call.origin,
            p.codec.encode(manifest),
            transaction_id=call.transaction_id,
        )
        yield p.codec.encode(FetchPart(manifest=signed))
        async for chunk in p.blobs.read_chunks(manifest.sha256, CHUNK_BYTES):
            yield p.codec.encode(FetchPart(chunk=chunk))
        log.info("released %s/%s to %s", self.code, request.record_id, call.origin)

    async def manifest_for(self, request: FetchRequest) -> ContentManifest:
        """Describe the content this node would release for ``request``, or refuse."""
        try:
            record = await self.parts.records.get(request.record_id)
        except NotFound:
            raise NotFound(
                f"{self.parts.name}（{self.code}）没有标识为 {request.record_id} 的档案，"
                "请核对后重试"
            ) from None
        if record.deleted:
            raise NotFound(f"档案 {record.ref} 已删除")
        if record.access == Access.CONTROLLED:
            raise AccessDenied(f"档案 {record.ref} 为控制使用，须经利用申请批准后方可调阅")
        if record.access != Access.OPEN:
            raise AccessDenied(f"档案 {record.ref} 不开放，不能调阅")
        if not record.files:
            raise NotFound(f"档案 {record.ref} 没有数字化内容")
        files = (
            [f for f in record.files if f.name == request.file_name]
            if request.file_name
            else [record.files[0]]
        )
        if not files:
            raise NotFound(f"档案 {record.ref} 没有名为 {request.file_name} 的文件")
        content = files[0]
        chunk_hashes = [
            hashlib.sha256(chunk).digest()
            async for chunk in self.parts.blobs.read_chunks(content.sha256, CHUNK_BYTES)
        ]
        return ContentManifest(
            holder=self.code,
            record_id=record.record_id,
            version=record.version,
            file_name=content.name,
            media_type=content.media_type,
            size=content.size,
            sha256=content.sha256,
            chunk_size=CHUNK_BYTES,
            chunk_sha256=tuple(chunk_hashes),
            title=record.title,
            archival_code=record.archival_code,
        )
