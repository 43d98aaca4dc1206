"""The audit log store on a real SQLite file: appending three ways, paging and filtering, and
verification naming the first entry tampered with by editing the file directly (sqlite3)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from node.actors import ANONYMOUS, Actor, ActorKind, Role, node_actor
from node.audit import GENESIS, MASK, Act, AuditQuery, Checkpoint, WitnessMark, audit_query
from node.crypto import SigningKey
from node.errors import InvalidInput
from node.storage.audit import AuditLog, append_txn, draft
from node.storage.db import Database

pytestmark = pytest.mark.asyncio

CLERK = Actor(ActorKind.ACCOUNT, "wang", "330106", frozenset({Role.CLERK}))


async def _log_of(path: Path, n: int) -> list[WitnessMark]:
    """A closed database at ``path`` with ``n`` entries; the head after every entry."""
    db = Database(path)
    await db.open()
    audit = AuditLog(db, "330106")
    heads = []
    for i in range(1, n + 1):
        await audit.append(CLERK, Act.SEARCH, "33", {"q": f"张三 {i}", "total": i})
        size, head = await audit.head()
        heads.append(WitnessMark(size, head, "self"))
    await db.close()
    return heads


async def _verify(path: Path, marks: list[WitnessMark] | None = None):  # type: ignore[no-untyped-def]
    db = Database(path)
    await db.open()
    try:
        return await AuditLog(db, "330106").verify(marks or [])
    finally:
        await db.close()


def _edit(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


async def test_an_intact_log_verifies_against_every_head(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    heads = await _log_of(path, 10)
    result = await _verify(path, heads)
    assert result.ok and result.finding is None
    assert (result.size, result.head) == (10, heads[-1].head)
    assert result.checkpoints_checked == 10


async def test_an_edited_detail_is_named(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    await _log_of(path, 10)
    _edit(path, """UPDATE audit_log SET detail = '{"q":"李四","total":5}' WHERE seq = 5""")
    result = await _verify(path)
    assert not result.ok and result.finding is not None
    assert (result.finding.seq, result.finding.kind) == (5, "edited")
    assert "第 5 条" in result.finding.message


async def test_an_edited_actor_is_named(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    await _log_of(path, 6)
    _edit(path, "UPDATE audit_log SET actor = 'anonymous' WHERE seq = 2")
    finding = (await _verify(path)).finding
    assert finding is not None and (finding.seq, finding.kind) == (2, "edited")


async def test_a_deleted_entry_is_named(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    await _log_of(path, 10)
    _edit(path, "DELETE FROM audit_log WHERE seq = 4")
    finding = (await _verify(path)).finding
    assert finding is not None and (finding.seq, finding.kind) == (4, "deleted")


async def test_a_deleted_entry_with_the_rest_renumbered_is_named(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    await _log_of(path, 10)
    _edit(
        path,
        "DELETE FROM audit_log WHERE seq = 4",
        "UPDATE audit_log SET seq = seq - 1 WHERE seq > 4",
    )
    finding = (await _verify(path)).finding
    assert finding is not None and (finding.seq, finding.kind) == (4, "moved")


async def test_two_swapped_entries_are_named(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    await _log_of(path, 10)
    _edit(
        path,
        "UPDATE audit_log SET seq = -3 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 7",
        "UPDATE audit_log SET seq = 7 WHERE seq = -3",
    )
    finding = (await _verify(path)).finding
    assert finding is not None and (finding.seq, finding.kind) == (3, "moved")


async def test_dropping_the_newest_entries_is_caught_by_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    heads = await _log_of(path, 10)
    _edit(path, "DELETE FROM audit_log WHERE seq > 7")
    assert (await _verify(path)).ok  # consistent in itself: only a witness can tell
    finding = (await _verify(path, [heads[9]])).finding
    assert finding is not None and (finding.seq, finding.kind) == (8, "truncated")


def _forge(path: Path, keep: int, extra: int) -> None:
    """Truncate after ``keep`` and append ``extra`` forged entries with correct hashes, as
    an attacker who knows the algorithm (but not the witness's copy) would."""
    _edit(path, f"DELETE FROM audit_log WHERE seq > {keep}")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        forged = [draft(ANONYMOUS, Act.SEARCH, "33", {"q": "无事发生"}, 1) for _ in range(extra)]
        append_txn(conn, forged)
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_truncated_and_re_extended_is_placed_between_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    heads = await _log_of(path, 10)
    _forge(path, keep=5, extra=7)  # entries 6.. are forged, hashes and all
    assert (await _verify(path)).ok  # nothing local can tell
    # checkpoints at 4 and 8: entry 5 is still original but cannot be told apart from 6-8
    result = await _verify(path, [heads[3], heads[7]])
    assert result.finding is not None
    assert (result.finding.kind, result.finding.seq, result.finding.last_seq) == (
        "rewritten",
        5,
        8,
    )
    # with a checkpoint at 5 as well, the first forged entry is named exactly
    finding = (await _verify(path, [heads[3], heads[4], heads[7]])).finding
    assert finding is not None and (finding.seq, finding.kind) == (6, "rewritten")


async def test_queued_entries_are_written_in_order_and_before_a_hooked_write(
    db: Database,
) -> None:
    audit = AuditLog(db, "330106")
    audit.note(CLERK, Act.SEARCH, "33", {"q": "1"})
    audit.note(CLERK, Act.FETCH, "330106/R-1")
    hook = audit.hook([(CLERK, Act.INGEST, "330106/R-2", {"version": 1})])
    await db.write(lambda conn: hook(conn))
    page = await audit.page(AuditQuery(limit=10))
    assert [e.act for e in reversed(page.entries)] == ["search", "fetch", "ingest"]
    audit.note(CLERK, Act.SEARCH, "33", {"q": "2"})
    await audit.flush()
    assert (await audit.head())[0] == 4
    assert (await audit.verify([])).ok


async def test_a_hook_whose_transaction_fails_leaves_no_entry(db: Database) -> None:
    audit = AuditLog(db, "330106")
    hook = audit.hook([(CLERK, Act.INGEST, "330106/R-2", None)])

    def failing(conn: sqlite3.Connection) -> None:
        hook(conn)
        raise InvalidInput("the act failed")

    with pytest.raises(InvalidInput):
        await db.write(failing)
    assert await audit.head() == (0, GENESIS)


async def test_pages_filter_by_person_act_and_record(db: Database) -> None:
    audit = AuditLog(db, "330106")
    other = Actor(ActorKind.ACCOUNT, "li", "330106")
    for i in range(5):
        await audit.append(CLERK, Act.SEARCH, "33", {"q": str(i)})
    await audit.append(other, Act.FETCH, "330106/R-1")
    await audit.append(CLERK, Act.FETCH, "330106/R-2")
    by_wang = await audit.page(audit_query(actor="wang", limit=3))
    assert [e.seq for e in by_wang.entries] == [7, 5, 4] and by_wang.next_before == 4
    older = await audit.page(audit_query(actor="wang", limit=3, before=by_wang.next_before))
    assert [e.seq for e in older.entries] == [3, 2, 1] and older.next_before == 0
    fetches = await audit.page(audit_query(act="fetch"))
    assert [e.subject for e in fetches.entries] == ["330106/R-2", "330106/R-1"]
    record = await audit.page(audit_query(subject="330106/R-1"))
    assert [e.actor for e in record.entries] == ["account:li@330106"]
    assert record.size == 7


async def test_identity_numbers_never_reach_the_file(db: Database) -> None:
    audit = AuditLog(db, "330106")
    number = "33010619800101123X"
    await audit.append(CLERK, Act.SEARCH, "33", {"q": f"张三 {number}", "more": [number]})
    await audit.append(CLERK, Act.FETCH, f"330106/{number}")
    text = await db.read(lambda c: repr(c.execute("SELECT * FROM audit_log").fetchall()))
    assert number not in text and MASK in text
    assert "330106" in text  # division codes are not identity numbers


def _signed(key: SigningKey, size: int, head: bytes) -> Checkpoint:
    unsigned = Checkpoint("330106001", size, head, 1, key.key_id)
    return Checkpoint(*list(vars(unsigned).values())[:5], key.sign(unsigned.signing_input()))


async def test_the_witness_accepts_extensions_and_refuses_forks_in_its_own_log(
    tmp_path: Path, db: Database
) -> None:
    child_path = tmp_path / "child.db"
    heads = await _log_of(child_path, 6)
    child_db = Database(child_path)
    await child_db.open()
    child = AuditLog(child_db, "330106001")
    key = SigningKey.generate()
    witness = AuditLog(db, "330106")
    by = node_actor("330106001", "330106")

    first = _signed(key, 3, heads[2].head)
    assert (await witness.witness(first, 0, (), by))[0] == "accepted"
    second = _signed(key, 6, heads[5].head)
    assert (await witness.witness(second, 0, (), by))[0] == "resend"  # hashes from 3 needed
    status, seen, _ = await witness.witness(second, 3, await child.hashes_between(3, 6), by)
    assert status == "accepted" and seen == second
    assert (await witness.witness(second, 6, (), by))[0] == "accepted"  # the same again

    forged = _signed(key, 8, bytes(32))
    status, seen, reason = await witness.witness(forged, 6, [bytes(32)] * 2, by)
    assert status == "refused" and seen == second and "延续" in reason
    shorter = _signed(key, 5, heads[4].head)
    assert (await witness.witness(shorter, 6, (), by))[0] == "refused"
    assert await witness.witnessed("330106001") == second
    refusals = await witness.page(audit_query(act=Act.CHECKPOINT_REFUSED))
    assert [e.subject for e in refusals.entries] == ["330106001", "330106001"]
    assert refusals.entries[-1].actor == "node:330106001@330106"
    await child_db.close()
