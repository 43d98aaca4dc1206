"""How a node reaches its neighbours: raw request bytes in, raw reply bytes out.

Implemented over gRPC by ``rpc/peers.py`` and in-process (for nodes hosted by the same
daemon) by ``federation/dispatch.py``. Errors come back as ``NodeError`` subclasses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class Transport(Protocol):
    async def unary(self, neighbour: str, method: str, request: bytes, timeout: float) -> bytes:
        """One call to the neighbour node ``neighbour``; its reply bytes."""
        ...

    def stream(
        self, neighbour: str, method: str, request: bytes, timeout: float
    ) -> AsyncIterator[bytes]:
        """A server-streaming call; yields each reply message's bytes."""
        ...
