"""Originating signed calls and checking the signed replies that come back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from node.errors import AuthError, PeerUnavailable, ProtocolError
from node.federation.messages import MANIFEST_SUFFIX, REPLY_SUFFIX, Envelope, FetchPart
from node.federation.parts import NodeParts
from node.identity import next_hop


class FederationClient:
    """Sends this node's own calls toward any node, hop by hop, and verifies the answers."""

    def __init__(self, parts: NodeParts) -> None:
        self.parts = parts

    async def call(self, method: str, destination: str, payload: bytes) -> Envelope:
        """A unary call to ``destination``; returns its verified, signed reply envelope."""
        p = self.parts
        envelope = p.signer.seal(method, destination, payload)
        reply_bytes = await p.transport.unary(
            next_hop(p.code, destination), method, p.codec.encode(envelope), p.call_timeout
        )
        reply = p.codec.decode(Envelope, reply_bytes)
        self.check_answer(reply, method + REPLY_SUFFIX, destination, envelope.transaction_id)
        return reply

    async def stream(
        self, method: str, destination: str, payload: bytes
    ) -> tuple[Envelope, AsyncIterator[bytes]]:
        """A streaming call whose first part is an envelope signed by ``destination``.

        Returns that verified envelope and an iterator over the raw chunks that follow.
        """
        p = self.parts
        envelope = p.signer.seal(method, destination, payload)
        parts = p.transport.stream(
            next_hop(p.code, destination), method, p.codec.encode(envelope), p.fetch_timeout
        )
        iterator = aiter(parts)
        try:
            # The manifest comes first, as soon as the holder has hashed the file: it gets the
            # unary calls' deadline, so a fetch through a dead hop gives up as soon as a search
            # would, not after the whole stream's (``fetch_timeout``).
            first = p.codec.decode(
                FetchPart, await asyncio.wait_for(anext(iterator), p.call_timeout)
            )
        except StopAsyncIteration:
            raise ProtocolError(f"{destination} closed the stream without a manifest") from None
        except TimeoutError:
            await _close(iterator)
            raise PeerUnavailable(
                f"节点 {destination} 未在 {p.call_timeout:g} 秒内开始发送内容（途经的节点不可达或"
                "馆藏单位繁忙）"
            ) from None
        if first.manifest is None:
            raise ProtocolError(f"{destination} did not start the stream with a manifest")
        self.check_answer(
            first.manifest, method + MANIFEST_SUFFIX, destination, envelope.transaction_id
        )

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for raw in iterator:
                    part = p.codec.decode(FetchPart, raw)
                    if part.manifest is not None:
                        raise ProtocolError("a second manifest arrived in one fetch")
                    yield part.chunk
            finally:
                close = getattr(iterator, "aclose", None)
                if close is not None:
                    await close()

        return first.manifest, chunks()

    def check_answer(
        self, reply: Envelope, method: str, expected_origin: str, transaction_id: str
    ) -> None:
        self.parts.gatekeeper.verify(reply, method)
        if reply.origin != expected_origin:
            raise AuthError(f"answer signed by {reply.origin}, expected {expected_origin}")
        if reply.destination != self.parts.code:
            raise AuthError(f"answer addressed to {reply.destination}, not {self.parts.code}")
        if reply.transaction_id != transaction_id:
            raise AuthError("answer is for another transaction")


async def _close(iterator: AsyncIterator[bytes]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()
