"""Verify time of a certified copy, against a bare Ed25519 verify of the same bytes.

    python bench/bench_copies.py [rounds]

A copy (``node/copies.py``) is the credential of a 1966 婚姻登记 record under a three-link
chain (province, city, county), about 2.6 KB. ``copies.verify`` parses the JSON, checks that
it is its own JCS form, checks the three certificate signatures and the proof (JCS of the
document and of the proof options, two SHA-256, one Ed25519), and the content's SHA-256
(given here: 64 KiB). Baseline, in the same run: one Ed25519 verify of the credential's
bytes. Also the issue (sign) time, reading a credential out of a printed PDF, and the PDF's
rendering (one font subset per copy).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from _common import summary

from node import copies, crypto, printout
from node.certificates import Certificate, issue

CONTENT = bytes(range(256)) * 256  # 64 KiB, a small scan
AT = datetime(2026, 12, 4, 3, 50, tzinfo=UTC)


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def holder() -> tuple[crypto.SigningKey, crypto.SigningKey, tuple[Certificate, ...]]:
    at_ms = int(AT.timestamp()) * 1000
    root = crypto.SigningKey.generate()
    issuer, chain = root, []
    for code, name in (
        ("33", "浙江省档案馆"),
        ("3301", "杭州市档案馆"),
        ("330110", "余杭区档案馆"),
    ):
        key = crypto.SigningKey.generate()
        cert = issue(issuer, node_id=code, name=name, public_key=key.public_key,
                     address="127.0.0.1:1", not_before_ms=at_ms - 1, not_after_ms=at_ms + 10**10,
                     serial=1)  # fmt: skip
        chain.insert(0, cert)
        issuer = key
    return root, issuer, tuple(chain)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    root, key, chain = holder()
    facts = copies.CopyFacts(
        holder="330110", holder_name="余杭区档案馆", record_id="yh-hy-1966-0007",
        archival_code="J001-HY·1966-Y-0007", title="张某某与李某某结婚登记", year=1966,
        fonds="J001", category="婚姻登记", content_sha256=crypto.sha256_hex(CONTENT),
        content_size=len(CONTENT), request_id="req-330106001001-0001", purpose="办理房产继承",
        requester="330106001001", requester_name="西湖区某社区服务站",
        consulted_on=date(2026, 12, 4), issued_at=AT,
    )  # fmt: skip
    copy = copies.issue(facts, key, chain, "http://127.0.0.1:8080")
    signature = key.sign(copy.document)
    assert copies.verify(copy.document, root.public_key, CONTENT).ok
    baseline = timed(lambda: crypto.verify(key.public_key, copy.document, signature), rounds)
    verifying = timed(lambda: copies.verify(copy.document, root.public_key, CONTENT), rounds)
    bare = timed(lambda: copies.verify(copy.document, root.public_key), rounds)
    issuing = timed(lambda: copies.issue(facts, key, chain, "http://127.0.0.1:8080"), rounds)
    pdf = printout.render(copy, CONTENT)
    reading = timed(lambda: printout.read_upload(pdf), max(5, rounds // 20))
    font = printout.find_cjk_font()
    rendering = timed(lambda: printout.render(copy, CONTENT, font=font), 5)
    print(f"credential {len(copy.document)} bytes, chain {len(chain)} links, PDF {len(pdf)} bytes")
    print(summary("baseline: Ed25519 verify of the same bytes", baseline))
    print(summary("copies.verify (with 64 KiB content)", verifying))
    print(summary("copies.verify (no content)", bare))
    print(summary("copies.issue", issuing))
    print(summary("printout.read_upload (the PDF)", reading))
    print(summary(f"printout.render ({Path(font.path).name})", rendering))
    ratio = statistics.median(verifying) / statistics.median(baseline)
    print(f"verify / Ed25519 baseline: {ratio:.1f}x")


if __name__ == "__main__":
    main()
