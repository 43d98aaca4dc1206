"""Certified copies (出证): a holder's signed statement of what it released, checkable offline.

A copy is a W3C Verifiable Credential 2.0 (type ``ArchiveCopyCredential``) with an
``eddsa-jcs-2022`` Data Integrity proof (``dataintegrity.py``), signed by the holding node's
key. It carries the record's metadata (档号, 题名, 年度, 全宗, holder), the content's sha256
and size, the request it answers, the requesting node, the 查档日期, and the holder's
certificate chain, so that whoever has only the pinned root key can check who signed it and
that its certificate was valid when it signed (``verify``).

The credential is issued as its own JCS canonical form, and ``verify`` requires exactly that
form: a single changed byte either breaks the JSON, leaves the canonical form, or changes a
signed value, so every change is caught (reformatting included). The verification code is
derived from the signature (``code_of``), so it cannot be chosen apart from the copy: a
verify page finds the stored credential by it, and a person can read it aloud.

Bad documents (not JSON, wrong types, huge, nested deeply) get a ``Verdict`` with zh-CN
reasons, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from node import crypto, dataintegrity
from node.certificates import Certificate, check_links
from node.errors import AuthError, InvalidInput
from node.fields import integer, text
from node.identity import MAX_DEPTH, validate_code
from node.records import CATEGORIES, MAX_NAME_CHARS, MAX_TITLE_CHARS, parse_archival_code

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL_TYPE = "ArchiveCopyCredential"
SUBJECT_TYPE = "ArchivalRecordCopy"
NODE_URN = "urn:archive-node:node:"
MAX_DOCUMENT_BYTES = 64 * 1024  # a copy is ~2.6 KB; five certificates and a long title fit
MAX_CONTENT_SIZE = 2**53 - 1  # JSON numbers (and so JCS) carry integers exactly up to here
MAX_PURPOSE_CHARS = 200
MAX_REQUEST_ID_CHARS = 64
CODE_CHARS = 12
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class CopyFacts:
    """What a certified copy states. Built once, checked once (``__post_init__``)."""

    holder: str  # the holding node's code; it signs
    holder_name: str
    record_id: str
    archival_code: str  # 档号
    title: str  # 题名
    year: int  # 年度
    fonds: str  # 全宗
    category: str  # 门类
    content_sha256: str
    content_size: int
    request_id: str
    purpose: str
    requester: str  # the requesting node's code
    requester_name: str
    consulted_on: date  # 查档日期
    issued_at: datetime  # UTC, whole seconds

    def __post_init__(self) -> None:
        validate_code(self.holder)
        validate_code(self.requester)
        text(self.holder_name, "馆藏单位名称", MAX_NAME_CHARS)
        text(self.requester_name, "申请单位名称", MAX_NAME_CHARS)
        text(self.record_id, "档案标识", 64)
        code = parse_archival_code(text(self.archival_code, "档号", 40))
        text(self.title, "题名", MAX_TITLE_CHARS)
        integer(self.year, "年度", 1600, 2100)
        text(self.fonds, "全宗号", 8)
        if code.fonds != self.fonds or code.year != self.year:
            raise InvalidInput(f"档号 {self.archival_code} 与全宗号、年度不符")
        if self.category not in CATEGORIES or CATEGORIES[self.category] != code.category_code:
            raise InvalidInput(f"门类 {self.category!r} 与档号 {self.archival_code} 不符")
        sha = text(self.content_sha256, "内容摘要", 64)
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise InvalidInput("内容摘要应为 64 位小写十六进制 sha256")
        integer(self.content_size, "内容大小", 0, MAX_CONTENT_SIZE)
        text(self.request_id, "利用申请编号", MAX_REQUEST_ID_CHARS)
        text(self.purpose, "利用目的", MAX_PURPOSE_CHARS)
        if not isinstance(self.consulted_on, date) or isinstance(self.consulted_on, datetime):
            raise InvalidInput("查档日期应为日期")
        at = self.issued_at
        if not isinstance(at, datetime) or at.utcoffset() is None or at.microsecond:
            raise InvalidInput("出证时间应为带时区、精确到秒的时间")

    @property
    def issued_at_ms(self) -> int:
        return int(self.issued_at.timestamp()) * 1000

    def subject_json(self) -> dict[str, Any]:
        return {
            "type": SUBJECT_TYPE,
            "holder": {"id": NODE_URN + self.holder, "name": self.holder_name},
            "recordId": self.record_id,
            "archivalCode": self.archival_code,
            "title": self.title,
            "year": self.year,
            "fonds": self.fonds,
            "category": self.category,
            "content": {"sha256": self.content_sha256, "size": self.content_size},
            "request": {
                "id": self.request_id,
                "purpose": self.purpose,
                "requester": {"id": NODE_URN + self.requester, "name": self.requester_name},
            },
            "consultedOn": self.consulted_on.isoformat(),
        }

    @classmethod
    def from_json(cls, subject: object, issued: str) -> CopyFacts:
        """Facts from a credential's ``credentialSubject`` and ``validFrom``; ``InvalidInput``
        naming what is missing or of the wrong type."""
        holder, request = _obj(subject, "holder"), _obj(subject, "request")
        requester, content = _obj(request, "requester"), _obj(subject, "content")
        return cls(
            holder=_node(_get(holder, "id", str)),
            holder_name=_get(holder, "name", str),
            record_id=_get(subject, "recordId", str),
            archival_code=_get(subject, "archivalCode", str),
            title=_get(subject, "title", str),
            year=_get(subject, "year", int),
            fonds=_get(subject, "fonds", str),
            category=_get(subject, "category", str),
            content_sha256=_get(content, "sha256", str),
            content_size=_get(content, "size", int),
            request_id=_get(request, "id", str),
            purpose=_get(request, "purpose", str),
            requester=_node(_get(requester, "id", str)),
            requester_name=_get(requester, "name", str),
            consulted_on=_date(_get(subject, "consultedOn", str)),
            issued_at=parse_time(issued),
        )


@dataclass(frozen=True)
class IssuedCopy:
    """A signed copy: the credential's exact bytes, its verification code and where to check."""

    document: bytes
    code: str  # grouped for reading aloud: XXXX-XXXX-XXXX
    facts: CopyFacts
    verify_url: str  # the holder's verify page with the code


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found: valid if no reasons."""

    reasons: tuple[str, ...]
    facts: CopyFacts | None = None
    code: str = ""
    issuer_name: str = ""  # from the issuer's certificate, when the chain could be read
    certificate_valid_at_issue: bool = False

    @property
    def ok(self) -> bool:
        return not self.reasons


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(value: object) -> datetime:
    try:
        return datetime.strptime(text(value, "时间", 20), _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"时间应写作 yyyy-mm-ddThh:mm:ssZ: {str(value)[:30]!r}") from None


def code_of(signature: bytes) -> str:
    """The verification code of a copy: 60 bits of SHA-256(signature) in Crockford base32."""
    value = int.from_bytes(crypto.sha256(signature)[:8], "big") >> 4
    chars = "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(CODE_CHARS)))
    return "-".join(chars[i : i + 4] for i in range(0, CODE_CHARS, 4))


def normalise_code(value: object) -> str:
    """A code as a person typed it (any case, spaces or hyphens, O for 0, I or L for 1) in
    ``code_of``'s form, else ``InvalidInput``."""
    raw = text(value, "核验码", 40).upper().translate(str.maketrans("OIL", "011", " -"))
    if len(raw) != CODE_CHARS or any(c not in _CROCKFORD for c in raw):
        raise InvalidInput("核验码应为 12 位字母和数字（如 7K3M-9QX2-H4TB），请核对后重新输入")
    return "-".join(raw[i : i + 4] for i in range(0, CODE_CHARS, 4))


