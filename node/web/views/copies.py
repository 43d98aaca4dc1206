"""What the verify page and the verify API show of a verdict on a certified copy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.copies import CopyFacts, Verdict


@dataclass(frozen=True)
class VerdictView:
    ok: bool
    heading: str
    reasons: tuple[str, ...]
    code: str
    issuer: str
    certified: str  # whether the issuer's certificate was valid when it signed, in words
    facts: tuple[tuple[str, str], ...]  # (label, value) rows, empty if unreadable


def fact_rows(facts: CopyFacts) -> tuple[tuple[str, str], ...]:
    return (
        ("档号", facts.archival_code),
        ("题名", facts.title),
        ("年度", str(facts.year)),
        ("全宗号", facts.fonds),
        ("门类", facts.category),
        ("馆藏单位", f"{facts.holder_name}（{facts.holder}）"),
        ("档案标识", facts.record_id),
        ("利用申请编号", facts.request_id),
        ("利用目的", facts.purpose),
        ("申请单位", f"{facts.requester_name}（{facts.requester}）"),
        ("查档日期", facts.consulted_on.isoformat()),
        ("出证时间", facts.issued_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("内容大小", f"{facts.content_size} 字节"),
        ("内容摘要（SHA-256）", facts.content_sha256),
    )


def verdict_view(verdict: Verdict) -> VerdictView:
    return VerdictView(
        ok=verdict.ok,
        heading="核验通过：这是一份有效的档案证明"
        if verdict.ok
        else "核验未通过：这份档案证明无效",
        reasons=verdict.reasons,
        code=verdict.code,
        issuer=verdict.issuer_name,
        certified=(
            "签发机构的证书在出证时有效，且由本网络根密钥逐级签发"
            if verdict.certificate_valid_at_issue
            else "无法确认签发机构在出证时持有有效证书"
        ),
        facts=fact_rows(verdict.facts) if verdict.facts is not None else (),
    )


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """The API's answer: ``valid``, every reason, and the facts in English keys."""
    facts = verdict.facts
    return {
        "valid": verdict.ok,
        "reasons": list(verdict.reasons),
        "code": verdict.code,
        "issuer_name": verdict.issuer_name,
        "certificate_valid_at_issue": verdict.certificate_valid_at_issue,
        "facts": None
        if facts is None
        else {
            "holder": facts.holder,
            "holder_name": facts.holder_name,
            "record_id": facts.record_id,
            "archival_code": facts.archival_code,
            "title": facts.title,
            "year": facts.year,
            "fonds": facts.fonds,
            "category": facts.category,
            "content_sha256": facts.content_sha256,
            "content_size": facts.content_size,
            "request_id": facts.request_id,
            "purpose": facts.purpose,
            "requester": facts.requester,
            "requester_name": facts.requester_name,
            "consulted_on": facts.consulted_on.isoformat(),
            "issued_at": facts.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }
