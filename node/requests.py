"""Utilisation requests (利用申请): what a service point files for a citizen, and its states.

A request is filed at the receiving node (受理, which checked the citizen's identity) for a
record held elsewhere. Its ``UtilisationRequest`` part travels in clear: the record, who
asks and why. Its ``PersonalPart`` (the citizen's name, identity number and, for an agent,
the power of attorney) is sealed to the holder's node key before it is stored or sent
(``crypto.seal``), so neither the receiving node's tables nor any relay holds it readable.

States::

    submitted --> approved --> delivered
        |    \\        \\
        |     rejected  expired   (an approval not fetched in time lapses)
        +--> withdrawn            (the clerk withdraws before a decision)

The holder decides (by rule or an archivist) and signs every decision it makes as a
``StateChange`` over (request id, state, reason, time); the receiving node signs the changes
it makes itself (withdrawn, delivered). Deadlines count working days (``node/workdays.py``):
the holder's from receipt, the receiving node's from the decision. Times are unix ms; days
are counted in China's time zone, where the archives work.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass, replace
from enum import StrEnum

from node import crypto
from node.citizens import IdNumber
from node.errors import InvalidInput
from node.fields import MAX_INT64
from node.identity import validate_code
from node.workdays import WorkCalendar

CHINA = dt.timezone(dt.timedelta(hours=8))
_SIGN_TAG = b"archfed/v1/request-state"
_REQUEST_ID = re.compile(r"[0-9]{2,12}-[a-z2-7]{10}")
_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_PURPOSE_CHARS = 200
MAX_NAME_CHARS = 64
MAX_REASON_CHARS = 500
MAX_ACCOUNT_CHARS = 64
MAX_ATTORNEY_BYTES = 700 * 1024  # a scanned power of attorney: one upload, one sealed call
ATTORNEY_TYPES = ("application/pdf", "image/jpeg", "image/png")


class State(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELIVERED = "delivered"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def zh(self) -> str:
        return _STATE_ZH[self]

    @property
    def final(self) -> bool:
        return self in (State.REJECTED, State.DELIVERED, State.WITHDRAWN, State.EXPIRED)


_STATE_ZH = {
    State.SUBMITTED: "待审核",
    State.APPROVED: "已批准",
    State.REJECTED: "未予批准",
    State.DELIVERED: "已送达",
    State.WITHDRAWN: "已撤回",
    State.EXPIRED: "已过期",
}

# Who may move a request from one state to the next.
HOLDER_MOVES = {
    State.SUBMITTED: {State.APPROVED, State.REJECTED},
    State.APPROVED: {State.EXPIRED},
}
REQUESTER_MOVES = {
    State.SUBMITTED: {State.WITHDRAWN},
    State.APPROVED: {State.DELIVERED},
}


def allowed(current: State, new: State, *, by_holder: bool) -> bool:
    """Whether the holder (``by_holder``) or the requesting node may move ``current`` to
    ``new``. A change to the state a request already has is no move (the caller treats a
    repeat as already done)."""
    moves = HOLDER_MOVES if by_holder else REQUESTER_MOVES
    return new in moves.get(current, set())


class Relationship(StrEnum):
    SELF = "本人"
    AGENT = "委托代理人"


@dataclass(frozen=True)
class UtilisationRequest:
    """The part of a request that travels in clear (no personal data)."""

    request_id: str
    holder: str
    record_id: str
    requesting_node: str
    clerk: str  # the account at the requesting node that filed it
    purpose: str
    relationship: Relationship
    created_ms: int

    def __post_init__(self) -> None:
        validate_request_id(self.request_id)
        validate_code(self.holder)
        validate_code(self.requesting_node)
        if not self.request_id.startswith(self.requesting_node + "-"):
            raise InvalidInput("利用申请编号应以申请节点的区划代码开头")
        if not isinstance(self.record_id, str) or not _RECORD_ID.fullmatch(self.record_id):
            raise InvalidInput(f"档案标识无效：{str(self.record_id)[:64]!r}，请核对后重试")
        _text(self.clerk, "受理人账号", MAX_ACCOUNT_CHARS, required=True)
        _text(self.purpose, "利用目的", MAX_PURPOSE_CHARS, required=True)
        if not isinstance(self.relationship, Relationship):
            raise InvalidInput("与当事人关系应为“本人”或“委托代理人”")
        _ms(self.created_ms, "申请时间")

    @property
    def ref(self) -> str:
        return f"{self.holder}/{self.record_id}"


@dataclass(frozen=True)
class Attorney:
    """The power of attorney (授权委托书) an agent brings: its bytes and type."""

    media_type: str
    data: bytes

    def __post_init__(self) -> None:
        if self.media_type not in ATTORNEY_TYPES:
            raise InvalidInput("授权委托书应为 PDF、JPEG 或 PNG 文件，请重新扫描后上传")
        if not isinstance(self.data, bytes) or not 0 < len(self.data) <= MAX_ATTORNEY_BYTES:
            raise InvalidInput(
                f"授权委托书应为不超过 {MAX_ATTORNEY_BYTES // 1024} KB 的文件，"
                "请压缩或降低扫描分辨率后重新上传"
            )

    @property
    def sha256(self) -> str:
        return crypto.sha256_hex(self.data)


@dataclass(frozen=True)
class PersonalPart:
    """What only the holder may read: sealed to its node key as one blob."""

    citizen_name: str
    id_number: IdNumber
    attorney: Attorney | None = None

    def __post_init__(self) -> None:
        _text(self.citizen_name, "申请人姓名", MAX_NAME_CHARS, required=True)
        if not isinstance(self.id_number, IdNumber):
            raise InvalidInput("身份证号码应先经校验（IdNumber.parse）")

    def to_bytes(self) -> bytes:
        body = {"name": self.citizen_name, "id": self.id_number.digits}
        if self.attorney is not None:
            body["attorney_type"] = self.attorney.media_type
            body["attorney"] = self.attorney.data.hex()
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> PersonalPart:
        """Raises ``InvalidInput`` (never with the number in it) if ``data`` is not one."""
        try:
            body = json.loads(data.decode())
            attorney = (
                Attorney(str(body["attorney_type"]), bytes.fromhex(str(body["attorney"])))
                if "attorney" in body
                else None
            )
            return cls(str(body["name"]), IdNumber(str(body["id"])), attorney)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidInput("利用申请的个人信息部分无法读取") from None

    def seal(self, holder_public_key: bytes) -> bytes:
        return crypto.seal(holder_public_key, self.to_bytes())


def validate_request_id(value: object) -> str:
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise InvalidInput(
            f"利用申请编号格式不对：{str(value)[:40]!r}（应为 节点代码-10位字母数字）"
        )
    return value


def new_request_id(requesting_node: str) -> str:
    """``<requesting node>-<10 base32 letters>``: unique without asking anyone, and never a
    run of digits the audit log would take for an identity number."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return f"{requesting_node}-" + "".join(secrets.choice(alphabet) for _ in range(10))


