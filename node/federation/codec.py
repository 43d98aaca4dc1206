"""The encoding the federation speaks through; implemented by ``rpc/codec/`` (protobuf).

Keeping it an interface keeps generated code inside ``rpc/`` and lets the protocol logic be
tested with the real codec but no transport. Which types are messages is not listed here:
``messages.MESSAGE_TYPES`` derives them from the registry of calls, and the protobuf codec
refuses to load unless it converts exactly those.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, TypeVar


class Message(Protocol):
    """A message is a (frozen) dataclass; which dataclasses are is ``MESSAGE_TYPES``."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


M = TypeVar("M", bound=Message)


class Codec(Protocol):
    def encode(self, message: Message) -> bytes:
        """Serialise a domain message."""
        ...

    def decode(self, kind: type[M], data: bytes) -> M:
        """Parse ``data`` as ``kind``; raise ``ProtocolError`` if it is not one."""
        ...
