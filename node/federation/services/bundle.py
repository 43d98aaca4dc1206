"""``NodeServices``: one node's use-case services, what the web layer is given per node.

A frozen bundle, one attribute per use case, each typed by its Protocol so the real services
(built by ``node.node.Node``) and the web tests' fake are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.federation.services.accounts import AccountsService
from node.federation.services.appraisal import AppraisalService
from node.federation.services.audit import AuditService
from node.federation.services.copies import CopyService
from node.federation.services.info import NodeInfo
from node.federation.services.ingest import IngestService
from node.federation.services.oai import OaiService
from node.federation.services.preservation import PreservationService
from node.federation.services.refusals import RefusalsService
from node.federation.services.requests import RequestService
from node.federation.services.retrieval import RetrievalService
from node.federation.services.search import SearchService
from node.federation.services.sync_admin import SyncAdminService
from node.federation.services.trust_admin import TrustAdminService


@dataclass(frozen=True)
class NodeServices:
    info: NodeInfo
    search: SearchService
    retrieval: RetrievalService
    ingest: IngestService
    sync: SyncAdminService
    trust: TrustAdminService
    refusals: RefusalsService
    audit: AuditService
    accounts: AccountsService
    requests: RequestService
    copies: CopyService
    oai: OaiService
    appraisal: AppraisalService
    # issue 11: packages, fixity, export (None where a fake or an older wiring has none)
    preservation: PreservationService | None = None