def verify_page(verify_url_base: str, holder: str) -> str:
    return f"{verify_url_base.rstrip('/')}/n/{holder}/verify"


def issue(
    facts: CopyFacts,
    key: crypto.SigningKey,
    chain: tuple[Certificate, ...],
    verify_url_base: str,
) -> IssuedCopy:
    """Sign ``facts`` as the holder with ``key``, whose certificate leads ``chain``."""
    if not chain or chain[0].node_id != facts.holder or chain[0].public_key != key.public_key:
        raise InvalidInput(f"出证机构 {facts.holder} 的密钥与其证书链不符，请先检查节点证书")
    created = format_time(facts.issued_at)
    credential = {
        "@context": [VC_CONTEXT],
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "name": "档案证明",
        "issuer": {
            "id": NODE_URN + facts.holder,
            "name": facts.holder_name,
            "url": verify_page(verify_url_base, facts.holder),
            "certificateChain": [c.to_json() for c in chain],
        },
        "validFrom": created,
        "credentialSubject": facts.subject_json(),
    }
    signed = dataintegrity.sign(
        credential,
        key,
        created=created,
        verification_method=dataintegrity.did_key(key.public_key),
    )
    code = code_of(crypto.multibase_decode(signed["proof"]["proofValue"]))
    url = f"{credential['issuer']['url']}?code={code}"  # type: ignore[index]
    return IssuedCopy(dataintegrity.canonical(signed), code, facts, url)


def read(document: bytes) -> IssuedCopy:
    """An issued copy from its credential's bytes, to print or show it (not verified: see
    ``verify``); ``InvalidInput`` if it is not a copy's shape."""
    data = load(document)
    facts = CopyFacts.from_json(_obj(data, "credentialSubject"), _get(data, "validFrom", str))
    code = code_of(crypto.multibase_decode(_obj(data, "proof").get("proofValue")))
    page = text(_get(_obj(data, "issuer"), "url", str), "核验网址", 300)
    return IssuedCopy(document, code, facts, f"{page}?code={code}")


