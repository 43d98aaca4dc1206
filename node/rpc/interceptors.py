"""The one place where node errors become gRPC status codes (and back, for peers' answers)."""

from __future__ import annotations

import logging
import re
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

_CJK = re.compile(r"[\u3400-\u9fff]")

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
    if kind is PeerUnavailable and not _CJK.search(message):
        # gRPC's own words ("Stream removed (recvmsg:No route to host (113))", "failed to
        # connect to all addresses; ..."): for the log, not inside a clerk's zh-CN sentence.
        # A relay's own refusal arrives in zh-CN and is passed on as it is.
        log.info("call to %s failed: %s: %s", peer, code.name, message)
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            message = f"节点 {peer} 未在时限内应答"
        else:
            message = f"无法连接节点 {peer}（网络不通或该节点未运行）"
    error = kind(message)
    error.from_peer = peer
    return error


async def _abort(context: aio.ServicerContext[Any, Any], method: str, exc: BaseException) -> None:
    code, message = status_for(exc)
    below = getattr(exc, "from_peer", None)
    if code == grpc.StatusCode.INTERNAL:
        log.exception("%s failed", method, exc_info=exc)
    elif below is not None:
        # a relayed call that failed at or beyond the next hop: nothing was refused here
        log.info("%s failed further down, via %s (%s): %s", method, below, code.name, message)
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
