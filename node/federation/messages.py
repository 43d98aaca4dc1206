"""Domain forms of what travels between nodes; ``rpc/codec.py`` maps them to protobuf.

Method names are part of every signature, so they live here as plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.certificates import Certificate
from node.records import CatalogueEntry

SERVICE = "/archive.v1.Federation/"
PUSH = SERVICE + "PushCatalogue"
SEARCH = SERVICE + "Search"
FETCH = SERVICE + "Fetch"
HEARTBEAT = SERVICE + "Heartbeat"
REPLY_SUFFIX = "#reply"
MANIFEST_SUFFIX = "#manifest"

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class Envelope:
    """A signed call, reply or piece of evidence (DESIGN section 5)."""

    origin: str
    destination: str
    key_id: str
    timestamp_ms: int
    nonce: bytes
    transaction_id: str
    relayed: bool
    payload: bytes
    signature: bytes = b""
    chain: tuple[Certificate, ...] = ()


@dataclass(frozen=True)
class PushBatch:
    batch_id: str
    from_seq: int
    to_seq: int
    entries: tuple[CatalogueEntry, ...]


@dataclass(frozen=True)
class PushAck:
    cursor: int
    applied: int


@dataclass(frozen=True)
class FetchRequest:
    holder: str
    record_id: str
    file_name: str = ""


@dataclass(frozen=True)
class ContentManifest:
    """What a fetch's chunks are; signed by the holder, so it is evidence."""

    holder: str
    record_id: str
    version: int
    file_name: str
    media_type: str
    size: int
    sha256: str
    chunk_size: int
    chunk_sha256: tuple[bytes, ...]
    title: str
    archival_code: str


@dataclass(frozen=True)
class FetchPart:
    """One message of a fetch stream: the signed manifest first, then chunks."""

    manifest: Envelope | None = None
    chunk: bytes = b""


@dataclass(frozen=True)
class Heartbeat:
    change_head: int


@dataclass(frozen=True)
class HeartbeatReply:
    cursor: int
