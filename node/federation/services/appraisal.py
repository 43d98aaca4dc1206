"""Appraisal (鉴定): opening review and disposal review of this node's own records.

The scheduled scan (``Appraisal.run_scheduled``, an APScheduler job in ``node/jobs.py``)
lists records that reached their opening date (formation + 25 years by default, per
category in ``[appraisal]``) and records whose retention period ran out. Nothing opens or is
destroyed by itself: an archivist decides, in batches and with a reason, on the page or by
CLI, and each decision is audited in the same transaction as its effect:

- open: a new version of the record with ``access = open``; its catalogue entry now carries
  the real title and the persons' names, and travels up the tree like any new version;
- keep: the record stays as it is (still controlled or closed; or kept past its retention);
- dispose: a new version that is a tombstone (``deleted``) keeping its 档号 and the
  decision (``disposal``), which travels up as every tombstone does. The content is not
  erased here: destroying the paper and the scans is the archive's own procedure.

Every catalogue above reflects the change within one push, and the OAI-PMH feed of every
level shows it (an opened record appears, a disposed one is a deleted header).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node.actors import Actor, node_actor
from node.audit import Act
from node.config_sections import DEFAULT_APPRAISAL, AppraisalSettings
from node.errors import InvalidInput
from node.federation.parts import NodeParts
from node.fields import text
from node.records import CATEGORIES, Access, Record
from node.storage import appraisal as store
from node.storage.appraisal import DISPOSAL, KINDS, OPENING, AppraisalStore, ReviewItem

MAX_DECISION_RECORDS = 500  # records decided in one batch
MAX_REASON_CHARS = 200
MAX_PAGE = 200

_DECISIONS = {
    "open": (OPENING, "opened", Act.APPRAISAL_OPEN),
    "dispose": (DISPOSAL, "disposed", Act.APPRAISAL_DISPOSE),
}


@dataclass(frozen=True)
class ScanReport:
    opening: int  # records newly listed for opening review
    disposal: int  # records newly listed for disposal review


@dataclass(frozen=True)
class ReviewPage:
    kind: str
    total: int
    items: tuple[ReviewItem, ...]


@dataclass(frozen=True)
class Decided:
    decision: str  # open, keep, dispose
    kind: str
    records: tuple[str, ...]


@runtime_checkable
class AppraisalService(Protocol):
    async def scan(self, *, actor: Actor) -> ScanReport:
        """List the records that became due for opening or disposal review."""
        ...

    async def pending(self, kind: str, limit: int = 50, offset: int = 0) -> ReviewPage:
        """The records of ``kind`` (``opening`` or ``disposal``) awaiting a decision."""
        ...

    async def decide(
        self, decision: str, kind: str, record_ids: Sequence[str], reason: str, *, actor: Actor
    ) -> Decided:
        """Take ``decision`` (``open``, ``keep`` or ``dispose``) on listed records.

        Raises ``InvalidInput`` (zh-CN, saying what to do) if the decision does not fit the
        list, a record is not awaiting it, the reason is missing, or the batch is too big;
        then nothing is decided.
        """
        ...


def check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise InvalidInput("鉴定清单应为 opening（开放鉴定）或 disposal（销毁鉴定）")
    return str(kind)


class Appraisal:
    """``AppraisalService`` over this node's records."""

    def __init__(
        self,
        parts: NodeParts,
        reviews: AppraisalStore,
        on_catalogue_changed: Callable[[], None],
        settings: AppraisalSettings = DEFAULT_APPRAISAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.parts = parts
        self.reviews = reviews
        self.on_catalogue_changed = on_catalogue_changed
        self.settings = settings
        self.clock = clock

    @property
    def code(self) -> str:
        return self.parts.code

    async def run_scheduled(self) -> ScanReport:
        """The job's body: scan as the node itself."""
        return await self.scan(actor=node_actor(self.code))

    async def scan(self, *, actor: Actor) -> ScanReport:
        now = self.clock()
        today = time.strftime("%Y-%m-%d", time.localtime(now))
        years = {c: self.settings.opening_after(c) for c in CATEGORIES}
        added = await self.reviews.scan(today, years, now)
        report = ScanReport(added[OPENING], added[DISPOSAL])
        if report.opening or report.disposal:
            await self.parts.audit.append(
                actor, Act.APPRAISAL_SCAN, self.code, {"opening": report.opening,
                                                       "disposal": report.disposal}
            )  # fmt: skip
        return report

    async def pending(self, kind: str, limit: int = 50, offset: int = 0) -> ReviewPage:
        kind = check_kind(kind)
        if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= 10**9:
            raise InvalidInput(f"每页条数应为 1 到 {MAX_PAGE}，起始位置不能为负")
        total, items = await self.reviews.pending(kind, limit, offset)
        return ReviewPage(kind, total, tuple(items))

    async def decide(
        self, decision: str, kind: str, record_ids: Sequence[str], reason: str, *, actor: Actor
    ) -> Decided:
        kind = check_kind(kind)
        if decision == "keep":
            status, act = "kept", Act.APPRAISAL_KEEP
        elif decision in _DECISIONS and _DECISIONS[decision][0] == kind:
            _, status, act = _DECISIONS[decision]
        else:
            raise InvalidInput(
                "开放鉴定清单上可以“开放”或“维持”，销毁鉴定清单上可以“销毁”或“维持”。请重新选择。"
            )
        ids = list(dict.fromkeys(record_ids))
        if not ids or len(ids) > MAX_DECISION_RECORDS:
            raise InvalidInput(f"请选择要鉴定的档案（每批 1 到 {MAX_DECISION_RECORDS} 件）")
        reason = text(reason, "鉴定理由", MAX_REASON_CHARS, lines=True).strip()
        if not reason:
            raise InvalidInput("请填写鉴定理由（如：已满开放期限，经审查无不宜开放内容）")
        items = await self.reviews.items(kind, ids)
        waiting = {i.record_id for i in items if i.status == store.PENDING}
        missing = [r for r in ids if r not in waiting]
        if missing:
            raise InvalidInput(
                f"档案 {missing[0][:64]} 不在待{'开放' if kind == OPENING else '销毁'}鉴定清单上"
                "（可能已有人作出决定）。请刷新清单后重试。"
            )
        at = self.clock()
        day = time.strftime("%Y-%m-%d", time.localtime(at))
        records = [await self.parts.records.get(r) for r in ids]
        changed = [
            new for r in records if (new := self._changed(r, decision, day, reason)) is not None
        ]
        entries = [
            (actor, str(act), f"{self.code}/{r}", {"kind": kind, "reason": reason}) for r in ids
        ]
        audit = self.parts.audit.hook(entries)
        who = actor.label

        def also(conn: sqlite3.Connection) -> None:
            store.decide_txn(conn, kind, ids, status, who, reason, at)
            audit(conn)

        if changed:  # the new versions, the decision and its audit entries: one transaction
            await self.parts.records.put(changed, self.parts.name, also=also)
            self.on_catalogue_changed()  # the new versions go up at once
        else:
            await self.reviews.write(also)
        return Decided(decision, kind, tuple(ids))

    @staticmethod
    def _changed(record: Record, decision: str, day: str, reason: str) -> Record | None:
        if decision == "open":
            return record.next_version(access=Access.OPEN)
        if decision == "dispose":
            return record.next_version(deleted=True, disposal=f"{day} 鉴定销毁：{reason}")
        return None
