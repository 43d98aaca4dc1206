"""How a verdict on a certified copy is shown: the facts as labelled zh-CN rows, and the
verdict as JSON with English keys. Shared by the verify page, its API and the offline CLI
(which must not load the web layer to print them)."""

from __future__ import annotations

from typing import Any

from node.copies import CopyFacts, Verdict


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
