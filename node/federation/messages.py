"""Domain forms of what travels between nodes; ``rpc/codec.py`` maps them to protobuf.

Method names are part of every signature, so they live here as plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.certificates import Certificate
from node.digests import EntryDigest, RangeDigest, RangeView
from node.federation.trust.events import DirectoryHead
from node.records import CatalogueEntry

SERVICE = "/archive.v1.Federation/"
PUSH = SERVICE + "PushCatalogue"
SEARCH = SERVICE + "Search"
FETCH = SERVICE + "Fetch"
HEARTBEAT = SERVICE + "Heartbeat"
GET_DIRECTORY = SERVICE + "GetDirectory"
ENROL = SERVICE + "Enrol"
RENEW = SERVICE + "Renew"
REPORT_TRUST = SERVICE + "ReportTrust"
COMPARE = SERVICE + "CompareCatalogue"
REPAIR = SERVICE + "RepairCatalogue"
UNARY_METHODS = (
    PUSH, SEARCH, HEARTBEAT, GET_DIRECTORY, ENROL, RENEW, REPORT_TRUST, COMPARE, REPAIR,
)  # fmt: skip
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
    directory_version: int = 0


@dataclass(frozen=True)
class HeartbeatReply:
    cursor: int
    directory_version: int = 0


@dataclass(frozen=True)
class DirectoryRequest:
    after_version: int
    limit: int = 0  # 0 = the server's page size


@dataclass(frozen=True)
class DirectoryPage:
    head: DirectoryHead | None  # None while the answering node has no directory yet
    first_version: int
    events: tuple[bytes, ...]


@dataclass(frozen=True)
class EnrolApplication:
    code: str
    name: str
    public_key: bytes
    address: str


@dataclass(frozen=True)
class EnrolStatus:
    status: str  # "pending", "approved" or "rejected"
    message: str
    chain: tuple[Certificate, ...] = ()


@dataclass(frozen=True)
class RenewRequest:
    new_public_key: bytes = b""  # empty: renew the current key
    address: str = ""


@dataclass(frozen=True)
class RenewReply:
    chain: tuple[Certificate, ...]


@dataclass(frozen=True)
class TrustReport:
    events: tuple[bytes, ...]


@dataclass(frozen=True)
class TrustReportAck:
    directory_version: int


@dataclass(frozen=True)
class CompareRequest:
    """A child's digests of ranges of its subtree catalogue (anti-entropy)."""

    ranges: tuple[RangeDigest, ...]
    deep: bool = False  # entry digests over every field (else key, version, tombstone)


@dataclass(frozen=True)
class CompareReply:
    """The parent's views of the ranges whose digests differ from its own."""

    differing: tuple[RangeView, ...]


@dataclass(frozen=True)
class RepairRequest:
    """The child's copies of differing entries, each with the parent's digest as compared,
    and the entries the child does not hold."""

    entries: tuple[tuple[CatalogueEntry, bytes], ...]
    removals: tuple[EntryDigest, ...]
    deep: bool = False  # which digests the expected ones are
