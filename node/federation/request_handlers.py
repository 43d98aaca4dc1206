"""The utilisation requests' federation calls, answered at the holder and the requester.

``SubmitRequest`` reaches the holder; ``RequestUpdate`` either end. Both change what the
node holds, so they are registered ``changes_state=True`` (the nonce survives a restart);
both are idempotent by request id (a request resent after a lost answer is answered from
what is stored, a state change already applied changes nothing).
"""

from __future__ import annotations

from node.federation.handlers import HandlerRegistry
from node.federation.messages import REQUEST_UPDATE, SUBMIT_REQUEST
from node.federation.requests import RequestDesk


def register(handlers: HandlerRegistry, desk: RequestDesk) -> None:
    handlers.unary(SUBMIT_REQUEST, desk.receive, changes_state=True)
    handlers.unary(REQUEST_UPDATE, desk.on_update_call, changes_state=True)
