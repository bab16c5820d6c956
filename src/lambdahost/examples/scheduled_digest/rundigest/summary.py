"""A week of invocation records summarised per function (pure: records in, figures and Markdown out).

Per function: runs, succeeded, failed (failed, terminated or orphaned), still unfinished, success % of the
finished ones, duration p50/p95/max (nearest rank, of the runs that report a duration), the largest memory used,
the last run (time and status), the most frequent error types and the ids of the latest failures.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FAILED = frozenset({"failed", "terminated", "orphaned"})
UNFINISHED = frozenset({"created", "pending", "ready", "running"})


def nearest_rank(ordered: Sequence[float], p: float) -> float:
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class FunctionDigest:
    function: str
    runs: int
    succeeded: int
    failed: int
    unfinished: int
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    duration_max_ms: float | None
    max_memory_mb: int | None
    last_run_at: float | None
    last_status: str | None
    errors: dict[str, int]
    recent_failures: list[str]

    @property
    def success_pct(self) -> float | None:
        finished = self.succeeded + self.failed
        return round(100 * self.succeeded / finished, 2) if finished else None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "success_pct": self.success_pct}


def digest(function: str, records: Iterable[dict[str, Any]]) -> FunctionDigest:
    """``records`` newest first, as the native API lists them."""
    runs = succeeded = failed = unfinished = 0
    durations: list[float] = []
    memory: list[int] = []
    errors: Counter[str] = Counter()
    recent: list[str] = []
    last: dict[str, Any] | None = None
    for record in records:
        runs += 1
        last = last or record
        status = record["status"]
        if status == "succeeded":
            succeeded += 1
        elif status in FAILED:
            failed += 1
            errors[record.get("error_type") or status] += 1
            if len(recent) < 3:
                recent.append(record["id"])
        elif status in UNFINISHED:
            unfinished += 1
        if record.get("duration_ms") is not None:
            durations.append(float(record["duration_ms"]))
        if record.get("max_memory_mb") is not None:
            memory.append(int(record["max_memory_mb"]))
    durations.sort()
    return FunctionDigest(
        function=function,
        runs=runs,
        succeeded=succeeded,
        failed=failed,
        unfinished=unfinished,
        duration_p50_ms=nearest_rank(durations, 50) if durations else None,
        duration_p95_ms=nearest_rank(durations, 95) if durations else None,
        duration_max_ms=durations[-1] if durations else None,
        max_memory_mb=max(memory) if memory else None,
        last_run_at=last["created_at"] if last else None,
        last_status=last["status"] if last else None,
        errors=dict(errors.most_common(5)),
        recent_failures=recent,
    )


def when(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def markdown(rows: Sequence[FunctionDigest], since: float, until: float) -> str:
    def figure(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    lines = [
        f"# Function runs from {when(since)} to {when(until)}",
        "",
        "| function | runs | ok | failed | success % | p50 ms | p95 ms | max ms | last run | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        errors = ", ".join(f"{name} x{count}" for name, count in row.errors.items()) or "-"
        lines.append(
            f"| {row.function} | {row.runs} | {row.succeeded} | {row.failed} | {figure(row.success_pct)} "
            f"| {figure(row.duration_p50_ms)} | {figure(row.duration_p95_ms)} | {figure(row.duration_max_ms)} "
            f"| {when(row.last_run_at)} {row.last_status or ''} | {errors} |"
        )
    return "\n".join(lines) + "\n"
