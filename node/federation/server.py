"""The receiving side of the federation: admit a call, answer it or relay it one hop on.

Admission (``_admit``) authenticates before anything is touched: the hop's envelope, and for
a relayed call the originator's envelope inside it, which travels unchanged end to end. A
transaction already answered gets its stored answer (``admission.py``); a new one has its
nonces checked (a state-changing call's also in the database, so a replay after a restart is
refused: ``trust/verify.py``), takes one of its origin's concurrent-call slots, and is either
answered here (the answer signed) or passed to the next node on its route in this node's own
envelope.
Enrolment is the one call from a node without a certificate: its envelope is signed by the
key it asks to have certified (a ``self_signed`` call of the registry).

What a call does once admitted is not here: each feature registers its handlers by method in
a ``HandlerRegistry`` (``catalogue_handlers.py``, ``trust/handlers.py``; the wiring in
``node/node.py`` calls each feature's ``register``), and this server only looks them up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, cast

from node import crypto
from node.errors import Forbidden, InvalidCode, Misaddressed, ProtocolError
from node.federation.admission import RETRYABLE, Admission
from node.federation.handlers import HandlerRegistry, SelfSigned
from node.federation.messages import CALLS, REPLY_SUFFIX, Envelope
from node.federation.parts import NodeParts
from node.identity import next_hop

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
        handlers: HandlerRegistry,
        admission: Admission | None = None,
        on_peer_call: Callable[[str], None] = lambda origin: None,
    ) -> None:
        self.parts = parts
        # told the neighbour of every authenticated call (not replayed): the link to it works
        self.on_peer_call = on_peer_call
        self.admission = admission or Admission(clock=parts.signer.clock)
        # calls answered (or relayed) successfully: a count, and the newest transactions
        self.accepted = 0
        self.recent_accepted: deque[tuple[str, str]] = deque(maxlen=MAX_RECENT_ACCEPTED)
        handlers.check_complete()  # at start-up, not on the first call of a missing one
        self.handlers = handlers

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

    async def unary(self, method: str, request: bytes, outer: Envelope, peer: str = "") -> bytes:
        """Answer or relay one call (``peer``: the transport's address of the caller)."""
        self_signed = self.handlers.self_signed_handler(method)
        if self_signed is not None:
            return await self._self_signed(method, outer, self_signed, peer)
        handler = self.handlers.unary_handler(method)
        if handler is None:
            raise ProtocolError(f"unknown federation method {method}")
        admitted = self._admit(method, request, outer)
        call = admitted.call
        # the node that acts on the call keeps its nonce across restarts (relays act on nothing)
        durable = call.destination == self.code and self.handlers.changes_state(method)

        async def run() -> bytes:
            admitted.check_nonces(self.parts)
            if durable:
                await self.parts.gatekeeper.claim_nonce(call)  # before the effect commits
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
                if durable:
                    await self.parts.gatekeeper.release_nonce(call)
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
        handler = self.handlers.stream_handler(method)
        if handler is None:
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
            async for part in handler(admitted.call):
                yield part

    async def _self_signed(
        self, method: str, envelope: Envelope, handler: SelfSigned, peer: str
    ) -> bytes:
        """A call from a node without a certificate (enrolment): its envelope is signed by the
        key its request asks to have certified, so the request is read before it is verified."""
        p = self.parts
        if envelope.relayed or envelope.destination != self.code:
            raise Misaddressed("an enrolment application goes straight to the applicant's parent")
        request = p.codec.decode(CALLS[method].request, envelope.payload)
        applicant = cast(_Applicant, request)
        if envelope.origin != applicant.code:
            raise Forbidden("the application is not signed in the applicant's own name")
        p.gatekeeper.authenticate_applicant(envelope, method, applicant.public_key)
        p.gatekeeper.check_nonce(envelope)
        with self.admission.slot(envelope.origin):
            reply = await handler(request, peer)
        return self._reply(method, envelope, p.codec.encode(reply))


class _Applicant(Protocol):
    """What the request of a self-signed call names: who applies, with which key."""

    code: str
    public_key: bytes
