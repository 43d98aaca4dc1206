"""Use-case services: what the web API, the pages and the CLI (through the API) ask of a node.

One module per use case, each with a ``typing.Protocol`` (what callers may rely on), the
implementation over the node's parts, and the frozen dataclasses it answers with:

    search      ``SearchService``      the catalogue of the network, over a scope
    retrieval   ``RetrievalService``   a record's content from its holder, verified
    ingest      ``IngestService``      records (and their content) into this node
    sync_admin  ``SyncAdminService``   node and link status, retry now, repair the catalogue
    trust_admin ``TrustAdminService``  the operator's enrolment, keys, revocation, bans, aliases
    refusals    ``RefusalsService``    the calls this node turned away, and how many it took
    audit       ``AuditService``       the audit log: entries, verification, checkpoints
    accounts    ``AccountsService``    staff logins (password, session, API token), accounts, roles
    requests    ``RequestService``     utilisation requests: file, follow, decide, collect
    copies      ``CopyService``        certified copies: issue as the holder, look up, verify, print

``NodeServices`` bundles one node's services with its ``NodeInfo``; ``node.node.Node`` builds
it and ``node.web.create_app`` serves a mapping of them. The services are transport-free
(like the rest of ``node.federation``); the web test fake implements the same Protocols.
"""

from node.federation.services.accounts import AccountsService, IssuedToken, Session
from node.federation.services.audit import AuditReport, AuditService, CheckpointStatus
from node.federation.services.bundle import NodeServices
from node.federation.services.copies import CopyLookup, CopyService
from node.federation.services.info import NodeInfo
from node.federation.services.ingest import IngestReport, IngestService
from node.federation.services.refusals import RefusalsService, RefusalSummary
from node.federation.services.requests import RequestListing, RequestService, RequestView
from node.federation.services.retrieval import Fetched, RetrievalService
from node.federation.services.search import SearchService
from node.federation.services.sync_admin import (
    ChildSyncStatus,
    LinkStatus,
    NodeStatus,
    SyncAdminService,
    SyncStatus,
)
from node.federation.services.trust_admin import (
    BannedKey,
    CodeAlias,
    IndexKeyStatus,
    RevokedNode,
    TrustAdminService,
    TrustListing,
    TrustOverview,
)

__all__ = [
    "AuditReport",
    "AuditService",
    "CheckpointStatus",
    "CopyLookup",
    "CopyService",
    "AccountsService",
    "IssuedToken",
    "Session",
    "ChildSyncStatus",
    "Fetched",
    "IngestReport",
    "IngestService",
    "LinkStatus",
    "NodeInfo",
    "NodeServices",
    "NodeStatus",
    "RefusalSummary",
    "RefusalsService",
    "RequestListing",
    "RequestService",
    "RequestView",
    "RetrievalService",
    "SearchService",
    "SyncAdminService",
    "SyncStatus",
    "BannedKey",
    "CodeAlias",
    "IndexKeyStatus",
    "RevokedNode",
    "TrustAdminService",
    "TrustListing",
    "TrustOverview",
]
