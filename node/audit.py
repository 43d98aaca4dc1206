"""The audit log's domain: what an entry is, how entries hash into a chain, what a checkpoint
signs, and what a verification found (docs/architecture.md, "Recording an act in the audit log").

A hash chain with signed checkpoints, not an RFC 6962 Merkle tree. Why:

- An append costs two SHA-256 of a few hundred bytes and one row, in the transaction of the
  act itself; a Merkle tree needs its frontier (or interior nodes) kept and updated, and its
  proofs need interior nodes for arbitrary ranges, which means storing ~2n hashes or
  reading every leaf to make a proof.
- The witness (the parent) checks a new checkpoint against the last one it accepted by
  recomputing the chain over the entry hashes in between (32 bytes each). Checkpoints are
  sent on a schedule, so that span is what one interval appended (a few thousand entries at
  a busy county), and a long gap is sent in steps of ``MAX_SPAN`` (``AuditCheckpointer``).
  A Merkle consistency proof would be log-sized, but the saving is small at these spans and
  the child would still have to keep the tree.
- "Check the whole log" is linear in either design; the chain makes it one pass that names
  the first entry whose hash, order or link is wrong.

Chain: ``link_0 = 32 zero bytes``, ``link_i = H(tag, link_{i-1}, entry_hash_i)``, and the head
at size n is ``link_n``. The entry hash covers the time, actor, act, subject and detail text,
not the seq: order is bound only by the chain, so an entry moved elsewhere still matches its
own hash and is reported as moved, not edited.

Entries hold what happened, never an identity number in clear: ``redact`` masks any run of
15 to 18 digits (the last may be X) in the subject and every text of the detail. Query text
is kept (an audit log exists to show who looked for whom), with that mask.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from node import crypto
from node.errors import InvalidInput
from node.records import SearchPage, SearchQuery

GENESIS = bytes(32)
HASH_BYTES = 32
MAX_SPAN = 20_000  # entry hashes in one checkpoint call (640 KB, far below the 4 MiB cap)
MAX_PAGE = 200
MAX_FILTER_CHARS = 200
_ENTRY_TAG = b"archive-audit/v1 entry"
_LINK_TAG = b"archive-audit/v1 link"
_CHECKPOINT_TAG = b"archive-audit/v1 checkpoint"
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{14,17}[0-9Xx](?![0-9A-Za-z])")
MASK = "[证件号已隐去]"


class Act(StrEnum):
    """What was done (the accounts' acts are named as ``services/accounts.py`` reports them)."""

    SEARCH = "search"
    FETCH = "fetch"
    INGEST = "ingest"
    APPROVE = "trust.approve"
    REJECT = "trust.reject"
    REVOKE = "trust.revoke"
    ROTATE = "trust.rotate"
    RENEW = "trust.renew"
    REFRESH = "trust.refresh"
    BAN = "trust.ban"
    UNBAN = "trust.unban"
    ALIAS = "trust.alias"
    SYNC_RETRY = "sync.retry"
    SYNC_REPAIR = "sync.repair"
    CHILD_RENEWED = "trust.child_renewed"  # granted a child's renewal (address, TLS pin, key)
    CHILD_ADDRESS = "trust.child_address"  # a child's certified address answers as another
    CHECKPOINT_REFUSED = "audit.checkpoint_refused"  # a child's checkpoint did not extend
    CHECKPOINT_REFUSED_BY_PARENT = "audit.refused_by_parent"  # ours was refused upstream
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_PAUSED = "login_paused"  # refused while the failures' pause lasts
    LOGOUT = "logout"
    ACCOUNT_CREATE = "account_create"
    ACCOUNT_DISABLE = "account_disable"
    ACCOUNT_ENABLE = "account_enable"
    ROLE_GRANT = "role_grant"
    ROLE_REVOKE = "role_revoke"
    TOKEN_CREATE = "token_create"
    APPRAISAL_SCAN = "appraisal.scan"  # the job listed records due for review
    APPRAISAL_OPEN = "appraisal.open"
    APPRAISAL_KEEP = "appraisal.keep"
    APPRAISAL_DISPOSE = "appraisal.dispose"
    REQUEST_FILE = "request.file"  # utilisation requests (federation/requests.py)
    REQUEST_RECEIVE = "request.receive"
    REQUEST_DECIDE = "request.decide"
    REQUEST_UPDATE = "request.update"
    REQUEST_WITHDRAW = "request.withdraw"
    REQUEST_DELIVER = "request.deliver"
    REQUEST_READ = "request.read"
    REQUEST_CONTENT = "request.content"
    REQUEST_ATTORNEY = "request.attorney"
    COPY_PRINT = "copy.print"

    @property
    def zh(self) -> str:
        return _ACT_ZH[self]


_ACT_ZH = {
    Act.SEARCH: "检索",
    Act.FETCH: "调阅",
    Act.INGEST: "接收进馆",
    Act.APPROVE: "批准入网",
    Act.REJECT: "拒绝入网",
    Act.REVOKE: "吊销节点",
    Act.ROTATE: "更换密钥",
    Act.RENEW: "续签证书",
    Act.REFRESH: "刷新目录",
    Act.BAN: "封禁密钥",
    Act.UNBAN: "解除封禁",
    Act.ALIAS: "区划代码变更",
    Act.SYNC_RETRY: "立即重试推送",
    Act.SYNC_REPAIR: "目录校验修复",
    Act.CHILD_RENEWED: "为下级续签证书",
    Act.CHILD_ADDRESS: "下级证书地址有误",
    Act.CHECKPOINT_REFUSED: "拒绝下级检查点",
    Act.CHECKPOINT_REFUSED_BY_PARENT: "检查点被上级拒绝",
    Act.LOGIN: "登录",
    Act.LOGIN_FAILED: "登录失败",
    Act.LOGIN_PAUSED: "登录暂停中被拒",
    Act.LOGOUT: "退出登录",
    Act.ACCOUNT_CREATE: "新建账号",
    Act.ACCOUNT_DISABLE: "停用账号",
    Act.ACCOUNT_ENABLE: "启用账号",
    Act.ROLE_GRANT: "授予角色",
    Act.ROLE_REVOKE: "撤销角色",
    Act.TOKEN_CREATE: "签发接口令牌",
    Act.APPRAISAL_SCAN: "列入鉴定清单",
    Act.APPRAISAL_OPEN: "鉴定开放",
    Act.APPRAISAL_KEEP: "鉴定维持",
    Act.APPRAISAL_DISPOSE: "鉴定销毁",
    Act.REQUEST_FILE: "提交利用申请",
    Act.REQUEST_RECEIVE: "收到利用申请",
    Act.REQUEST_DECIDE: "审核利用申请",
    Act.REQUEST_UPDATE: "利用申请状态变更",
    Act.REQUEST_WITHDRAW: "撤回利用申请",
    Act.REQUEST_DELIVER: "利用申请送达",
    Act.REQUEST_READ: "查看利用申请",
    Act.REQUEST_CONTENT: "取阅送达内容",
    Act.REQUEST_ATTORNEY: "查看授权委托书",
    Act.COPY_PRINT: "打印档案证明",
}


def act_zh(act: str) -> str:
    """The zh-CN name of an act; an act this version does not know, as it is."""
    try:
        return Act(act).zh
    except ValueError:
        return act


def redact(value: Any) -> Any:
    """``value`` with every identity-number-like run of digits masked, recursively."""
    if isinstance(value, str):
        return _ID_NUMBER.sub(MASK, value)
    if isinstance(value, Mapping):
        return {str(k): redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def detail_text(detail: Mapping[str, Any] | None) -> str:
    """The stored (and hashed) form of a detail: canonical JSON of the redacted mapping."""
    return json.dumps(
        redact(dict(detail or {})), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def entry_hash(at_ms: int, actor: str, act: str, subject: str, detail: str) -> bytes:
    """The hash of one entry's stored fields (not its seq: see the module docstring)."""
    return crypto.sha256(crypto.signing_input(_ENTRY_TAG, at_ms, actor, act, subject, detail))


def link(previous: bytes, entry: bytes) -> bytes:
    """The chain after ``previous`` takes the entry whose hash is ``entry``."""
    return crypto.sha256(_LINK_TAG + previous + entry)


def extend(head: bytes, entry_hashes: Iterable[bytes]) -> bytes:
    """The head after appending entries with these hashes to a chain whose head is ``head``."""
    for entry in entry_hashes:
        head = link(head, entry)
    return head


def search_detail(query: SearchQuery, page: SearchPage) -> dict[str, object]:
    """What the audit log keeps of a search: the query text (a name is what clerks search
    by, and who looked for whom is what the log is for; identity numbers are masked by the
    log), the filters that were set, the total and who answered."""
    detail: dict[str, object] = {"q": query.text, "total": page.total}
    if not page.total_exact:
        detail["total_more"] = True
    if page.answered_by:
        detail["answered_by"] = page.answered_by
    for name in ("category", "year_from", "year_to", "retention", "access"):
        value = getattr(query, name)
        if value is not None:
            detail[name] = value
    if query.archival_code:
        detail["archival_code"] = query.archival_code
    if query.cursor or query.offset:
        detail["next_page"] = True
    if query.subject_index:  # by a person's identity number: which one only the asker logs
        detail["by_identity_number"] = True
    return detail


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at_ms: int
    actor: str  # ``Actor.label``
    act: str
    subject: str  # ``HOLDER/RECORD_ID``, a node code, a key id, or ""
    detail: str  # canonical JSON (``detail_text``)

    @property
    def details(self) -> dict[str, Any]:
        loaded = json.loads(self.detail)
        return loaded if isinstance(loaded, dict) else {}


@dataclass(frozen=True)
class Checkpoint:
    """A node's signed statement: my log had ``size`` entries and this head at ``at_ms``."""

    node: str
    size: int
    head: bytes
    at_ms: int
    key_id: str
    signature: bytes = b""

    def signing_input(self) -> bytes:
        return crypto.signing_input(
            _CHECKPOINT_TAG, self.node, self.size, self.head, self.at_ms, self.key_id
        )

    def signed_by(self, public_key: bytes) -> bool:
        return crypto.key_id_of(public_key) == self.key_id and crypto.verify(
            public_key, self.signing_input(), self.signature
        )


def check_checkpoint(checkpoint: Checkpoint) -> Checkpoint:
    """Refuse a checkpoint whose fields are out of range (any transport)."""
    if not 0 <= checkpoint.size < 2**63:
        raise InvalidInput(f"检查点条数超出范围: {checkpoint.size}")
    if len(checkpoint.head) != HASH_BYTES:
        raise InvalidInput("检查点的链头哈希应为 32 字节")
    if not 0 <= checkpoint.at_ms < 2**63:
        raise InvalidInput(f"检查点时间超出范围: {checkpoint.at_ms}")
    return checkpoint


@dataclass(frozen=True)
class AuditQuery:
    """A page of the log, newest first, optionally filtered. Built by ``audit_query``."""

    actor: str = ""  # exact actor label, or a substring of it (a person's account name)
    act: str = ""  # exact act
    subject: str = ""  # exact subject (a record ref ``HOLDER/RECORD_ID``, a code)
    before: int = 0  # entries with seq below this (0: from the newest)
    limit: int = 50
    after: int = 0  # instead: the oldest ``limit`` entries with seq above this (a newer page)


def audit_query(
    actor: str = "",
    act: str = "",
    subject: str = "",
    before: object = 0,
    limit: object = 50,
    after: object = 0,
) -> AuditQuery:
    """A checked ``AuditQuery``; ``InvalidInput`` (zh-CN) for anything out of range."""
    for name, value in (("人员", actor), ("操作", act), ("档案", subject)):
        if not isinstance(value, str) or len(value) > MAX_FILTER_CHARS:
            raise InvalidInput(f"筛选条件“{name}”应为不超过 {MAX_FILTER_CHARS} 字的文本")
    return AuditQuery(
        actor=actor.strip(),
        act=act.strip(),
        subject=subject.strip(),
        before=_whole(before, "before", 0, 2**63 - 1, "起始序号"),
        limit=_whole(limit, "limit", 1, MAX_PAGE, "每页条数"),
        after=_whole(after, "after", 0, 2**63 - 1, "起始序号"),
    )


def _whole(value: object, name: str, low: int, high: int, label: str) -> int:
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isdigit() and len(text) <= 19 else None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{label}（{name}）应为 {low} 到 {high} 之间的整数")
    return value


@dataclass(frozen=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]  # newest first
    size: int  # entries in the whole log
    next_before: int  # pass as ``before`` for the next (older) page; 0: none
    prev_after: int = 0  # pass as ``after`` for the previous (newer) page; 0: none


@dataclass(frozen=True)
class AuditFinding:
    """The first thing wrong with the log: entries ``seq`` .. ``last_seq`` are in question."""

    seq: int
    kind: str  # edited, deleted, moved, rewritten, truncated, checkpoint
    message: str  # zh-CN, names the entry and says what to do
    last_seq: int = 0


@dataclass(frozen=True)
class WitnessMark:
    """A head someone vouches for: our own signed checkpoint, or what the parent witnessed."""

    size: int
    head: bytes
    source: str  # "self" or the witnessing node's code


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    size: int
    head: bytes
    checkpoints_checked: int
    finding: AuditFinding | None
