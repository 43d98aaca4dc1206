"""Enrolment as the parent: applications from would-be children, and the operator's decision.

An applicant (``applicant.py``, the child's side) sends its code, name, address and the key
it wants certified, signed by that key. The parent records the application; nothing is
signed until an operator approves it (``registry enrol approve --key-id`` or the registry
web page), naming the key id they checked against what the applicant handed over out of
band. The approved chain is reported to the registry and kept with the application, so the
applicant's next call gets it back.

Hijacking is closed three ways. An application is pinned to the key it was made with: an
application for the same code with another key is refused while the first is pending (or
approved for a certificate that still counts); only the operator's rejection frees the code.
There is deliberately no online "replace, signed by the first key": an applicant who still
holds the first key needs no replacement, and one who lost it must talk to the operator
anyway. Approval names the key id, and is refused if the application's key is not that one.
Applications are rate limited per address (``limits.py``), so squatting on codes is slow
and the operator sees it in the list.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from node.certificates import Application, Certificate
from node.config import TrustSettings
from node.crypto import key_id_of
from node.errors import Forbidden, InvalidInput, NotFound, Overloaded
from node.federation.messages import EnrolApplication, EnrolStatus
from node.federation.trust.directory import Directory
from node.federation.trust.grant import grant_child
from node.federation.trust.limits import WindowLimiter, address_of
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
        self.calls = WindowLimiter(settings.enrol_calls_per_minute, 60.0)
        self.new_applications = WindowLimiter(settings.enrol_applications_per_hour, 3600.0)

    @property
    def code(self) -> str:
        return self.directory.code

    async def receive_application(
        self, application: EnrolApplication, peer: str = ""
    ) -> EnrolStatus:
        """A would-be child asked to join (from transport address ``peer``, "" in process):
        record it, or answer how it was decided."""
        code = validate_code(application.code)
        who = address_of(peer) or f"code:{code}"
        self.calls.count(
            who,
            f"入网申请过于频繁，请一分钟后再试（too many enrolment calls from {who}）",
        )
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
        new = known is None or known.public_key != application.public_key
        replaceable = known is not None and self._replaceable(known)
        if new:
            if known is not None and not replaceable:
                raise _pinned(code, known)  # pinned to the key it was made with
            if not self.new_applications.allows(who):
                raise Overloaded(
                    "本地址提交的新入网申请过多，请一小时后再试或联系上级节点运维人员"
                    f"（too many new enrolment applications from {who}）"
                )
            if await self.store.count_pending() >= MAX_PENDING_APPLICATIONS:
                raise Forbidden("待审批的入网申请过多，请联系上级节点运维人员")
        stored = await self.store.apply(
            code,
            application.name.strip(),
            application.public_key,
            application.address,
            may_replace_approved=replaceable,
        )
        if stored.public_key != application.public_key:  # another key holds (or won) the code
            raise _pinned(code, stored)
        if new:
            self.new_applications.count(who, "本地址提交的新入网申请过多")
            log.info(
                "enrolment application from %s (%s, key %s, from %s) is pending",
                code,
                stored.name,
                key_id_of(stored.public_key),
                who,
            )
        return _status_of(stored)

    def _replaceable(self, known: Application) -> bool:
        """An approved application may give way to a new key once its certificate no longer
        counts (revoked, retired or expired): re-enrolment after a stolen key."""
        if known.status != "approved" or not known.chain_json:
            return known.status == "rejected"
        leaf = _chain_from_json(known.chain_json)[0]
        now = self.directory.now_ms
        refusal = self.directory.state.refusal(leaf, now, live=True)
        return not leaf.valid_at(now) or refusal is not None

    async def approve(self, code: str, key_id: str) -> tuple[Certificate, ...]:
        """The operator approved ``code``'s application for the key ``key_id`` they checked:
        sign its certificate, report it."""
        application = await self._pending(code)
        actual = key_id_of(application.public_key)
        if key_id.strip() != actual:
            raise InvalidInput(_key_changed(code, key_id, actual))
        chain = grant_child(
            self.directory.parts.signer,
            self.directory.state.certificates.get(code, []),
            code=code,
            name=application.name,
            public_key=application.public_key,
            address=application.address,
            lifetime_ms=self.settings.cert_lifetime_ms,
        )
        # only if still pending for that key: a rejection and a new application in between
        # must not be approved by this click
        if not await self.store.decide(
            code, application.public_key, "approved", _chain_json(chain)
        ):
            raise InvalidInput(_key_changed(code, key_id, "?"))
        await self.reports.report([chain[0]])
        log.info("enrolled %s with key %s (serial %d)", code, actual, chain[0].serial)
        return chain

    async def reject(self, code: str, note: str = "") -> None:
        application = await self._pending(code)
        await self.store.decide(code, application.public_key, "rejected", note=note)
        log.info("enrolment of %s rejected: %s", code, note)

    async def applications(self, status: str | None = None) -> list[Application]:
        return await self.store.applications(status)

    async def _pending(self, code: str) -> Application:
        application = await self.store.application(code)
        if application is None or application.status != "pending":
            raise NotFound(f"没有 {code} 的待审批入网申请")
        return application


def _pinned(code: str, known: Application) -> Forbidden:
    """The refusal of an application for ``code`` with a key other than ``known``'s."""
    pinned = key_id_of(known.public_key)
    if known.status == "approved":
        return Forbidden(
            f"{code} 已以密钥 {pinned} 入网；更换密钥请在该节点运行 registry rotate，"
            "密钥失窃请先由上级吊销后再申请"
            f"（{code} is already enrolled with key {pinned}）"
        )
    return Forbidden(
        f"{code} 已有以密钥 {pinned} 提交的待审批入网申请，不能以另一密钥再次申请；"
        "如原申请有误，请联系上级节点运维人员先拒绝原申请"
        f"（a pending application for {code} is pinned to key {pinned}）"
    )


def _key_changed(code: str, checked: str, actual: str) -> str:
    return (
        f"{code} 的入网申请密钥已变更（核对的是 {checked or '空'}，申请现为 {actual}），"
        "未批准；请重新与申请方核对密钥标识后再批准"
        f"（the application's key changed: re-check the key id with the applicant）"
    )


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
