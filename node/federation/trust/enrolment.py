"""Enrolment as the parent: applications from would-be children, and the operator's decision.

An applicant (``applicant.py``, the child's side) sends its code, name, address and the key
it wants certified, signed by that key. The parent records the application; nothing is
signed until an operator approves it (``registry enrol approve`` or the registry web page),
having checked the key id against what the applicant handed over out of band. The approved
chain is reported to the registry and kept with the application, so the applicant's next
call gets it back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from node.certificates import Application, Certificate
from node.config import TrustSettings
from node.errors import Forbidden, InvalidInput, NotFound
from node.federation.messages import EnrolApplication, EnrolStatus
from node.federation.trust.directory import Directory
from node.federation.trust.grant import grant_child
from node.federation.trust.reports import Reporter
from node.identity import parent_of, validate_code
from node.storage.trust import TrustStore

log = logging.getLogger(__name__)

MAX_PENDING_APPLICATIONS = 1_000


class Enrolment:
    """The applications this node has received from its would-be children."""

    def __init__(
        self,
        store: TrustStore,
        directory: Directory,
        reports: Reporter,
        settings: TrustSettings,
    ) -> None:
        self.store = store
        self.directory = directory
        self.reports = reports
        self.settings = settings

    @property
    def code(self) -> str:
        return self.directory.code

    async def receive_application(self, application: EnrolApplication) -> EnrolStatus:
        """A would-be child asked to join: record it (or answer how it was decided)."""
        code = validate_code(application.code)
        if parent_of(code) != self.code:
            raise Forbidden(
                f"{code} 不是 {self.code} 的直接下级，"
                f"应向其上级 {parent_of(code) or '根登记处'} 申请入网"
            )
        if len(application.public_key) != 32:
            raise InvalidInput("入网申请中的公钥应为 32 字节")
        if not application.name.strip():
            raise InvalidInput("入网申请须写明档案馆（室）名称")
        known = await self.store.application(code)
        if (
            known is None or known.public_key != application.public_key
        ) and await self.store.count_pending() >= MAX_PENDING_APPLICATIONS:
            raise Forbidden("待审批的入网申请过多，请联系上级节点运维人员")
        stored = await self.store.apply(
            code, application.name.strip(), application.public_key, application.address
        )
        if known is None or known.public_key != application.public_key:
            log.info("enrolment application from %s (%s) is pending", code, stored.name)
        return _status_of(stored)

    async def approve(self, code: str) -> tuple[Certificate, ...]:
        """The operator approved ``code``'s application: sign its certificate, report it."""
        application = await self._pending(code)
        chain = grant_child(
            self.directory.parts.signer,
            self.directory.state.certificates.get(code, []),
            code=code,
            name=application.name,
            public_key=application.public_key,
            address=application.address,
            lifetime_ms=self.settings.cert_lifetime_ms,
        )
        await self.store.decide(code, "approved", _chain_json(chain))
        await self.reports.report([chain[0]])
        log.info("enrolled %s (serial %d)", code, chain[0].serial)
        return chain

    async def reject(self, code: str, note: str = "") -> None:
        await self._pending(code)
        await self.store.decide(code, "rejected", note=note)
        log.info("enrolment of %s rejected: %s", code, note)

    async def applications(self, status: str | None = None) -> list[Application]:
        return await self.store.applications(status)

    async def _pending(self, code: str) -> Application:
        application = await self.store.application(code)
        if application is None or application.status != "pending":
            raise NotFound(f"没有 {code} 的待审批入网申请")
        return application


def _status_of(application: Application) -> EnrolStatus:
    if application.status == "approved":
        return EnrolStatus("approved", "入网申请已批准", _chain_from_json(application.chain_json))
    if application.status == "rejected":
        return EnrolStatus("rejected", f"入网申请被拒绝：{application.note or '未说明原因'}")
    return EnrolStatus("pending", "入网申请已提交，等待上级节点运维人员审批")


def _chain_json(chain: Sequence[Certificate]) -> str:
    return json.dumps([c.to_json() for c in chain], ensure_ascii=False)


def _chain_from_json(text: str) -> tuple[Certificate, ...]:
    return tuple(Certificate.from_json(c) for c in json.loads(text))
