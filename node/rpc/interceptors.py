"""The one place where node errors become gRPC status codes (and back, for peers' answers)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from node.errors import (
    AccessDenied,
    AuthError,
    FederationError,
    Forbidden,
    InvalidInput,
    Misaddressed,
    NodeError,
    NotFound,
    NotReady,
    Overloaded,
    PeerUnavailable,
    ProtocolError,
)

log = logging.getLogger(__name__)

_TO_STATUS: tuple[tuple[type[NodeError], grpc.StatusCode], ...] = (
    (AuthError, grpc.StatusCode.UNAUTHENTICATED),
    (Misaddressed, grpc.StatusCode.PERMISSION_DENIED),
    (AccessDenied, grpc.StatusCode.PERMISSION_DENIED),
    (Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (ProtocolError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (PeerUnavailable, grpc.StatusCode.UNAVAILABLE),
    (Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (NotReady, grpc.StatusCode.UNAVAILABLE),
)

_FROM_STATUS: dict[grpc.StatusCode, type[NodeError]] = {
    grpc.StatusCode.UNAUTHENTICATED: AuthError,
    grpc.StatusCode.PERMISSION_DENIED: AccessDenied,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidInput,
    grpc.StatusCode.RESOURCE_EXHAUSTED: Overloaded,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.UNAVAILABLE: PeerUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: PeerUnavailable,
}


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status and message a refused call answers with."""
    if isinstance(exc, NodeError):
        for kind, code in _TO_STATUS:
            if isinstance(exc, kind):
                return code, str(exc)
    return grpc.StatusCode.INTERNAL, "internal error; see the node's log"


def error_from_status(code: grpc.StatusCode, details: str | None, peer: str) -> NodeError:
    """A peer's refusal as the node error it stands for (relays pass it on unchanged)."""
    kind = _FROM_STATUS.get(code, FederationError)
    message = details or code.name
    if kind is PeerUnavailable and not details:
        message = f"node {peer} is unreachable"
    error = kind(message)
    error.from_peer = peer
    return error


async def _abort(context: aio.ServicerContext[Any, Any], method: str, exc: BaseException) -> None:
    code, message = status_for(exc)
    if code == grpc.StatusCode.INTERNAL:
        log.exception("%s failed", method, exc_info=exc)
    else:
        log.warning("%s refused (%s): %s", method, code.name, message)
    await context.abort(code, message)


class ErrorToStatusInterceptor(aio.ServerInterceptor):
    """Maps ``NodeError``s raised by handlers to status codes; anything else to INTERNAL."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith("/archive."):
            return handler
        if handler.unary_unary is not None:
            inner_unary = handler.unary_unary

            async def unary(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
                try:
                    return await inner_unary(request, context)
                except Exception as exc:  # noqa: BLE001 - mapped, never leaked
                    await _abort(context, method, exc)

            return grpc.unary_unary_rpc_method_handler(
                unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream is not None:
            inner_stream = handler.unary_stream

            async def stream(
                request: Any, context: aio.ServicerContext[Any, Any]
            ) -> AsyncIterator[Any]:
                try:
                    async for item in inner_stream(request, context):
                        yield item
                except Exception as exc:  # noqa: BLE001 - mapped, never leaked
                    await _abort(context, method, exc)

            return grpc.unary_stream_rpc_method_handler(
                stream, handler.request_deserializer, handler.response_serializer
            )
        return handler
