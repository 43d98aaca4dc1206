"""Scheduled work (APScheduler): the periodic catalogue push of every hosted node.

Job bodies are plain methods of the objects they drive (``CataloguePusher.wake``), so tests
call them directly instead of waiting for a timer.
"""

from __future__ import annotations

from collections.abc import Iterable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from node.federation.sync import CataloguePusher


def build_scheduler(pushers: Iterable[CataloguePusher], sync_interval_s: float) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    for pusher in pushers:
        scheduler.add_job(
            pusher.wake,
            "interval",
            seconds=sync_interval_s,
            id=f"sync:{pusher.client.parts.code}",
            name=f"push catalogue {pusher.client.parts.code} -> {pusher.parent}",
        )
    return scheduler
