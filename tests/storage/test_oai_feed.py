"""The OAI-PMH feed's store: datestamps bumped by every accepted version, an entry once open
stays in the feed (as not open), order and set prefixes, and the upgrade of rows held
before migration 0014."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from node.records import Access, CatalogueEntry, Retention
from node.storage.catalogue import CatalogueStore
from node.storage.db import Database
from node.storage.migrations import MIGRATIONS, migrate
from node.storage.oai import FeedWindow, OaiFeed


def entry(
    holder: str, record_id: str, access: Access = Access.OPEN, **changes: object
) -> CatalogueEntry:
    base = CatalogueEntry(
        holder=holder, record_id=record_id, version=1, archival_code="J001-HY·2015-Y-0001",
        category="婚姻登记", year=2015, retention=Retention.PERMANENT, title="题名",
        creator="民政局", access=access,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_an_entry_once_open_stays_and_every_version_is_stamped(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.db")
    await db.open()
    try:
        store, feed = CatalogueStore(db), OaiFeed(db)
        await store.apply([
            entry("330106001", "A"), entry("330106001001", "B"),
            entry("330106002", "C", Access.CONTROLLED), entry("330110", "D"),
        ])  # fmt: skip
        items = await feed.page(FeedWindow(), (0, 0), 10)
        assert [i.entry.record_id for i in items] == ["A", "B", "D"]  # never-open C is not in
        assert await feed.count(FeedWindow("330106")) == 2  # a county's set: its subtree
        assert [i.entry.record_id for i in await feed.page(FeedWindow("330106001"), (0, 0), 9)] == [
            "A", "B"
        ]  # fmt: skip
        first = items[0].stamp
        assert abs(first - time.time()) < 5 and await feed.earliest() == first
        # closed: still in the feed, now as a tombstone; a window after it resumes past it
        await store.apply([entry("330106001", "A", Access.CLOSED, version=2, deleted=True)])
        closed = await feed.item("330106001", "A")
        assert closed is not None and closed.entry.deleted and closed.stamp >= first
        after = await feed.page(FeedWindow(), (items[-1].stamp, items[-1].id), 10)
        assert [i.entry.record_id for i in after] == (["A"] if closed.stamp > first else [])
        # opened later: C joins the feed
        await store.apply([entry("330106002", "C", version=2)])
        assert await feed.item("330106002", "C") is not None
        assert await feed.count(FeedWindow(since=2**40)) == 0
        assert [h for h, _ in await feed.holders()] == [
            "330106001", "330106001001", "330106002", "330110"
        ]  # fmt: skip
    finally:
        await db.close()


def test_rows_held_before_0014_are_stamped_and_open_ones_shown(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "node.db", isolation_level=None)
    migrate(conn, [step for step in MIGRATIONS if step[0] < "0014"])
    for record_id, access, deleted in (
        ("R1", "open", 0),
        ("R2", "controlled", 0),
        ("R3", "open", 1),
    ):
        conn.execute(
            "INSERT INTO catalogue(holder, record_id, version, archival_code, category, year, "
            "retention, title, creator, access, holder_name, subjects, subject_index, "
            "content_sha256, content_size, deleted) VALUES ('330106', ?, 1, 'x', '婚姻登记', "
            "2015, '永久', 't', 'c', ?, 'h', '[]', '[]', '', 0, ?)",
            (record_id, access, deleted),
        )
    conn.execute(
        "INSERT INTO changes(seq, holder, record_id, version, at) "
        "VALUES (1, '330106', 'R1', 1, 1000.5)"
    )
    assert "0014_appraisal" in migrate(conn)
    rows = conn.execute(
        "SELECT record_id, shown, stamp, disposal FROM catalogue ORDER BY record_id"
    )
    got = {r[0]: r[1:] for r in rows}
    assert got["R1"] == (1, 1000, "")
    assert got["R2"][0] == 0 and got["R3"][0] == 0 and got["R2"][1] > 1000
