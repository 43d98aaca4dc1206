"""The identity index call answered at the parent: a child's ``IndexKeys``.

``BlindIndex.answer`` does the work (only a direct child is answered, with the live keys
sealed to the key its call was signed with); this module registers it and encodes the reply.
"""

from __future__ import annotations

from node.federation.blind_index import BlindIndex
from node.federation.handlers import HandlerRegistry
from node.federation.messages import INDEX_KEYS, Envelope
from node.federation.parts import NodeParts


def register(handlers: HandlerRegistry, parts: NodeParts, blind_index: BlindIndex) -> None:
    async def index_keys(call: Envelope) -> bytes:
        return parts.codec.encode(await blind_index.answer(call))

    handlers.unary(INDEX_KEYS, index_keys)
