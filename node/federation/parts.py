"""The pieces of one node that the federation logic works with, built by ``node.node.Node``."""

from __future__ import annotations

from dataclasses import dataclass

from node.federation.codec import Codec
from node.federation.envelope import Signer
from node.federation.transport import Transport
from node.federation.trust.verify import Gatekeeper
from node.storage.audit import AuditLog
from node.storage.blobs import BlobStore
from node.storage.catalogue import CatalogueStore
from node.storage.changelog import ChangeLog
from node.storage.peers import PeerStateStore
from node.storage.records import RecordStore
from node.storage.requests import RequestStore


@dataclass
class NodeParts:
    code: str
    name: str
    signer: Signer
    gatekeeper: Gatekeeper
    codec: Codec
    transport: Transport
    records: RecordStore
    catalogue: CatalogueStore
    changelog: ChangeLog
    peers: PeerStateStore
    blobs: BlobStore
    audit: AuditLog
    requests: RequestStore
    call_timeout: float = 10.0
    fetch_timeout: float = 120.0
