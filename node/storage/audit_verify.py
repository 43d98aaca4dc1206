"""Verifying the audit log: one walk over every entry against its hash, the chain and the
checkpoints (``node/audit.py`` has the hashing rules, ``storage/audit.py`` the log itself).

Split from ``storage/audit.py`` because it is the one read that must see the whole log and
say where it first went wrong, not how the log is written.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from node.audit import (
    GENESIS,
    AuditFinding,
    AuditVerification,
    WitnessMark,
    entry_hash,
    link,
)

_BATCH = 5_000  # rows per read while verifying


def _size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0])


def _rows(conn: sqlite3.Connection) -> Iterator[tuple[Any, ...]]:
    after = 0
    while True:
        rows = conn.execute(
            "SELECT seq, at_ms, actor, act, subject, detail, entry_hash, chain_hash "
            "FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, _BATCH),
        ).fetchall()
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def verify_txn(conn: sqlite3.Connection, marks: Sequence[WitnessMark]) -> AuditVerification:
    """Walk the whole log once: every seq present and in order, every entry matching its hash,
    every link matching the chain, and the chain matching every head in ``marks``.

    Local checks find an entry edited, deleted or moved in place. An attacker who rewrites the
    hashes too (truncate and re-extend) leaves a log that is consistent in itself; then the
    first checkpoint whose head differs shows it, and the first entry in question is the one
    after the last checkpoint that still matches.
    """
    by_size: dict[int, list[WitnessMark]] = collections.defaultdict(list)
    for mark in marks:
        by_size[mark.size].append(mark)
    expected, head, good_upto = 1, GENESIS, 0
    checked = 0
    finding: AuditFinding | None = None
    for seq, at_ms, actor, act, subject, detail, stored_entry, stored_chain in _rows(conn):
        if seq != expected:
            finding = AuditFinding(
                expected,
                "deleted",
                f"第 {expected} 条日志缺失（下一条是第 {seq} 条）：日志被删改，"
                "请保全数据库文件并报告上级。",
                seq - 1,
            )
            break
        if entry_hash(at_ms, actor, act, subject, detail) != bytes(stored_entry):
            finding = AuditFinding(
                seq, "edited", f"第 {seq} 条日志的内容与其哈希不符：该条被修改过。", seq
            )
            break
        head = link(head, bytes(stored_entry))
        if head != bytes(stored_chain):
            finding = AuditFinding(
                seq,
                "moved",
                f"第 {seq} 条日志与前一条链接不上：日志顺序被调换，或其前有条目被删除。",
                seq,
            )
            break
        for mark in by_size.get(seq, ()):
            checked += 1
            if mark.head != head:
                finding = _rewritten(good_upto, seq, mark)
                break
        if finding:
            break
        if seq in by_size:
            good_upto = seq
        expected = seq + 1
    size = _size(conn)
    if finding is None:
        beyond = sorted(m.size for m in marks if m.size > size)
        if beyond:
            finding = AuditFinding(
                size + 1,
                "truncated",
                f"日志只有 {size} 条，但检查点已见证 {beyond[-1]} 条：第 {size + 1} 条起被删除。",
                beyond[-1],
            )
    return AuditVerification(finding is None, size, head, checked, finding)


def _rewritten(good_upto: int, seq: int, mark: WitnessMark) -> AuditFinding:
    who = "本节点签名的检查点" if mark.source == "self" else f"上级 {mark.source} 见证的检查点"
    first = good_upto + 1
    return AuditFinding(
        first,
        "rewritten",
        f"日志与{who}（第 {seq} 条处）不符：第 {first} 至 {seq} 条之间的日志被改写"
        f"（第 {good_upto} 条及以前与检查点一致）。请保全数据库文件并报告上级。",
        seq,
    )
