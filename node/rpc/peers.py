"""Reaching neighbours: in-process when the daemon hosts them, else over pooled gRPC channels.

Every call has a deadline; keepalive and the message size cap match the server's.

A neighbour whose certificate pins a TLS certificate (``Endpoint.tls_sha256``, from the
signed directory) is reached over TLS, and only if the server presents exactly that
certificate. grpcio's Python API has no certificate-verification callback (only root
certificates and a target-name override), so the pin is checked in two steps when a channel is
made (``tls.py``): one TLS handshake with the standard library fetches the certificate the
server presents for the neighbour's name (SNI) and compares its SHA-256 with the pin, and
then the gRPC channel trusts that certificate as its only root, with the target name
overridden to the name in it. gRPC's own handshake on every (re)connection therefore accepts
only a server holding that certificate's private key: a server that swapped certificates
after the check fails there. A host with ``host.tls = true`` never sends a federation call in
clear to another machine: a neighbour without a pin is refused, not dialled.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable

import grpc
from grpc import aio

from node.errors import PeerUnavailable
from node.federation.addresses import Endpoint
from node.federation.dispatch import Dispatcher, LocalTransport
from node.federation.messages import MAX_MESSAGE_BYTES
from node.rpc.interceptors import error_from_status
from node.rpc.server import KEEPALIVE_OPTIONS
from node.rpc.tls import pinned_certificate, presented_certificate
from node.tlscert import der_fingerprint, server_name

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

Resolver = Callable[[str], Endpoint | None]
# (neighbour, address, pin): a channel is made for one pinned certificate at one address
_ChannelKey = tuple[str, str, bytes]


class PeerTransport:
    """``node.federation.transport.Transport`` for a daemon: local nodes first, then gRPC.

    ``require_tls`` (``host.tls``): refuse to dial a neighbour whose certificate pins no TLS
    certificate, rather than send it a call in clear.
    """

    def __init__(
        self, dispatcher: Dispatcher, resolve: Resolver, require_tls: bool = False
    ) -> None:
        self.local = LocalTransport(dispatcher)
        self.dispatcher = dispatcher
        self.resolve = resolve
        self.require_tls = require_tls
        self._channels: dict[_ChannelKey, aio.Channel] = {}
        self._unary_calls: dict[tuple[_ChannelKey, str], aio.UnaryUnaryMultiCallable] = {}

    def _key(self, neighbour: str) -> _ChannelKey:
        endpoint = self.resolve(neighbour)
        if endpoint is None:
            raise PeerUnavailable(
                f"不知道节点 {neighbour} 的地址（其证书尚未到达本节点的信任目录）"
            )
        if self.require_tls and not endpoint.tls_sha256:
            raise PeerUnavailable(
                f"node {neighbour}'s certificate pins no TLS certificate; with host.tls on, "
                "federation calls are not sent in clear (docs/operations.md, TLS)"
            )
        return (neighbour, endpoint.address, endpoint.tls_sha256)

    async def _channel(self, key: _ChannelKey) -> aio.Channel:
        channel = self._channels.get(key)
        if channel is None:
            neighbour, address, pin = key
            if pin:
                pem = await pinned_certificate(neighbour, address, pin)
                if (made := self._channels.get(key)) is not None:
                    return made  # another call made it while this one checked the pin
                channel = aio.secure_channel(
                    address,
                    grpc.ssl_channel_credentials(root_certificates=pem),
                    options=[
                        *CHANNEL_OPTIONS,
                        ("grpc.ssl_target_name_override", server_name(neighbour)),
                    ],
                )
            else:
                channel = aio.insecure_channel(address, options=CHANNEL_OPTIONS)
            self._channels[key] = channel
        return channel

    async def _unary_call(self, neighbour: str, method: str) -> aio.UnaryUnaryMultiCallable:
        """The channel's callable for ``method``, made once: making it is not free per call."""
        key = self._key(neighbour)
        call = self._unary_calls.get((key, method))
        if call is None:
            channel = await self._channel(key)
            call = self._unary_calls[(key, method)] = channel.unary_unary(method)
        return call

    async def unary(self, neighbour: str, method: str, request: bytes, timeout: float) -> bytes:
        if self.dispatcher.hosts(neighbour):
            return await self.local.unary(neighbour, method, request, timeout)
        call = await self._unary_call(neighbour, method)
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
        channel = await self._channel(self._key(neighbour))
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


async def call_address_tls(
    code: str, address: str, method: str, request: bytes, timeout: float
) -> tuple[bytes, bytes]:
    """One unary call over TLS to node ``code`` at ``address``, whose pin is not known yet
    (a node applying to enrol): returns the reply and the SHA-256 of the certificate the
    server presented, for the caller to check against the chain it gets back."""
    der = await presented_certificate(code, address)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ssl.DER_cert_to_PEM_cert(der).encode("ascii")
    )
    options = [*CHANNEL_OPTIONS, ("grpc.ssl_target_name_override", server_name(code))]
    async with aio.secure_channel(address, credentials, options=options) as channel:
        try:
            reply: bytes = await channel.unary_unary(method)(request, timeout=timeout)
        except aio.AioRpcError as exc:
            raise error_from_status(exc.code(), exc.details(), address) from None
    return reply, der_fingerprint(der)
