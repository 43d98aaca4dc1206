"""Reaching neighbours: in-process when the daemon hosts them, else over pooled gRPC channels.

Every call has a deadline; keepalive and the message size cap match the server's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from grpc import aio

from node.errors import PeerUnavailable
from node.federation.dispatch import Dispatcher, LocalTransport
from node.federation.messages import MAX_MESSAGE_BYTES
from node.rpc.interceptors import error_from_status
from node.rpc.server import KEEPALIVE_OPTIONS

CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.enable_retries", 1),
    # gRPC's own reconnect backoff grows to 120 s: a parent back after a long outage would
    # stay unreachable that long after the outbox's own (persisted, shorter) backoff ended.
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    *KEEPALIVE_OPTIONS,
]

Resolver = Callable[[str], str | None]


class PeerTransport:
    """``node.federation.transport.Transport`` for a daemon: local nodes first, then gRPC."""

    def __init__(self, dispatcher: Dispatcher, resolve: Resolver) -> None:
        self.local = LocalTransport(dispatcher)
        self.dispatcher = dispatcher
        self.resolve = resolve
        self._channels: dict[str, aio.Channel] = {}
        self._unary_calls: dict[tuple[str, str], aio.UnaryUnaryMultiCallable] = {}

    def _address(self, neighbour: str) -> str:
        address = self.resolve(neighbour)
        if not address:
            raise PeerUnavailable(f"address of node {neighbour} is unknown")
        return address

    def _channel(self, address: str) -> aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            channel = aio.insecure_channel(address, options=CHANNEL_OPTIONS)
            self._channels[address] = channel
        return channel

    def _unary_call(self, neighbour: str, method: str) -> aio.UnaryUnaryMultiCallable:
        """The channel's callable for ``method``, made once: making it is not free per call."""
        key = (self._address(neighbour), method)
        call = self._unary_calls.get(key)
        if call is None:
            call = self._unary_calls[key] = self._channel(key[0]).unary_unary(method)
        return call

    async def unary(self, neighbour: str, method: str, request: bytes, timeout: float) -> bytes:
        if self.dispatcher.hosts(neighbour):
            return await self.local.unary(neighbour, method, request, timeout)
        call = self._unary_call(neighbour, method)
        try:
            reply: bytes = await call(request, timeout=timeout)
        except aio.AioRpcError as exc:
            raise error_from_status(exc.code(), exc.details(), neighbour) from None
        return reply

    async def stream(
        self, neighbour: str, method: str, request: bytes, timeout: float
    ) -> AsyncIterator[bytes]:
        if self.dispatcher.hosts(neighbour):
            async for part in self.local.stream(neighbour, method, request, timeout):
                yield part
            return
        channel = self._channel(self._address(neighbour))
        call = channel.unary_stream(method)(request, timeout=timeout)
        try:
            async for part in call:
                yield part
        except aio.AioRpcError as exc:
            raise error_from_status(exc.code(), exc.details(), neighbour) from None
        finally:
            call.cancel()

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        self._unary_calls.clear()


async def call_address(address: str, method: str, request: bytes, timeout: float) -> bytes:
    """One unary call to ``address`` on a channel of its own (for a node not yet running)."""
    async with aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        try:
            reply: bytes = await channel.unary_unary(method)(request, timeout=timeout)
        except aio.AioRpcError as exc:
            raise error_from_status(exc.code(), exc.details(), address) from None
    return reply
