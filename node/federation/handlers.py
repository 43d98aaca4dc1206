"""Which code answers each federation call: feature modules register their handlers here.

``FederationServer`` does what every call needs (admission, idempotency, relaying, signing
the answer) and then asks this registry for the handler of the method; it knows no call by
name. A handler is registered by the feature that owns the call (``catalogue_handlers.py``,
``trust/handlers.py``), in the way the registry of calls (``messages.CALLS``) says the call
travels:

- ``unary``: the handler gets the admitted call's envelope (the originator's, verified) and
  returns the reply payload's bytes; the server signs the reply.
- ``stream``: the same, yielding the bytes of each part.
- ``self_signed``: for a call signed by the key its request asks to have certified
  (enrolment). The server decodes the request first, since it names that key, and the
  handler maps the request and the transport's peer address ("" in process; the caller
  has no certificate, so its address is all there is to rate-limit by) to the reply.

A unary handler registered with ``changes_state=True`` changes what the node holds (a
certificate granted, an event logged, entries repaired): the server claims its nonce in the
node's database before it runs, so a replay after a restart is refused too
(``trust/verify.py``). Read-only calls, and pushes (idempotent by batch id in the database),
keep their nonces in memory only.

Modelled on Synapse's ``FederationHandlerRegistry``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from node.federation.messages import CALLS, Call, Envelope

Unary = Callable[[Envelope], Awaitable[bytes]]
Stream = Callable[[Envelope], AsyncIterator[bytes]]
SelfSigned = Callable[[Any, str], Awaitable[Any]]  # (request, peer address) -> reply message


class HandlerRegistry:
    """The handler of each federation method, each registered once."""

    def __init__(self) -> None:
        self._unary: dict[str, Unary] = {}
        self._stream: dict[str, Stream] = {}
        self._self_signed: dict[str, SelfSigned] = {}
        self._changes_state: set[str] = set()

    def unary(self, method: str, handler: Unary, *, changes_state: bool = False) -> None:
        self._add(method, "unary", self._unary, handler)
        if changes_state:
            self._changes_state.add(method)

    def stream(self, method: str, handler: Stream) -> None:
        self._add(method, "stream", self._stream, handler)

    def self_signed(self, method: str, handler: SelfSigned) -> None:
        self._add(method, "self_signed", self._self_signed, handler)

    def _add(self, method: str, kind: str, table: dict[str, Any], handler: Any) -> None:
        call = CALLS.get(method)
        if call is None:
            raise ValueError(f"{method} is not in the registry of calls (messages.CALLS)")
        if _kind(call) != kind:
            raise ValueError(f"{method} is a {_kind(call)} call, not {kind}")
        if method in self.methods():
            raise ValueError(f"{method} already has a handler")
        table[method] = handler

    def methods(self) -> set[str]:
        return {*self._unary, *self._stream, *self._self_signed}

    def check_complete(self) -> None:
        """Fail at start-up, not on the first call, if a registered call has no handler."""
        missing = sorted(CALLS.keys() - self.methods())
        if missing:
            raise RuntimeError(f"federation calls without a handler: {', '.join(missing)}")

    def unary_handler(self, method: str) -> Unary | None:
        return self._unary.get(method)

    def stream_handler(self, method: str) -> Stream | None:
        return self._stream.get(method)

    def changes_state(self, method: str) -> bool:
        """Whether ``method``'s nonce must survive a restart (see the module docstring)."""
        return method in self._changes_state

    def self_signed_handler(self, method: str) -> SelfSigned | None:
        return self._self_signed.get(method)


def _kind(call: Call) -> str:
    if call.streaming:
        return "stream"
    return "self_signed" if call.self_signed else "unary"
