"""Scheduled work (APScheduler): the periodic catalogue push, anti-entropy with the parent,
trust upkeep (directory refresh, unreported trust events, certificate renewal), audit
checkpoints, the appraisal scan (records due for opening or disposal review), utilisation
requests' upkeep (lapsed approvals; ``RequestDesk.run_scheduled``) and fixity checks
(``FixityChecker.run_scheduled``) of every hosted node.

Job bodies are plain methods of the objects they drive (``CataloguePusher.wake``,
``CatalogueRepairer.run_scheduled``, ``TrustKeeper.tick``, ``AuditCheckpointer.run_scheduled``,
``Appraisal.run_scheduled``),
so tests call them directly instead of waiting for a timer.
"""

from __future__ import annotations

from collections.abc import Iterable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from node.federation.antientropy import CatalogueRepairer
from node.federation.audit_checkpoints import AuditCheckpointer
from node.federation.requests import RequestDesk
from node.federation.services.appraisal import Appraisal
from node.federation.services.preservation import FixityChecker
from node.federation.sync import CataloguePusher
from node.federation.trust.keeper import TrustKeeper


def build_scheduler(
    pushers: Iterable[CataloguePusher],
    sync_interval_s: float,
    keepers: Iterable[TrustKeeper] = (),
    trust_interval_s: float = 300.0,
    repairers: Iterable[CatalogueRepairer] = (),
    anti_entropy_interval_s: float = 3600.0,
    checkpointers: Iterable[AuditCheckpointer] = (),
    checkpoint_interval_s: float = 300.0,
    appraisers: Iterable[Appraisal] = (),
    appraisal_interval_s: float = 86400.0,
    desks: Iterable[RequestDesk] = (),
    requests_interval_s: float = 3600.0,
    *,
    fixity: Iterable[FixityChecker] = (),
    fixity_interval_s: float = 3600.0,
) -> AsyncIOScheduler:
    """Every hosted node's jobs. Anti-entropy runs are jittered by up to a tenth of their
    interval, so a county hosting hundreds of villages, or a parent with many children, does
    not see all of them compare at once."""
    scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    for pusher in pushers:
        scheduler.add_job(
            pusher.wake,
            "interval",
            seconds=sync_interval_s,
            id=f"sync:{pusher.client.parts.code}",
            name=f"push catalogue {pusher.client.parts.code} -> {pusher.parent}",
        )
    for keeper in keepers:
        scheduler.add_job(
            keeper.tick,
            "interval",
            seconds=trust_interval_s,
            id=f"trust:{keeper.code}",
            name=f"trust upkeep of {keeper.code}",
        )
    for repairer in repairers:
        scheduler.add_job(
            repairer.run_scheduled,
            "interval",
            seconds=anti_entropy_interval_s,
            jitter=anti_entropy_interval_s / 10,
            id=f"anti-entropy:{repairer.code}",
            name=f"anti-entropy {repairer.code} -> {repairer.parent}",
        )
    for checkpointer in checkpointers:
        scheduler.add_job(
            checkpointer.run_scheduled,
            "interval",
            seconds=checkpoint_interval_s,
            jitter=checkpoint_interval_s / 10,
            id=f"audit:{checkpointer.code}",
            name=f"audit checkpoint {checkpointer.code} -> {checkpointer.parent or '-'}",
        )
    for appraiser in appraisers:
        scheduler.add_job(
            appraiser.run_scheduled,
            "interval",
            seconds=appraisal_interval_s,
            jitter=appraisal_interval_s / 10,
            id=f"appraisal:{appraiser.code}",
            name=f"appraisal scan of {appraiser.code}",
        )
    for desk in desks:
        scheduler.add_job(
            desk.run_scheduled,
            "interval",
            seconds=requests_interval_s,
            jitter=requests_interval_s / 10,
            id=f"requests:{desk.parts.code}",
            name=f"utilisation requests upkeep of {desk.parts.code}",
        )
    for checker in fixity:
        # spread over time: each run checks one slice, and the nodes' runs are jittered by
        # up to half the interval so a host's disks are not all read at once
        scheduler.add_job(
            checker.run_scheduled,
            "interval",
            seconds=fixity_interval_s,
            jitter=fixity_interval_s / 2,
            id=f"fixity:{checker.code}",
            name=f"fixity check of {checker.code}",
        )
    return scheduler
