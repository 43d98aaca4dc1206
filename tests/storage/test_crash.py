"""kill -9 while writing: every acknowledged put survives and the database stays consistent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.records import SearchQuery
from node.storage.catalogue import CatalogueStore
from node.storage.changelog import ChangeLog
from node.storage.db import Database
from node.storage.records import RecordStore

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from storage.factories import make_record
from node.storage.db import Database
from node.storage.records import RecordStore

async def main():
    db = Database(Path({path!r}))
    await db.open()
    records = RecordStore(db)
    n = 0
    while True:
        batch = [make_record(n + i, title=f"王秀英结婚登记第{{n + i}}号") for i in range(1, 6)]
        n += 5
        await records.put(batch, "西湖区档案馆")
        if n % 15 == 0:  # some records get a second version
            await records.put([batch[0].next_version(title=f"更正第{{n}}号")], "西湖区档案馆")
        print(n, flush=True)  # acknowledged: everything up to R<n> was put

asyncio.run(main())
"""


@pytest.mark.asyncio
async def test_acknowledged_puts_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    script = WRITER.format(tests=str(ROOT / "tests"), path=str(path))
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    acknowledged = 0
    deadline = time.monotonic() + 30
    try:
        assert proc.stdout is not None
        while acknowledged < 300 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acknowledged = int(line)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert acknowledged >= 300, stderr

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    db = Database(path)
    await db.open()
    try:
        records, catalogue, log = RecordStore(db), CatalogueStore(db), ChangeLog(db)
        for n in range(1, acknowledged + 1):
            record = await records.get(f"R{n}")
            if n % 15 == 11 and n + 4 <= acknowledged:  # its second version was put
                assert record.version == 2
        stored = await records.count()
        assert stored >= acknowledged
        assert await catalogue.count() == stored
        head = await log.head()

        def log_state(conn: sqlite3.Connection) -> tuple[list[int], int, int]:
            seqs = [r[0] for r in conn.execute("SELECT seq FROM changes ORDER BY seq")]
            versions = conn.execute("SELECT count(*), sum(version) FROM catalogue").fetchone()
            return seqs, versions[0], versions[1]

        seqs, entries, version_sum = await db.read(log_state)
        assert seqs == list(range(1, head + 1))  # gap-free
        assert head == version_sum  # one change per accepted version, no more, no less
        assert entries == stored
        page = await catalogue.search(SearchQuery(text="结婚登记", limit=1))
        corrected = await catalogue.search(SearchQuery(text="更正", limit=1))
        assert page.total + corrected.total == stored
        await db.write(
            lambda c: c.execute(
                "INSERT INTO catalogue_fts(catalogue_fts) VALUES ('integrity-check')"
            )
        )
    finally:
        await db.close()
