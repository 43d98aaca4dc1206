"""Shared bits of the benchmarks: medians and percentiles (networks come from node.simulate)."""

from __future__ import annotations

import statistics


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, samples_s: list[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    return (
        f"{name:<44} p50 {statistics.median(ms):8.2f} ms   p99 {pct(ms, 0.99):8.2f} ms   "
        f"n={len(ms)}"
    )
