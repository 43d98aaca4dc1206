"""Picking which hosted node a call is for, and calling hosted nodes without a socket.

One daemon can host many nodes behind one listener. The hop's envelope names the node it is
for; a first hop's envelope names the final destination instead, so the call goes to the
hosted node that is the next hop from the origin toward it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from node.errors import InvalidCode, Misaddressed, NodeError, PeerUnavailable, ProtocolError
from node.federation.codec import Codec
from node.federation.messages import MAX_MESSAGE_BYTES, Envelope
from node.federation.refusals import RefusalLog, is_refusal
from node.federation.server import FederationServer
from node.identity import next_hop


class Dispatcher:
    """Routes raw incoming calls to the ``FederationServer`` of the node they are for."""

    def __init__(self, codec: Codec, refusals: RefusalLog | None = None) -> None:
        self.codec = codec
        self.refusals = refusals or RefusalLog()
        self.servers: dict[str, FederationServer] = {}

    def add(self, server: FederationServer) -> None:
        self.servers[server.code] = server

    def hosts(self, code: str) -> bool:
        return code in self.servers

    def _pick(self, request: bytes) -> tuple[FederationServer, Envelope]:
        if len(request) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"request of {len(request)} bytes is over the size limit")
        envelope = self.codec.decode(Envelope, request)
        server = self.servers.get(envelope.destination)
        if server is None and not envelope.relayed:
            try:
                server = self.servers.get(next_hop(envelope.origin, envelope.destination))
            except InvalidCode:
                server = None
        if server is None:
            raise Misaddressed(f"no node hosted here takes calls for {envelope.destination!r}")
        return server, envelope

    async def unary(self, method: str, request: bytes, peer: str = "") -> bytes:
        server: FederationServer | None = None
        envelope: Envelope | None = None
        try:
            server, envelope = self._pick(request)
            return await server.unary(method, request, envelope, peer)
        except NodeError as exc:
            self._record_refusal(exc, method, server, envelope, peer)
            raise

    async def stream(self, method: str, request: bytes, peer: str = "") -> AsyncIterator[bytes]:
        server: FederationServer | None = None
        envelope: Envelope | None = None
        try:
            server, envelope = self._pick(request)
            async for part in server.stream(method, request, envelope):
                yield part
        except NodeError as exc:
            self._record_refusal(exc, method, server, envelope, peer)
            raise

    def _record_refusal(
        self,
        exc: NodeError,
        method: str,
        server: FederationServer | None,
        envelope: Envelope | None,
        peer: str,
    ) -> None:
        if is_refusal(exc):
            self.refusals.refused(
                exc,
                node=server.code if server else "",
                method=method,
                origin=envelope.origin if envelope else "",
                peer=peer,
            )


class LocalTransport:
    """Calls nodes hosted in this process directly; they still verify every envelope."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def unary(self, neighbour: str, method: str, request: bytes, timeout: float) -> bytes:
        if not self.dispatcher.hosts(neighbour):
            raise PeerUnavailable(f"节点 {neighbour} 不由本守护进程托管")
        try:
            return await asyncio.wait_for(self.dispatcher.unary(method, request), timeout)
        except NodeError as exc:
            exc.from_peer = neighbour  # audited where it was raised, not again by relays
            raise
        except TimeoutError:
            raise PeerUnavailable(f"节点 {neighbour} 未在 {timeout:g} 秒内应答") from None

    async def stream(
        self, neighbour: str, method: str, request: bytes, timeout: float
    ) -> AsyncIterator[bytes]:
        if not self.dispatcher.hosts(neighbour):
            raise PeerUnavailable(f"节点 {neighbour} 不由本守护进程托管")
        try:
            async with asyncio.timeout(timeout):
                async for part in self.dispatcher.stream(method, request):
                    yield part
        except NodeError as exc:
            exc.from_peer = neighbour
            raise
