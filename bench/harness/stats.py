"""Percentiles and the small formatting helpers the benchmarks' reports share."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile, interpolated between samples (statistics.quantiles, inclusive)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def ranked(samples: Sequence[float], fraction: float) -> float:
    """The sample at `fraction` of the sorted samples (no interpolation: one that was measured)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def p50_p99_ms(samples: Sequence[float]) -> tuple[float, float]:
    """Median and p99 (ranked) of samples in seconds, in milliseconds."""
    return statistics.median(samples) * 1000, ranked(samples, 0.99) * 1000


def counts(counter: Counter[str], times: str = "×", empty: str = "-") -> str:
    """ "a×2, b×1" in key order, `empty` if there are none."""
    return ", ".join(f"{k}{times}{v}" for k, v in sorted(counter.items())) or empty
