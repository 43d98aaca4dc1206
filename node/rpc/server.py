"""The gRPC listener of a daemon: the federation service, health, and (admin) reflection.

Handlers take and return raw bytes (no deserialiser), so signatures are checked over exactly
what arrived; the ``Dispatcher`` picks the hosted node each call is for.

With TLS identities the federation listener serves TLS only (``tls.py``); the admin listener
(health and reflection, for operators on the machine) stays plaintext. One daemon per port:
gRPC would otherwise bind with ``SO_REUSEPORT``, so a second daemon started on a port in use
would start silently and the kernel would split the calls between the two. It is turned off,
and a port that is taken fails the start with ``PortInUse``.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from node.errors import PortInUse
from node.federation.dispatch import Dispatcher
from node.federation.messages import CALLS, MAX_MESSAGE_BYTES, SERVICE
from node.rpc.generated.archive.v1 import federation_pb2
from node.rpc.interceptors import ErrorToStatusInterceptor
from node.rpc.tls import server_credentials
from node.tlscert import TlsIdentity

SERVICE_NAME = "archive.v1.Federation"
FEDERATION_SERVICE = federation_pb2.DESCRIPTOR.services_by_name["Federation"]  # from the .proto
KEEPALIVE_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]
SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # Clients ping every 30 s; allow it, or the server answers pings with GOAWAY.
    ("grpc.http2.min_ping_interval_without_data_ms", 20_000),
    # one daemon per port: a second listener on a port in use must fail, not share it
    ("grpc.so_reuseport", 0),
    *KEEPALIVE_OPTIONS,
]


def _federation_handler(dispatcher: Dispatcher) -> grpc.GenericRpcHandler:
    def unary(method: str) -> grpc.RpcMethodHandler:
        async def handle(request: bytes, context: aio.ServicerContext[Any, Any]) -> bytes:
            return await dispatcher.unary(method, request, context.peer())

        return grpc.unary_unary_rpc_method_handler(handle)

    def stream(method: str) -> grpc.RpcMethodHandler:
        async def handle(
            request: bytes, context: aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[bytes]:
            async for part in dispatcher.stream(method, request, context.peer()):
                yield part

        return grpc.unary_stream_rpc_method_handler(handle)

    return grpc.method_handlers_generic_handler(
        SERVICE_NAME,
        {
            method.removeprefix(SERVICE): stream(method) if call.streaming else unary(method)
            for method, call in CALLS.items()  # every call of the registry, nothing listed here
        },
    )


class GrpcServer:
    """One gRPC listener for every node a daemon hosts, plus an optional admin listener."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        address: str,
        admin_address: str | None = None,
        tls: Sequence[TlsIdentity] = (),
    ) -> None:
        self.dispatcher = dispatcher
        self.address = address
        self.admin_address = admin_address
        self.tls = tuple(tls)
        self.port = 0
        self.admin_port = 0
        self.health = HealthServicer()
        self._server: aio.Server | None = None
        self._admin: aio.Server | None = None

    async def start(self) -> None:
        server = aio.server(interceptors=[ErrorToStatusInterceptor()], options=SERVER_OPTIONS)
        server.add_generic_rpc_handlers([_federation_handler(self.dispatcher)])
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        self.port = _bind(server, self.address, self.tls, "gRPC", "--grpc-port / host.grpc_listen")
        await server.start()
        self._server = server
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        await self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
        if self.admin_address:
            admin = aio.server(options=SERVER_OPTIONS)
            health_pb2_grpc.add_HealthServicer_to_server(self.health, admin)
            names = (
                FEDERATION_SERVICE.full_name,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            )
            reflection.enable_server_reflection(names, admin)
            try:
                self.admin_port = _bind(
                    admin, self.admin_address, (), "gRPC 管理", "host.admin_listen"
                )
            except PortInUse:
                await server.stop(None)  # nothing half-started is left listening
                self._server = None
                raise
            await admin.start()
            self._admin = admin

    async def stop(self, grace: float = 2.0) -> None:
        if self._server is None and self._admin is None:
            return
        await self.health.enter_graceful_shutdown()
        for server in (self._admin, self._server):
            if server is not None:
                await server.stop(grace)
        self._server = self._admin = None


def _bind(
    server: aio.Server, address: str, tls: Sequence[TlsIdentity], what: str, option: str
) -> int:
    """Bind ``address`` (TLS when identities are given); a port in use raises ``PortInUse``."""
    if _taken(address):  # before gRPC tries, which would log a C-core error line first
        raise PortInUse(what, address, option)
    try:
        if tls:
            port = server.add_secure_port(address, server_credentials(tls))
        else:
            port = server.add_insecure_port(address)
    except RuntimeError:  # grpcio raises this when the bind fails (no reuse: port taken)
        port = 0
    if port == 0:
        raise PortInUse(what, address, option)
    return port


def _taken(address: str) -> bool:
    """Whether another socket listens on ``address``'s port (bound as gRPC binds, with
    ``SO_REUSEADDR`` and without ``SO_REUSEPORT``). Port 0 is never taken."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if int(port) == 0:
        return False
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host or ("::" if family == socket.AF_INET6 else "0.0.0.0"), int(port)))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False
