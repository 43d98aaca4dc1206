"""``kill -9`` during a package ingest leaves nothing half written: a real subprocess ingests a
large package and is killed as it starts storing; the database then holds none of the
package or all of it, with the change log and the audit log agreeing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from .kit import row, write_package

ROWS = 20_000
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from node.accounts import console_actor
    from node.simulate import Network, tree

    async def main(data: Path, package: Path) -> None:
        net = await Network.start(data, tree("33", "3301"))
        service = net.service("3301").preservation
        job = service.start_ingest(package, mode="all", actor=console_actor("3301"), remove=False)
        while job.state != "storing":
            await asyncio.sleep(0.001)
        print("storing", flush=True)
        while job.state == "storing":
            await asyncio.sleep(0.001)
        print("done", job.state, job.error, flush=True)
        await net.stop()

    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
    """
)


@pytest.mark.slow
def test_kill_9_while_storing_a_package_leaves_all_or_nothing(tmp_path: Path) -> None:
    rows = [row(i, 档号=f"J001-SB·2010-Y-{i:04d}") for i in range(1, 10_000)]
    rows += [row(i, 档号=f"J001-SB·2011-Y-{i:04d}") for i in range(1, ROWS - 10_000 + 2)]
    package = write_package(tmp_path / "package", rows, {})
    script = tmp_path / "ingest.py"
    script.write_text(SCRIPT)
    with subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "data"), str(package)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    ) as proc:  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        if line.strip() != "storing":
            pytest.fail(proc.stderr.read())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with closing(sqlite3.connect(tmp_path / "data" / "3301" / "node.db")) as db:
        counts = _counts(db)
    records, changes, ingests, packages = counts
    assert records in (0, len(rows)), counts
    assert changes == ingests == records and packages == (1 if records else 0), counts


def _counts(db: sqlite3.Connection) -> tuple[int, int, int, int]:
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    records = db.execute("SELECT count(*) FROM records").fetchone()[0]
    changes = db.execute("SELECT count(*) FROM changes WHERE holder = '3301'").fetchone()[0]
    ingests = db.execute("SELECT count(*) FROM audit_log WHERE act = 'ingest'").fetchone()[0]
    packages = db.execute(
        "SELECT count(*) FROM audit_log WHERE act = 'preservation.ingestion'"
    ).fetchone()[0]
    return records, changes, ingests, packages