@dataclass(frozen=True)
class StateChange:
    """One signed move of a request: by the holder, or by the requesting node."""

    request_id: str
    holder: str
    state: State
    reason: str
    at_ms: int
    signer: str  # the node that signed: the holder, or the requesting node
    key_id: str
    signature: bytes = b""

    def __post_init__(self) -> None:
        validate_request_id(self.request_id)
        validate_code(self.holder)
        validate_code(self.signer)
        if not isinstance(self.state, State):
            raise InvalidInput(f"未知的申请状态：{str(self.state)[:20]!r}")
        _text(self.reason, "理由", MAX_REASON_CHARS)
        _ms(self.at_ms, "时间")
        crypto.validate_key_id(self.key_id)

    def signing_input(self) -> bytes:
        return crypto.signing_input(
            _SIGN_TAG, self.request_id, self.holder, self.state.value, self.reason, self.at_ms,
            self.signer, self.key_id,
        )  # fmt: skip

    def signed(self, key: crypto.SigningKey) -> StateChange:
        return replace(self, signature=key.sign(self.signing_input()))

    def verify(self, public_key: bytes) -> bool:
        return crypto.key_id_of(public_key) == self.key_id and crypto.verify(
            public_key, self.signing_input(), self.signature
        )


@dataclass(frozen=True)
class Deadlines:
    """How many working days each side has (``[requests]`` in the configuration)."""

    holder_days: int = 4
    receiver_days: int = 2
    calendar: WorkCalendar = WorkCalendar()

    def due(self, from_ms: int, days: int) -> int:
        """The end (23:59:59.999 China time) of the ``days``-th working day after ``from_ms``."""
        start = dt.datetime.fromtimestamp(from_ms / 1000, CHINA).date()
        end = self.calendar.add_working_days(start, days)
        close = dt.datetime.combine(end, dt.time(23, 59, 59, 999000), CHINA)
        return int(close.timestamp() * 1000)

    def holder_due(self, received_ms: int) -> int:
        return self.due(received_ms, self.holder_days)

    def receiver_due(self, decided_ms: int) -> int:
        return self.due(decided_ms, self.receiver_days)


