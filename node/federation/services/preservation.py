"""Preservation: ingesting transfer packages after the four-property check, fixity, export.

- ``ingest_package``: open the package safely and check it (``node/transfer.py``,
  ``node/fourcheck.py``) on a worker thread, then store its records and content. A record
  already stored unchanged is left alone (re-ingesting a package is a no-op); a changed one is
  stored as the next version, which the catalogue push carries up. All records of a package
  go in ONE transaction with their audit entries, so a crash (``kill -9``) leaves the store as
  it was or with the whole package; content is written first, each file complete under its
  hash (``storage/blobs.py``), so a crash between the two leaves only unowned content. The
  archivist chooses ``all`` (any finding: nothing stored) or ``good`` (rows with findings left
  out and reported; a finding about the whole package still stores nothing).
- ``start_ingest`` runs one as a background job whose progress ``job`` reports (the upload
  page polls it), so the node keeps serving while a large package is checked.
- ``fixity_run`` re-hashes the content checked longest ago (the scheduled job's body), logs
  every mismatch to the audit log and marks the records owning it.
- ``export`` writes records, a 档号 series or a search's records as a BagIt bag.

Each act is a PREMIS event in the audit log (``EVENTS``): ingestion, validation, format
identification, fixity check, replication (an export).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from node.actors import Actor, node_actor
from node.audit import Act
from node.bagexport import write_bag, zip_bag
from node.checkreport import CheckReport, refused
from node.errors import InvalidInput, NotFound
from node.federation.parts import NodeParts
from node.fourcheck import CheckedBatch, check_package
from node.records import Record
from node.storage.preservation import FixityFailure, PreservationStore
from node.transfer import Finding, PackageLimits, PackageRefused, open_package

EVENTS = {
    "ingestion": "preservation.ingestion",
    "validation": "preservation.validation",
    "format": "preservation.format_identification",
    "fixity": "preservation.fixity_check",
    "export": "preservation.replication",
}
MODES = ("all", "good")
MAX_JOBS = 100  # finished jobs kept for their status page; the oldest are dropped


@dataclass(frozen=True)
class PackageOutcome:
    report: CheckReport
    mode: str
    stored: int = 0  # records stored (new, or a new version)
    unchanged: int = 0  # already stored as they are
    change_head: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "stored": self.stored,
            "unchanged": self.unchanged,
            "change_head": self.change_head,
            "report": self.report.to_json(),
        }


@dataclass
class IngestJob:
    """A package being ingested in the background: what the status page shows."""

    job_id: str
    source: str
    state: str = "checking"  # checking, storing, done, failed
    done: int = 0
    total: int = 0
    started_ms: int = 0
    outcome: PackageOutcome | None = None
    error: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "job_id": self.job_id,
            "source": self.source,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "started_ms": self.started_ms,
            "error": self.error,
            "outcome": self.outcome.to_json() if self.outcome else None,
        }


@dataclass(frozen=True)
class FixityRun:
    checked: int
    failed: tuple[str, ...] = ()  # sha256 of the content that did not hash to its name


@dataclass(frozen=True)
class Exported:
    path: Path
    records: int
    files: int
    bytes: int


@runtime_checkable
class PreservationService(Protocol):
    async def ingest_package(
        self, path: Path, *, mode: str, actor: Actor, job: IngestJob | None = None
    ) -> PackageOutcome: ...
    def start_ingest(self, path: Path, *, mode: str, actor: Actor, remove: bool) -> IngestJob: ...
    def job(self, job_id: str) -> IngestJob: ...
    def upload_limit(self) -> int: ...
    async def fixity_run(self, limit: int, *, actor: Actor) -> FixityRun: ...
    async def fixity_failures(self) -> list[FixityFailure]: ...
    async def fixity_coverage(self) -> tuple[int, int]: ...
    async def export(
        self, selection: Selection, target: Path, *, actor: Actor, as_zip: bool
    ) -> Exported: ...


@dataclass(frozen=True)
class Selection:
    """What to export: record ids, a 档号 series, or both."""

    record_ids: tuple[str, ...] = ()
    series: str = ""
    limit: int = 10_000


def _same(a: Record, b: Record) -> bool:
    return replace(a, version=b.version) == b


class Preservation:
    def __init__(
        self,
        parts: NodeParts,
        store: PreservationStore,
        on_catalogue_changed: Callable[[], None],
        limits: PackageLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.parts, self.store = parts, store
        self.on_catalogue_changed = on_catalogue_changed
        self.limits = limits or PackageLimits()
        self.clock = clock
        self.jobs: dict[str, IngestJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _ms(self) -> int:
        return int(self.clock() * 1000)

    def _check(self, path: Path, mode: str, job: IngestJob | None) -> CheckedBatch:
        """On a worker thread: open and check; a refused package is a report too. The
        content of the records that will be stored is copied into the blob store here (an
        extracted zip is removed as ``with`` ends); nothing of a refused package is."""

        def progress(done: int, total: int) -> None:
            if job is not None:
                job.done, job.total = done, total

        try:
            with open_package(path, self.limits) as package:
                batch = check_package(package, self.parts.code, self._ms(), progress)
                report = batch.report
                if report.fatal or (mode == "all" and report.findings):
                    return replace(batch, records=(), contents={})
                staged = {sha: self._stage(sha, p) for sha, p in batch.contents.items()}
                return replace(batch, contents=staged)
        except PackageRefused as exc:
            return CheckedBatch(refused(str(path), self.parts.code, self._ms(), exc.findings))

    def _stage(self, checked: str, path: Path) -> Path:
        sha, _ = self.parts.blobs.put_file(path)  # content by hash: complete or absent
        if sha != checked:  # the file changed after it was checked (a folder being written)
            raise InvalidInput(f"文件 {path.name} 在检测后被改动，请在移交包不再变化时重新导入")
        return self.parts.blobs.path(sha)

    async def ingest_package(
        self, path: Path, *, mode: str, actor: Actor, job: IngestJob | None = None
    ) -> PackageOutcome:
        if mode not in MODES:
            raise InvalidInput(
                f"导入方式应为 all（全部通过才导入）或 good（只导入合格条目）: {mode!r}"
            )
        p = self.parts
        batch = await asyncio.to_thread(self._check, path, mode, job)
        report = batch.report
        if job is not None:
            job.state = "storing"
        records = list(batch.records)
        clash = await self.store.holders_of_codes(r.archival_code for r in records)
        taken = [r for r in records if clash.get(r.archival_code, r.record_id) != r.record_id]
        if taken:
            extra = tuple(
                Finding("真实性", "unique", r.archival_code,
                        f"档号已由本节点的档案 {clash[r.archival_code]} 使用")
                for r in taken
            )  # fmt: skip
            report = replace(report, findings=report.findings + extra)
            records = [r for r in records if r not in taken]
        events = self._events(actor, report)
        if report.fatal or (mode == "all" and report.findings):
            for entry in events[:2]:
                await p.audit.append(*entry)
            return PackageOutcome(report, mode, change_head=await p.changelog.head())
        stored = await self.store.records(r.record_id for r in records)
        changed: list[Record] = []
        for record in records:
            old = stored.get(record.record_id)
            if old is not None and _same(record, old):
                continue
            version = max(record.version, old.version + 1) if old else record.version
            changed.append(replace(record, version=version))
        entries = [
            *events,
            (actor, EVENTS["ingestion"], report.package[-200:],
             {"stored": len(changed), "unchanged": len(records) - len(changed), "mode": mode}),
            *[(actor, Act.INGEST.value, r.ref, {"version": r.version, "access": str(r.access)})
              for r in changed],
        ]  # fmt: skip
        if changed:
            await p.records.put(changed, p.name, also=p.audit.hook(entries))
            self.on_catalogue_changed()
        else:
            for entry in entries:
                await p.audit.append(*entry)
        return PackageOutcome(
            report, mode, len(changed), len(records) - len(changed), await p.changelog.head()
        )

    def _events(self, actor: Actor, report: CheckReport) -> list[tuple[Actor, str, str, Any]]:
        subject = report.package[-200:]
        passed = {prop: report.passed(prop) for prop in ("真实性", "完整性", "可用性", "安全性")}
        return [
            (actor, EVENTS["validation"], subject,
             {"outcome": "success" if report.ok else "failure", "rows": report.rows,
              "findings": len(report.findings), **passed}),
            (actor, EVENTS["format"], subject, {"formats": dict(report.formats)}),
        ]  # fmt: skip

    def start_ingest(self, path: Path, *, mode: str, actor: Actor, remove: bool) -> IngestJob:
        """Ingest ``path`` in the background; ``remove``: delete it when done (an upload)."""
        if mode not in MODES:
            raise InvalidInput(f"导入方式应为 all 或 good: {mode!r}")
        job = IngestJob(secrets.token_hex(8), Path(path).name, started_ms=self._ms())
        self.jobs[job.job_id] = job
        while len(self.jobs) > MAX_JOBS:
            self.jobs.pop(next(iter(self.jobs)))

        async def run() -> None:
            try:
                job.outcome = await self.ingest_package(path, mode=mode, actor=actor, job=job)
                job.state = "done"
            except Exception as exc:  # the job reports any failure; the node goes on
                job.state, job.error = "failed", str(exc)[:500]
            finally:
                if remove:
                    Path(path).unlink(missing_ok=True)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def upload_limit(self) -> int:
        """The largest package (bytes) an upload may be: ``preservation.max_package_bytes``."""
        return self.limits.max_total_bytes

    def job(self, job_id: str) -> IngestJob:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise NotFound(f"没有编号为 {job_id[:40]} 的导入任务（可能已过期）") from None

    async def fixity_run(self, limit: int, *, actor: Actor) -> FixityRun:
        """Re-hash up to ``limit`` contents (longest unchecked first); mark and log failures."""
        due = await self.store.due(limit)
        if not due:
            return FixityRun(0)
        blobs = self.parts.blobs
        results = await asyncio.to_thread(lambda: [(d, blobs.verify(d.sha256)) for d in due])
        failed = [d for d, ok in results if not ok]
        entries: list[tuple[Actor, str, str, Any]] = [
            (actor, EVENTS["fixity"], f"{self.parts.code}/{record_id}",
             {"outcome": "failure", "sha256": d.sha256, "file": name})
            for d in failed for record_id, name in d.owners
        ]  # fmt: skip
        entries.append(
            (actor, EVENTS["fixity"], self.parts.code,
             {"outcome": "failure" if failed else "success", "checked": len(due),
              "failed": len(failed)})
        )  # fmt: skip
        await self.store.record_checks(results, self._ms(), also=self.parts.audit.hook(entries))
        return FixityRun(len(due), tuple(d.sha256 for d in failed))

    async def fixity_failures(self) -> list[FixityFailure]:
        return await self.store.failures()

    async def fixity_coverage(self) -> tuple[int, int]:
        return await self.store.checked()

    async def export(
        self, selection: Selection, target: Path, *, actor: Actor, as_zip: bool
    ) -> Exported:
        """Write the selected records of this node (not deleted) as a bag at ``target``."""
        found = await self.store.records(selection.record_ids)
        missing = [i for i in selection.record_ids if i not in found]
        if missing:
            raise NotFound(f"本节点没有档案 {'、'.join(missing[:5])}")
        chosen = [r for r in found.values() if not r.deleted]
        if selection.series:
            chosen += await self.store.series(selection.series, selection.limit)
        records = list({r.record_id: r for r in chosen}.values())[: selection.limit]
        if not records:
            raise NotFound("没有符合条件的档案可导出")
        at = time.gmtime(self.clock())
        info = {
            "Source-Organization": self.parts.name,
            "External-Identifier": self.parts.code,
            "Bagging-Date": time.strftime("%Y-%m-%d", at),
            "Export-Time": time.strftime("%Y-%m-%dT%H:%M:%SZ", at),
            "Archive-Holder": self.parts.code,
        }

        def write() -> tuple[int, int]:
            if not as_zip:
                return write_bag(target, records, self.parts.blobs.path, info)
            with tempfile.TemporaryDirectory() as temp:
                folder = Path(temp) / target.stem
                counts = write_bag(folder, records, self.parts.blobs.path, info)
                zip_bag(folder, target)
                return counts

        files, size = await asyncio.to_thread(write)
        await self.parts.audit.append(
            actor, EVENTS["export"], f"{self.parts.code}/export",
            {"records": len(records), "files": files, "bytes": size, "series": selection.series},
        )  # fmt: skip
        return Exported(target, len(records), files, size)


class FixityChecker:
    """The scheduled fixity job's body (``node/jobs.py``): one slice of the store per run, as
    the node itself (``node_actor``), so the whole store is covered run by run."""

    def __init__(self, preservation: Preservation, code: str, batch: int) -> None:
        self.preservation, self.code, self.batch = preservation, code, batch

    async def run_scheduled(self) -> FixityRun:
        actor = node_actor(self.code, "fixity")
        return await self.preservation.fixity_run(self.batch, actor=actor)
