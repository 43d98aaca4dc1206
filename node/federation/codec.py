"""The encoding the federation speaks through; implemented by ``rpc/codec.py`` (protobuf).

Keeping it an interface keeps generated code inside ``rpc/`` and lets the protocol logic be
tested with the real codec but no transport.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from node.digests import RepairCounts
from node.federation.messages import (
    CompareReply,
    CompareRequest,
    ContentManifest,
    DirectoryPage,
    DirectoryRequest,
    EnrolApplication,
    EnrolStatus,
    Envelope,
    FetchPart,
    FetchRequest,
    Heartbeat,
    HeartbeatReply,
    PushAck,
    PushBatch,
    RenewReply,
    RenewRequest,
    RepairRequest,
    TrustReport,
    TrustReportAck,
)
from node.records import SearchPage, SearchQuery

Message = (
    Envelope
    | PushBatch
    | PushAck
    | SearchQuery
    | SearchPage
    | FetchRequest
    | ContentManifest
    | FetchPart
    | Heartbeat
    | HeartbeatReply
    | DirectoryRequest
    | DirectoryPage
    | EnrolApplication
    | EnrolStatus
    | RenewRequest
    | RenewReply
    | TrustReport
    | TrustReportAck
    | CompareRequest
    | CompareReply
    | RepairRequest
    | RepairCounts
)
M = TypeVar("M", bound=Message)


class Codec(Protocol):
    def encode(self, message: Message) -> bytes:
        """Serialise a domain message."""
        ...

    def decode(self, kind: type[M], data: bytes) -> M:
        """Parse ``data`` as ``kind``; raise ``ProtocolError`` if it is not one."""
        ...
