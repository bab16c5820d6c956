"""Per-label aggregation of JTL samples with exact percentiles in bounded memory.

Each label keeps its elapsed, latency and connect times in ``array('l')`` (8 bytes a sample, not a Python object
a sample) and per-second counters; no row is kept. Percentiles are exact, by the **nearest-rank** definition: the
p-th percentile of n sorted values is the value at rank ``ceil(p / 100 * n)`` (1-based; rank 1 for p = 0). That is
the definition of JMeter's Aggregate Report (its ``StatCalculator`` walks the sorted values until ``p / 100 * n`` of
them are counted); JMeter's HTML dashboard interpolates and can differ by one sample's worth.

Throughput is JMeter's: samples divided by the label's active span, from its first sample's start
(``timeStamp``) to its last sample's end (``timeStamp + elapsed``), in seconds; the received and sent KB/s
(1 KB = 1024 bytes) divide by the same span. The per-second series bucket samples by their start second.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .reader import Columns, Sample

DEFAULT_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 95.0, 99.0)
TOTAL = "TOTAL"


def percentile_name(p: float) -> str:
    return f"p{p:g}"


def nearest_rank(sorted_values: Sequence[int], p: float) -> int:
    """The nearest-rank ``p``-th percentile (0 <= p <= 100) of non-empty ascending ``sorted_values``."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class LabelAccumulator:
    """Everything kept about one label while the file is read."""

    __slots__ = (
        "bytes",
        "connect",
        "elapsed",
        "end",
        "errors",
        "latency",
        "sec_count",
        "sec_elapsed",
        "sec_errors",
        "sent",
        "start",
    )

    def __init__(self) -> None:
        self.elapsed, self.latency, self.connect = array("l"), array("l"), array("l")
        self.errors = self.bytes = self.sent = 0
        self.start, self.end = math.inf, -math.inf
        self.sec_count: dict[int, int] = {}
        self.sec_elapsed: dict[int, int] = {}
        self.sec_errors: dict[int, int] = {}

    def merge(self, other: LabelAccumulator) -> None:
        self.elapsed.extend(other.elapsed)
        self.latency.extend(other.latency)
        self.connect.extend(other.connect)
        self.errors += other.errors
        self.bytes += other.bytes
        self.sent += other.sent
        self.start, self.end = min(self.start, other.start), max(self.end, other.end)
        for mine, theirs in (
            (self.sec_count, other.sec_count),
            (self.sec_elapsed, other.sec_elapsed),
            (self.sec_errors, other.sec_errors),
        ):
            for second, value in theirs.items():
                mine[second] = mine.get(second, 0) + value


def accumulate(samples: Iterable[Sample]) -> dict[str, LabelAccumulator]:
    """One pass over ``samples``: an accumulator per label, in order of first appearance."""
    labels: dict[str, LabelAccumulator] = {}
    for ts, elapsed, label, ok, latency, connect, received, sent in samples:
        acc = labels.get(label)
        if acc is None:
            acc = labels[label] = LabelAccumulator()
        acc.elapsed.append(elapsed)
        acc.latency.append(latency)
        acc.connect.append(connect)
        acc.bytes += received
        acc.sent += sent
        acc.start = min(acc.start, ts)
        acc.end = max(acc.end, ts + elapsed)
        second = ts // 1000
        acc.sec_count[second] = acc.sec_count.get(second, 0) + 1
        acc.sec_elapsed[second] = acc.sec_elapsed.get(second, 0) + elapsed
        if not ok:
            acc.errors += 1
            acc.sec_errors[second] = acc.sec_errors.get(second, 0) + 1
    return labels


@dataclass(frozen=True)
class Distribution:
    mean: float
    min: int
    max: int
    percentiles: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"mean": round(self.mean, 3), "min": self.min, "max": self.max, **self.percentiles}


@dataclass(frozen=True)
class SecondPoint:
    second: int  # epoch second
    count: int
    errors: int
    mean_elapsed: float


