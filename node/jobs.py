"""Scheduled work (APScheduler): the periodic catalogue push, anti-entropy with the parent,
and trust upkeep (directory refresh, unreported trust events, certificate renewal) of every
hosted node.

Job bodies are plain methods of the objects they drive (``CataloguePusher.wake``,
``CatalogueRepairer.run_scheduled``, ``TrustKeeper.tick``), so tests call them directly
instead of waiting for a timer.
"""

from __future__ import annotations

from collections.abc import Iterable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from node.federation.antientropy import CatalogueRepairer
from node.federation.keeper import TrustKeeper
from node.federation.sync import CataloguePusher


def build_scheduler(
    pushers: Iterable[CataloguePusher],
    sync_interval_s: float,
    keepers: Iterable[TrustKeeper] = (),
    trust_interval_s: float = 300.0,
) -> AsyncIOScheduler:
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
    return scheduler


def add_anti_entropy_jobs(
    scheduler: AsyncIOScheduler, repairers: Iterable[CatalogueRepairer], interval_s: float
) -> None:
    """Compare (and repair) each node's subtree catalogue with its parent's copy.

    Each run is jittered by up to a tenth of the interval, so a county hosting hundreds of
    villages, or a parent with many children, does not see all of them compare at once.
    """
    for repairer in repairers:
        scheduler.add_job(
            repairer.run_scheduled,
            "interval",
            seconds=interval_s,
            jitter=interval_s / 10,
            id=f"anti-entropy:{repairer.code}",
            name=f"anti-entropy {repairer.code} -> {repairer.parent}",
        )
