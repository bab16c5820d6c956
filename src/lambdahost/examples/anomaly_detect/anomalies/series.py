"""Evenly spaced series to look for anomalies in: from a JMeter JTL (streamed, nothing kept per row) or from JSON.

From a JTL, samples are bucketed by their start second into buckets of ``bucket_s`` seconds from the first
sample's second: ``throughput`` is samples per second in each bucket (0 in a bucket without samples: that is a
drop, not a gap) and ``response_time`` the mean elapsed time (None in an empty bucket). The last bucket is left
out, since it is usually cut short by the end of the test and would read as a throughput drop. Sub-samples
(``<parent label>-<n>`` right after their parent, in the same thread) are skipped and malformed rows counted, as in
``jtl-report``; this example carries its own small reader so that its package stands alone.

JSON: ``{"interval_s": 10, "start": 1700000000, "response_time": [...], "throughput": [...]}``; either metric
may be absent and values may be null (missing).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRICS = ("response_time", "throughput")
SUFFIX = re.compile(r"(?:-\d+)+")


@dataclass(frozen=True)
class Series:
    start: float  # epoch seconds of the first point (0 when unknown)
    interval_s: float
    values: dict[str, list[float | None]]  # metric -> points
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)

    def time(self, index: int) -> float:
        return self.start + index * self.interval_s


def from_jtl(path: str | Path, bucket_s: int, label: str | None = None) -> Series:
    counts: dict[int, int] = {}
    sums: dict[int, int] = {}
    malformed, lines = 0, list[int]()
    parents: dict[str, str] = {}
    with Path(path).open(newline="", encoding="utf-8", errors="replace") as file:
        reader = csv.reader(file)
        header = [name.strip().lstrip("\ufeff") for name in next(reader, [])]
        if not {"timeStamp", "elapsed", "label"} <= set(header):
            raise ValueError(f"{path}: not a JTL CSV with a header (timeStamp, elapsed, label)")
        i_ts, i_el, i_label = header.index("timeStamp"), header.index("elapsed"), header.index("label")
        i_thread = header.index("threadName") if "threadName" in header else None
        for row in reader:
            if not row:
                continue
            try:
                if len(row) != len(header):
                    raise ValueError
                ts, elapsed, name = int(row[i_ts]), int(row[i_el]), row[i_label]
                if elapsed < 0 or not name:
                    raise ValueError
            except ValueError:
                malformed += 1
                if len(lines) < 10:
                    lines.append(reader.line_num)
                continue
            thread = row[i_thread] if i_thread is not None else ""
            parent = parents.get(thread)
            if parent and name.startswith(parent) and SUFFIX.fullmatch(name, len(parent)):
                continue
            parents[thread] = name
            if label is not None and name != label:
                continue
            second = ts // 1000
            counts[second] = counts.get(second, 0) + 1
            sums[second] = sums.get(second, 0) + elapsed
    if not counts:
        raise ValueError(f"{path}: no sample" + (f" labelled {label!r}" if label else ""))
    first, last = min(counts), max(counts)
    buckets = (last - first) // bucket_s  # the last, partial bucket is left out
    count_b, sum_b = [0] * buckets, [0] * buckets
    for second, count in counts.items():
        index = (second - first) // bucket_s
        if index < buckets:
            count_b[index] += count
            sum_b[index] += sums[second]
    return Series(
        start=float(first),
        interval_s=float(bucket_s),
        values={
            "throughput": [count / bucket_s for count in count_b],
            "response_time": [total / count if count else None for total, count in zip(sum_b, count_b, strict=True)],
        },
        malformed=malformed,
        malformed_lines=lines,
    )


def from_json(data: Any) -> Series:
    if not isinstance(data, dict):
        raise ValueError('\'series\' must be an object: {"interval_s": 10, "response_time": [...], ...}')
    interval, start = data.get("interval_s", 1), data.get("start", 0)
    if not isinstance(interval, int | float) or interval <= 0 or not isinstance(start, int | float):
        raise ValueError("'series.interval_s' must be a positive number and 'series.start' a number")
    values: dict[str, list[float | None]] = {}
    for metric in METRICS:
        points = data.get(metric)
        if points is None:
            continue
        if not isinstance(points, list) or not all(
            p is None or (isinstance(p, int | float) and not isinstance(p, bool)) for p in points
        ):
            raise ValueError(f"'series.{metric}' must be a list of numbers (or nulls)")
        values[metric] = [None if p is None else float(p) for p in points]
    if not values:
        raise ValueError(f"'series' has none of {', '.join(METRICS)}")
    return Series(start=float(start), interval_s=float(interval), values=values)
