"""Timing helpers: run a callable many times, report percentiles in microseconds or milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    name: str
    unit: str
    p50: float
    p99: float
    n: int

    def row(self) -> list[str]:
        return [self.name, f"{self.p50:.1f} {self.unit}", f"{self.p99:.1f} {self.unit}", str(self.n)]


def measure(name: str, fn: Callable[[], object], n: int, warmup: int = 50, unit: str = "us") -> Sample:
    scale = 1e6 if unit == "us" else 1e3
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * scale)
    return summarize(name, times, unit)


def interleave(
    cases: list[tuple[str, Callable[[], object]]], n: int, block: int = 250, warmup: int = 300, unit: str = "us"
) -> list[Sample]:
    """Time several callables in alternating blocks of ``block`` calls until each ran ``n`` times, so a floor and
    the thing compared with it see the same moments of a noisy machine."""
    scale = 1e6 if unit == "us" else 1e3
    for _, fn in cases:
        for _ in range(warmup):
            fn()
    times: list[list[float]] = [[] for _ in cases]
    clock = time.perf_counter
    while len(times[0]) < n:
        for (_, fn), out in zip(cases, times, strict=True):
            for _ in range(min(block, n - len(out))):
                started = clock()
                fn()
                out.append((clock() - started) * scale)
    return [summarize(name, out, unit) for (name, _), out in zip(cases, times, strict=True)]


def summarize(name: str, times: list[float], unit: str) -> Sample:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Sample(name, unit, statistics.median(ordered), p99, len(ordered))
