"""Percentiles and ratios, the same way in every benchmark."""

from __future__ import annotations

import statistics
import sys


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p99_ms": round(p99, 2),
            "max_ms": round(ordered[-1], 2), "n": len(ordered)}


def ratio(value: float, limit: float) -> float | None:
    return round(value / limit, 2) if limit else None


def progress(message: str) -> None:
    """Progress goes to stderr; stdout carries only the JSON result."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