@dataclass(frozen=True)
class LabelStats:
    label: str
    count: int
    errors: int
    start_ms: int
    end_ms: int
    elapsed: Distribution
    latency: Distribution | None
    connect: Distribution | None
    received_bytes: int | None
    sent_bytes: int | None
    series: tuple[SecondPoint, ...]

    @property
    def error_pct(self) -> float:
        return 100.0 * self.errors / self.count if self.count else 0.0

    @property
    def span_s(self) -> float:
        return max(0, self.end_ms - self.start_ms) / 1000

    @property
    def throughput(self) -> float | None:
        """Samples per second over the active span (None when the span is zero)."""
        return self.count / self.span_s if self.span_s else None

    def kb_per_s(self, total: int | None) -> float | None:
        return total / 1024 / self.span_s if total is not None and self.span_s else None

    def metric(self, name: str) -> float | None:
        """A comparable figure by name: count, errors, error_pct, throughput, mean, min, max or a percentile."""
        if name in ("count", "errors", "error_pct", "throughput"):
            value: float | None = getattr(self, name)
            return value
        if name in ("mean", "min", "max"):
            return float(getattr(self.elapsed, name))
        return float(self.elapsed.percentiles[name]) if name in self.elapsed.percentiles else None

    def as_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "label": self.label,
            "count": self.count,
            "errors": self.errors,
            "error_pct": round(self.error_pct, 3),
            "throughput": rounded(self.throughput),
            "elapsed": self.elapsed.as_dict(),
            "latency": self.latency.as_dict() if self.latency else None,
            "connect": self.connect.as_dict() if self.connect else None,
            "received_kb_s": rounded(self.kb_per_s(self.received_bytes)),
            "sent_kb_s": rounded(self.kb_per_s(self.sent_bytes)),
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
        }


def distribution(values: array[int], percentiles: Sequence[float]) -> Distribution:
    ordered = sorted(values)
    return Distribution(
        mean=sum(ordered) / len(ordered),
        min=ordered[0],
        max=ordered[-1],
        percentiles={percentile_name(p): nearest_rank(ordered, p) for p in percentiles},
    )


def finish(label: str, acc: LabelAccumulator, columns: Columns, percentiles: Sequence[float]) -> LabelStats:
    """The figures of one accumulator (which must hold at least one sample)."""
    series = tuple(
        SecondPoint(second, count, acc.sec_errors.get(second, 0), acc.sec_elapsed[second] / count)
        for second, count in sorted(acc.sec_count.items())
    )
    return LabelStats(
        label=label,
        count=len(acc.elapsed),
        errors=acc.errors,
        start_ms=int(acc.start),
        end_ms=int(acc.end),
        elapsed=distribution(acc.elapsed, percentiles),
        latency=distribution(acc.latency, percentiles) if columns.latency else None,
        connect=distribution(acc.connect, percentiles) if columns.connect else None,
        received_bytes=acc.bytes if columns.received else None,
        sent_bytes=acc.sent if columns.sent else None,
        series=series,
    )


def summarise(
    labels: dict[str, LabelAccumulator], columns: Columns, percentiles: Sequence[float]
) -> tuple[list[LabelStats], LabelStats | None]:
    """Per-label figures (sorted by label) and the total over every label (None when there is no sample).

    The accumulators are consumed: the total is built by merging them, so memory peaks at one copy of the values.
    """
    rows = [finish(label, labels[label], columns, percentiles) for label in sorted(labels)]
    if not labels:
        return rows, None
    total = LabelAccumulator()
    for label in list(labels):
        total.merge(labels.pop(label))
    return rows, finish(TOTAL, total, columns, percentiles)


def resample(series: Sequence[SecondPoint], start_s: int, max_points: int) -> tuple[int, list[SecondPoint]]:
    """``series`` in buckets of a whole number of seconds, so that at most ``max_points`` remain; returns the
    bucket width (1: the series itself) and the buckets (``second`` = the bucket's first second, counts summed,
    the mean weighted by the counts)."""
    if not series:
        return 1, []
    width = max(1, math.ceil((series[-1].second - start_s + 1) / max_points))
    if width == 1:
        return 1, list(series)
    buckets: dict[int, list[float]] = {}
    for point in series:
        key = start_s + (point.second - start_s) // width * width
        bucket = buckets.setdefault(key, [0, 0, 0.0])
        bucket[0] += point.count
        bucket[1] += point.errors
        bucket[2] += point.mean_elapsed * point.count
    return width, [
        SecondPoint(second, int(count), int(errors), total / count)
        for second, (count, errors, total) in sorted(buckets.items())
    ]
