"""Helpers shared by both sides of the comparison (standard library only: imported by the lambdahost side in the
project's virtual environment and by the peers in the bench one)."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

DONE_POLL_S = 0.02  # how often "are all results recorded?" is asked during a throughput run
LATENCY_POLL_S = 0.0002  # the sleep between two reads of one result during a latency sample
RESULT_MARK = "BENCH-RESULT "  # the line a peer run prints its JSON after


@dataclass
class Throughput:
    """One throughput run: ``n`` invocations enqueued by one client process, timed from the first enqueue until
    the last result is recorded."""

    n: int
    enqueue_s: float  # first enqueue until the last enqueue returned
    total_s: float  # first enqueue until every result was seen recorded
    recorded: int  # results found recorded (succeeded) at the end
    lost: int  # enqueued but never recorded
    duplicates: int | None  # ran more than once (None: the framework does not tell)
    note: str = ""

    @property
    def per_s(self) -> float:
        return self.n / self.total_s if self.total_s > 0 else 0.0

    @property
    def enqueue_per_s(self) -> float:
        return self.n / self.enqueue_s if self.enqueue_s > 0 else 0.0


@dataclass
class Latency:
    """``n`` sequential single invocations, each from enqueue until its result is visible, in milliseconds."""

    n: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    lost: int = 0


@dataclass
class Row:
    """One line of a result table: a peer or a lambdahost configuration on one store."""

    system: str
    store: str  # the table it goes in: "SQLite" or "PostgreSQL" (Redis peers go in both)
    setup: str  # processes and concurrency, in words
    client: str  # how the client enqueues
    versions: str
    throughput: Throughput | None = None
    latency: Latency | None = None
    bulk: Throughput | None = None  # the same run with the framework's documented bulk enqueue API
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> Row:
        data = dict(data)
        for key, cls in (("throughput", Throughput), ("bulk", Throughput), ("latency", Latency)):
            if data.get(key) is not None:
                data[key] = cls(**data[key])
        return Row(**data)


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def latency_of(samples_ms: list[float], lost: int = 0) -> Latency:
    ordered = sorted(samples_ms)
    return Latency(len(ordered), statistics.median(ordered), percentile(ordered, 0.99), statistics.fmean(ordered), lost)


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = DONE_POLL_S) -> float | None:
    """Call ``check`` every ``interval_s`` until it is true; the perf_counter time it first was, or None when
    ``timeout_s`` passed first."""
    deadline = time.perf_counter() + timeout_s
    while True:
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            return None
        time.sleep(interval_s)


def timed_until_visible(enqueue: Callable[[], Any], visible: Callable[[Any], bool], timeout_s: float = 30.0) -> float:
    """One latency sample in ms: enqueue, then read the result every ``LATENCY_POLL_S`` until it is visible
    (-1 when it never is)."""
    started = time.perf_counter()
    handle = enqueue()
    deadline = started + timeout_s
    while not visible(handle):
        if time.perf_counter() > deadline:
            return -1.0
        time.sleep(LATENCY_POLL_S)
    return (time.perf_counter() - started) * 1e3


def latency_run(enqueue: Callable[[], Any], visible: Callable[[Any], bool], n: int) -> Latency:
    samples = [timed_until_visible(enqueue, visible) for _ in range(n)]
    kept = [s for s in samples if s >= 0]
    return latency_of(kept or [0.0], lost=len(samples) - len(kept))


def emit(rows: list[Row]) -> None:
    print(RESULT_MARK + json.dumps([r.to_json() for r in rows]), flush=True)


def parse_emitted(stdout: str) -> list[Row]:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return [Row.from_json(d) for d in json.loads(line[len(RESULT_MARK) :])]
    raise RuntimeError("the run printed no result line")
