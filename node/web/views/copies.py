"""What the verify page and the verify API show of a verdict on a certified copy."""

from __future__ import annotations

from dataclasses import dataclass

from node.copies import Verdict
from node.copies_report import fact_rows


@dataclass(frozen=True)
class VerdictView:
    ok: bool
    heading: str
    reasons: tuple[str, ...]
    code: str
    issuer: str
    certified: str  # whether the issuer's certificate was valid when it signed, in words
    facts: tuple[tuple[str, str], ...]  # (label, value) rows, empty if unreadable


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
