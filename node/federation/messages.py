"""The federation's messages, and its one registry of calls.

The dataclasses are the domain forms of what travels between nodes (``rpc/codec/`` maps them
to protobuf, one module per family). ``CALLS``, at the end, names every call once: its gRPC
method, the request its envelope carries and the reply. What else lists calls or messages is
derived from it: the methods the gRPC server serves (``rpc/server.py``), the handlers the
server must have (``handlers.py``) and the ``MESSAGE_TYPES`` the codec must convert (checked
when ``rpc/codec`` is imported).

Method names are part of every signature, so they are plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.audit import Checkpoint
from node.certificates import Certificate
from node.digests import EntryDigest, RangeDigest, RangeView, RepairCounts
from node.federation.codec import Message
from node.federation.trust.events import DirectoryHead
from node.records import CatalogueEntry, SearchPage, SearchQuery
from node.requests import StateChange, UtilisationRequest

SERVICE = "/archive.v1.Federation/"
REPLY_SUFFIX = "#reply"
MANIFEST_SUFFIX = "#manifest"

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# What a sender puts in one payload: room is left for the envelope, its certificate chain and
# the relays' envelopes around it. Senders of many entries (the pusher, the repairer) split a
# batch that would be larger, since a message over the limit is refused on every retry.
MAX_PAYLOAD_BYTES = MAX_MESSAGE_BYTES - 256 * 1024
CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class Envelope:
    """A signed call, reply or piece of evidence (docs/architecture.md, "The wire")."""

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
    request_id: str = ""  # an approved utilisation request: a sealed delivery (requests.py)


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
    # a sealed delivery: the real manifest sealed to the requester; the fields above empty
    sealed_manifest: bytes = b""


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
    tls_sha256: bytes = b""  # empty: keep the TLS certificate the current one pins


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


@dataclass(frozen=True)
class AuditCheckpointRequest:
    """A child's signed checkpoint of its audit log, with the entry hashes after
    ``from_size`` (the size the parent last accepted) that prove it extends that one.
    Without a checkpoint: a question, what has the parent witnessed of me?"""

    checkpoint: Checkpoint | None
    from_size: int = 0
    entry_hashes: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class AuditCheckpointAck:
    status: str  # "accepted", "refused", "resend" (send hashes from witnessed.size), "witnessed"
    witnessed: Checkpoint | None  # the latest checkpoint of the child the parent holds
    reason: str = ""  # zh-CN, when refused or resend


@dataclass(frozen=True)
class IndexKeysRequest:
    """A child asks its parent for the network's live index keys."""

    known_version: int = 0  # the newest version the child holds (0: none)


@dataclass(frozen=True)
class IndexKeysReply:
    """The live index keys sealed to the caller's key (``b""``: nothing newer, or none)."""

    newest_version: int = 0
    sealed_keys: bytes = b""


@dataclass(frozen=True)
class SubmitRequest:
    """A utilisation request on its way to the holder; the personal part sealed to it."""

    request: UtilisationRequest
    sealed_personal: bytes


@dataclass(frozen=True)
class SubmitAck:
    request_id: str
    change: StateChange | None  # the holder's decision, if made at once (by rule)
    holder_due_ms: int


@dataclass(frozen=True)
class RequestUpdate:
    change: StateChange
    record_title: str = ""  # with an approval, from the holder
    archival_code: str = ""


@dataclass(frozen=True)
class RequestUpdateAck:
    request_id: str
    state: str


# -- the registry of calls -------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One federation call: its gRPC method and the payloads of its request and reply."""

    method: str
    request: type[Message]
    reply: type[Message]  # the payload of the signed reply; for a stream, the type of every part
    streaming: bool = False
    # Signed by the key the request asks to have certified, not by a certified node's key:
    # the server authenticates it from the request itself (enrolment).
    self_signed: bool = False
    carries: tuple[type[Message], ...] = ()  # payloads signed inside the reply (a fetch's manifest)


CALLS: dict[str, Call] = {}


def _call(
    name: str,
    request: type[Message],
    reply: type[Message],
    *,
    streaming: bool = False,
    self_signed: bool = False,
    carries: tuple[type[Message], ...] = (),
) -> str:
    method = SERVICE + name
    CALLS[method] = Call(method, request, reply, streaming, self_signed, carries)
    return method


# Catalogue (catalogue.proto, federation/catalogue_handlers.py)
PUSH = _call("PushCatalogue", PushBatch, PushAck)
SEARCH = _call("Search", SearchQuery, SearchPage)
FETCH = _call("Fetch", FetchRequest, FetchPart, streaming=True, carries=(ContentManifest,))
# Trust (trust.proto, federation/trust/handlers.py)
HEARTBEAT = _call("Heartbeat", Heartbeat, HeartbeatReply)
GET_DIRECTORY = _call("GetDirectory", DirectoryRequest, DirectoryPage)
ENROL = _call("Enrol", EnrolApplication, EnrolStatus, self_signed=True)
RENEW = _call("Renew", RenewRequest, RenewReply)
REPORT_TRUST = _call("ReportTrust", TrustReport, TrustReportAck)
# Anti-entropy (antientropy.proto, federation/catalogue_handlers.py)
COMPARE = _call("CompareCatalogue", CompareRequest, CompareReply)
REPAIR = _call("RepairCatalogue", RepairRequest, RepairCounts)
# Audit (audit.proto, federation/audit_handlers.py)
AUDIT_CHECKPOINT = _call("AuditCheckpoint", AuditCheckpointRequest, AuditCheckpointAck)
# Identity index (blindindex.proto, federation/blind_index_handlers.py)
INDEX_KEYS = _call("IndexKeys", IndexKeysRequest, IndexKeysReply)
# Utilisation requests (requests.proto, federation/request_handlers.py)
SUBMIT_REQUEST = _call("SubmitRequest", SubmitRequest, SubmitAck)
REQUEST_UPDATE = _call("RequestUpdate", RequestUpdate, RequestUpdateAck)

# Every type the codec encodes: the envelope, and what the calls carry inside one.
MESSAGE_TYPES: frozenset[type[Message]] = frozenset(
    {Envelope}
    | {call.request for call in CALLS.values()}
    | {call.reply for call in CALLS.values()}
    | {kind for call in CALLS.values() for kind in call.carries}
)
