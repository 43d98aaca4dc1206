"""A holder with a real certificate chain under a root key, and copy facts, for copy tests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from node import copies, crypto
from node.certificates import Certificate, issue

ISSUED_AT = datetime(2026, 12, 4, 3, 50, 0, tzinfo=UTC)
YEAR_MS = 365 * 86_400_000
CONTENT = "余杭区 1966 年婚姻登记档案扫描件".encode() * 40


@dataclass(frozen=True)
class Tree:
    root: crypto.SigningKey
    holder_key: crypto.SigningKey
    chain: tuple[Certificate, ...]  # leaf (330110) first: county, city, province


def tree(seed: int = 1, *, county_not_after_ms: int | None = None) -> Tree:
    """Province 33 < city 3301 < county 330110, certified for a year either side of ISSUED_AT."""
    at = int(ISSUED_AT.timestamp()) * 1000
    root = crypto.SigningKey(bytes([seed]) * 32)
    keys = [crypto.SigningKey(bytes([seed, i]) * 16) for i in range(3)]
    names = {"33": "浙江省档案馆", "3301": "杭州市档案馆", "330110": "余杭区档案馆"}
    chain: list[Certificate] = []
    issuer = root
    for key, code in zip(keys, names, strict=True):
        not_after = at + YEAR_MS
        if code == "330110" and county_not_after_ms is not None:
            not_after = county_not_after_ms
        chain.insert(
            0,
            issue(
                issuer,
                node_id=code,
                name=names[code],
                public_key=key.public_key,
                address="127.0.0.1:1",
                not_before_ms=at - YEAR_MS,
                not_after_ms=not_after,
                serial=1,
            ),
        )
        issuer = key
    return Tree(root, keys[2], tuple(chain))


def facts(**changes: object) -> copies.CopyFacts:
    base = copies.CopyFacts(
        holder="330110",
        holder_name="余杭区档案馆",
        record_id="yh-hy-1966-0007",
        archival_code="J001-HY·1966-Y-0007",
        title="张某某与李某某结婚登记",
        year=1966,
        fonds="J001",
        category="婚姻登记",
        content_sha256=crypto.sha256_hex(CONTENT),
        content_size=len(CONTENT),
        request_id="req-330106001001-0001",
        purpose="办理房产继承",
        requester="330106001001",
        requester_name="西湖区某社区服务站",
        consulted_on=date(2026, 12, 4),
        issued_at=ISSUED_AT,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def issued(t: Tree | None = None, **changes: object) -> copies.IssuedCopy:
    t = t or tree()
    return copies.issue(facts(**changes), t.holder_key, t.chain, "http://127.0.0.1:8080")