def _text(value: object, label: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{label}应为文本")
    if required and not value.strip():
        raise InvalidInput(f"请填写{label}")
    if len(value) > limit:
        raise InvalidInput(f"{label}最长 {limit} 字（收到 {len(value)} 字），请删减后重试")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InvalidInput(f"{label}含有控制字符，请重新输入")
    return value


def _ms(value: object, label: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INT64:
        raise InvalidInput(f"{label}无效")
    return value


class Role(StrEnum):
    """Which end of a request this node is."""

    OUTGOING = "outgoing"  # filed here, for a record held elsewhere (or here)
    INCOMING = "incoming"  # held here: this node decides


@dataclass(frozen=True)
class Delivered:
    """The content a requesting node received for an approved request."""

    sha256: str
    name: str
    media_type: str
    size: int


@dataclass(frozen=True)
class FiledRequest:
    """Everything one node knows of a request (never the identity number in clear)."""

    request: UtilisationRequest
    role: Role
    state: State
    reason: str
    state_at_ms: int
    holder_due_ms: int
    receiver_due_ms: int | None = None
    citizen_name: str = ""
    id_masked: str = ""
    rule: str = ""  # at the holder: the rule that applied, or why none did
    attorney_sha256: str = ""
    attorney_type: str = ""
    record_title: str = ""
    archival_code: str = ""
    content: Delivered | None = None
    change: StateChange | None = None  # the latest signed move
    copy_code: str = ""  # the verification code of the holder's certified copy, if one came

    @property
    def request_id(self) -> str:
        return self.request.request_id

    def overdue(self, now_ms: int) -> bool:
        """Past the deadline of the side that has to act next."""
        if self.state == State.SUBMITTED:
            return now_ms > self.holder_due_ms
        if self.state == State.APPROVED and self.receiver_due_ms is not None:
            return now_ms > self.receiver_due_ms
        return False


def change_to_text(change: StateChange) -> str:
    """How a signed change is kept in a table (JSON, the signature in hex)."""
    return json.dumps(
        {
            "request_id": change.request_id, "holder": change.holder,
            "state": change.state.value, "reason": change.reason, "at_ms": change.at_ms,
            "signer": change.signer, "key_id": change.key_id,
            "signature": change.signature.hex(),
        },
        ensure_ascii=False, sort_keys=True,
    )  # fmt: skip


def change_from_text(text: str) -> StateChange | None:
    if not text:
        return None
    body = json.loads(text)
    return StateChange(
        body["request_id"], body["holder"], State(body["state"]), body["reason"],
        body["at_ms"], body["signer"], body["key_id"], bytes.fromhex(body["signature"]),
    )  # fmt: skip
