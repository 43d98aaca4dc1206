"""Raw gRPC calls for adversarial tests: exactly these bytes to one node's listener."""

from __future__ import annotations

import grpc
from grpc import aio

from .network import Network

BIG_CHANNEL = [("grpc.max_send_message_length", 64 * 1024 * 1024)]


async def raw_call(
    net: Network, to: str, method: str, request: bytes
) -> tuple[grpc.StatusCode, str]:
    """Send ``request`` to the listener of node ``to``; its status code and details."""
    address = f"127.0.0.1:{net.hosts[to].grpc.port}"
    async with aio.insecure_channel(address, options=BIG_CHANNEL) as channel:
        try:
            await channel.unary_unary(method)(request, timeout=10)
        except aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


async def raw_reply(net: Network, to: str, method: str, request: bytes) -> bytes:
    """Send ``request`` and return the reply bytes (the call must succeed)."""
    address = f"127.0.0.1:{net.hosts[to].grpc.port}"
    async with aio.insecure_channel(address) as channel:
        reply: bytes = await channel.unary_unary(method)(request, timeout=10)
    return reply