def verify(
    document: bytes,
    root_public_key: bytes,
    content: bytes | None = None,
    *,
    revoked: Callable[[Certificate, int], str | None] | None = None,
) -> Verdict:
    """Check a copy against the pinned root key (and ``content`` against its hash, if given).

    Every check that can run does, so the verdict lists every reason, in zh-CN. ``revoked``
    (a node's directory, online) says why a certificate could not vouch for a signature made
    at a time, if it could not: revoked or retired before the copy was issued.
    """
    try:
        data = load(document)
        issuer = _obj(data, "issuer")
        facts = CopyFacts.from_json(_obj(data, "credentialSubject"), _get(data, "validFrom", str))
        chain = _chain(_get(issuer, "certificateChain", list))
        proof = _obj(data, "proof")
        code = code_of(crypto.multibase_decode(proof.get("proofValue")))
        canonical = dataintegrity.canonical(data)  # e.g. an integer past 2**53 has none
    except InvalidInput as exc:
        return Verdict(reasons=(f"不是有效的档案证明：{exc}",))
    reasons: list[str] = []
    if document != canonical:
        reasons.append("文件不是出证时的原样：JSON 的字符或排版被改动过")
    if data.get("@context") != [VC_CONTEXT] or data.get("type") != [
        "VerifiableCredential",
        CREDENTIAL_TYPE,
    ]:
        reasons.append("文件不是档案证明（@context 或 type 不符）")
    leaf = chain[0]
    certified = True
    try:
        check_links(chain, root_public_key)
    except AuthError as exc:
        certified = False
        reasons.append(f"签发机构的证书链不通向本网络的根密钥，无法确认签发者（{exc}）")
    at = facts.issued_at_ms
    for cert in chain:
        if not cert.valid_at(at):
            certified = False
            reasons.append(
                f"{cert.name}（{cert.node_id}）的证书在出证时间 {format_time(facts.issued_at)} "
                f"不在有效期内（{_ms(cert.not_before_ms)} 至 {_ms(cert.not_after_ms)}）"
            )
        why = revoked(cert, at) if revoked is not None else None
        if why is not None:
            certified = False
            reasons.append(
                f"{cert.name}（{cert.node_id}）的证书在出证前已被吊销或停用，"
                f"此后签发的证明无效（{why}）"
            )
    if proof.get("created") != data.get("validFrom"):
        reasons.append("签名时间与出证时间不一致")
    if proof.get("verificationMethod") != dataintegrity.did_key(leaf.public_key):
        reasons.append("签名所称的密钥不是签发机构证书中的密钥")
    problem = dataintegrity.proof_problem(data, leaf.public_key)
    if problem is not None:
        reasons.append(problem)
    if leaf.node_id != facts.holder or issuer.get("id") != NODE_URN + facts.holder:
        reasons.append(
            f"签发机构证书属于 {leaf.node_id}，而证明所称的馆藏单位是 {facts.holder}："
            "不是馆藏单位出具的证明"
        )
    if content is not None and (
        len(content) != facts.content_size or crypto.sha256_hex(content) != facts.content_sha256
    ):
        reasons.append("所附档案内容与证明中的摘要（SHA-256）或大小不符：内容不是出证时的原件")
    return Verdict(
        reasons=tuple(reasons),
        facts=facts,
        code=code,
        issuer_name=leaf.name,
        certificate_valid_at_issue=certified,
    )


def load(document: bytes) -> dict[str, Any]:
    """The JSON object of a document, or ``InvalidInput``: too big, not UTF-8, not JSON,
    a repeated key, NaN or a fraction, nested too deeply, or not an object."""
    if not isinstance(document, bytes | bytearray) or len(document) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"文件过大（档案证明不超过 {MAX_DOCUMENT_BYTES // 1024} KB）")
    try:
        data = json.loads(
            bytes(document).decode("utf-8"),
            object_pairs_hook=_unique,
            parse_float=_no_number,
            parse_constant=_no_number,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidInput(
            "文件不是 JSON 格式的档案证明（请上传出证时的 PDF 或 JSON 文件）"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("文件应为一个 JSON 对象")
    return data


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("repeated key")
    return result


def _no_number(value: str) -> Any:
    raise ValueError(f"not an integer: {value[:20]}")


def _obj(data: object, key: str) -> dict[str, Any]:
    return _get(data, key, dict)


def _get(data: object, key: str, kind: type) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise InvalidInput(f"缺少字段 {key}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"字段 {key} 的类型不对")
    return value


def _node(urn: str) -> str:
    if not urn.startswith(NODE_URN):
        raise InvalidInput(f"机构标识应以 {NODE_URN} 开头")
    return validate_code(urn[len(NODE_URN) :])


def _date(value: str) -> date:
    try:
        return date.fromisoformat(text(value, "查档日期", 10))
    except ValueError:
        raise InvalidInput(f"查档日期应写作 yyyy-mm-dd: {value[:20]!r}") from None


def _chain(items: list[Any]) -> tuple[Certificate, ...]:
    if not 1 <= len(items) <= MAX_DEPTH:
        raise InvalidInput(f"证书链应有 1 到 {MAX_DEPTH} 张证书")
    try:
        return tuple(Certificate.from_json(item) for item in items)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidInput("证书链中的证书缺少字段或格式不对") from None


def _ms(ms: int) -> str:
    try:
        return format_time(datetime.fromtimestamp(ms / 1000, UTC))
    except (OverflowError, ValueError, OSError):
        return str(ms)
