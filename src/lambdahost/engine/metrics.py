"""Prometheus metrics of one Platform, in a registry of its own (several Platforms may share a process).

Two kinds of numbers:

- Counted in this process as invocations finish (``observe``, ``throttled``): invocations by outcome, error
  types, durations, init durations, cold starts, retries, throttles. ``observe`` takes a finished invocation
  record; the recorder calls it on its background thread for every synchronous invocation, the queue worker for
  every attempt it finishes. It costs about two microseconds (bound label children are cached).
- Read when scraped (``StateCollector``): the exact queue depth per function, lane and status and every worker's
  last heartbeat, from the store (two small indexed queries), this process's environments (idle/busy per
  function) and the invocations admitted and still running here. Store-wide numbers are the same from every
  process sharing the store; take one (``max``), do not add them up.

``status()`` returns the same numbers as JSON-ready data (``GET /lambdahost/v1/status``, ``lambdahost status``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lambdahost import __version__
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, QueueDepth, Worker
from lambdahost.engine.admission import Admission
from lambdahost.engine.status import status_from_families
from lambdahost.runtime.pool import EnvironmentPool
from lambdahost.storage.base import Store

log = logging.getLogger(__name__)

# Durations in seconds (Prometheus' base unit), from 0.1 ms (a warm trivial invoke) to 15 min (the longest timeout).
DURATION_BUCKETS_S = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
)
UNFINISHED = (InvocationStatus.PENDING, InvocationStatus.READY, InvocationStatus.RUNNING, InvocationStatus.ORPHANED)
OUTCOMES = (InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.TERMINATED)
# A worker that stopped heartbeating this long ago is no longer reported (its id, host:pid, never comes back).
WORKER_HORIZON_S = 24 * 3600.0


def error_family(error_type: str) -> str:
    """The ``error_type`` label: AWS's namespaced platform errors as they are (``Runtime.ExitError``,
    ``Sandbox.Timedout``, ``Function.ResponseSizeTooLarge``: a small fixed set); ``Unhandled`` for an exception
    raised by the function's code (its class name stays in the invocation record, not in a label)."""
    return error_type if "." in error_type else "Unhandled"


@dataclass(frozen=True, slots=True)
class _Bound:
    """The label children one (function, type, status) touches, bound once."""

    invocations: Any
    duration: Any
    init_duration: Any
    cold_starts: Any
    retries: Any


class Metrics:
    def __init__(
        self,
        store: Store,
        pool: EnvironmentPool,
        admission: Admission,
        *,
        store_kind: str = "",
        worker_lease_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        process_metrics: bool = True,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started_at = clock()
        self.store_kind = store_kind
        self._clock = clock
        r = self.registry
        self._invocations = Counter(
            "lambdahost_invocations",
            "Invocations finished by this process, by outcome (succeeded, failed, terminated).",
            ["function", "type", "outcome"],
            registry=r,
        )
        self._errors = Counter(
            "lambdahost_invocation_errors",
            "Failed or terminated invocations by error type (Unhandled: an exception of the function's code).",
            ["function", "type", "error_type"],
            registry=r,
        )
        self._duration = Histogram(
            "lambdahost_invocation_duration_seconds",
            "Run time of the handler per invocation attempt (the REPORT line's Duration).",
            ["function"],
            buckets=DURATION_BUCKETS_S,
            registry=r,
        )
        self._init_duration = Histogram(
            "lambdahost_init_duration_seconds",
            "Init phase of a new environment (the REPORT line's Init Duration), once per cold start.",
            ["function"],
            buckets=DURATION_BUCKETS_S,
            registry=r,
        )
        self._cold_starts = Counter(
            "lambdahost_cold_starts",
            "Invocation attempts that ran in a new environment (those with an init duration).",
            ["function", "type"],
            registry=r,
        )
        self._retries = Counter(
            "lambdahost_invocation_retries",
            "Failed attempts of asynchronous invocations that were queued again for a retry.",
            ["function"],
            registry=r,
        )
        self._throttles = Counter(
            "lambdahost_throttles",
            "Invoke requests refused by concurrency admission (429 TooManyRequestsException), by reason.",
            ["function", "type", "reason"],
            registry=r,
        )
        self._bound: dict[tuple[str, InvocationType, InvocationStatus], _Bound] = {}
        self._bind_lock = threading.Lock()
        self.state = StateCollector(store, pool, admission, self, worker_lease_s, clock)
        r.register(self.state)
        if process_metrics:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)

    # -- counting (any thread) ---------------------------------------------------------------------------------
    def observe(self, invocation: Invocation) -> None:
        """Count one finished run: a record with a final status (succeeded, failed, terminated), or, for an
        asynchronous attempt queued again for a retry, ``pending`` with the attempt's measurements. Other
        records are ignored."""
        status = invocation.status
        if not status.finished and status is not InvocationStatus.PENDING:
            return
        key = (invocation.function_name, invocation.type, status)
        bound = self._bound.get(key) or self._bind(key)
        if status is InvocationStatus.PENDING:
            if invocation.duration_ms is None:
                return  # queued, never ran
            bound.retries.inc()
        else:
            bound.invocations.inc()
            if invocation.error_type is not None:
                self._errors.labels(
                    invocation.function_name, invocation.type.value, error_family(invocation.error_type)
                ).inc()
        if invocation.duration_ms is not None:
            bound.duration.observe(invocation.duration_ms / 1000.0)
        if invocation.init_duration_ms is not None:
            bound.cold_starts.inc()
            bound.init_duration.observe(invocation.init_duration_ms / 1000.0)

    def throttled(self, function_name: str, reason: str, invocation_type: InvocationType = InvocationType.SYNC) -> None:
        """Count an invoke request refused by admission (once per request, not per wait of a queued one)."""
        self._throttles.labels(function_name, invocation_type.value, reason).inc()

    def _bind(self, key: tuple[str, InvocationType, InvocationStatus]) -> _Bound:
        function, invocation_type, status = key
        with self._bind_lock:
            bound = _Bound(
                invocations=self._invocations.labels(function, invocation_type.value, status.value),
                duration=self._duration.labels(function),
                init_duration=self._init_duration.labels(function),
                cold_starts=self._cold_starts.labels(function, invocation_type.value),
                retries=self._retries.labels(function),
            )
            self._bound[key] = bound
            return bound

    # -- reading -----------------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The numbers of one scrape as JSON-ready data (what ``lambdahost status`` prints)."""
        return status_from_families(self.registry.collect(), self)


class StateCollector(Collector):
    """Numbers read at scrape time: store-wide queue depth and workers, this process's environments and
    admission. A store that cannot be read is reported as ``lambdahost_store_up 0`` (the rest still is)."""

    def __init__(
        self,
        store: Store,
        pool: EnvironmentPool,
        admission: Admission,
        metrics: Metrics,
        worker_lease_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._pool = pool
        self._admission = admission
        self._metrics = metrics
        self.lease_s = worker_lease_s
        self._clock = clock
        self._lanes_seen: set[tuple[str, int]] = set()
        self._functions_seen: set[str] = set()  # with environments here: reaped to none, they read 0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock()

    def read_store(self) -> tuple[list[QueueDepth], list[Worker]] | None:
        try:
            return self._store.queue_depth(), self._store.workers()
        except Exception:
            log.exception("could not read the store for metrics", extra={"action": "metrics_store_failed"})
            return None

    def collect(self) -> Iterable[Metric]:
        now = self._clock()
        m = self._metrics
        info = GaugeMetricFamily("lambdahost_info", "This lambdahost process.", labels=["version", "store"])
        info.add_metric([__version__, m.store_kind], 1.0)
        yield info
        yield GaugeMetricFamily(
            "lambdahost_start_time_seconds", "When this process's Platform started (Unix time).", value=m.started_at
        )
        yield from self._environments()
        read = self.read_store()
        yield GaugeMetricFamily(
            "lambdahost_store_up", "1 when the store answered this scrape.", value=float(bool(read))
        )
        if read is not None:
            depth, workers = read
            yield self._depth(depth)
            yield from self._workers(workers, now)

    def _environments(self) -> Iterable[Metric]:
        stats = self._pool.stats()
        envs = GaugeMetricFamily(
            "lambdahost_environments",
            "Execution environments alive in this process, per function: idle (warm) or busy (0 once reaped).",
            labels=["function", "state"],
        )
        per_function: dict[str, dict[str, int]] = stats["functions"]
        with self._lock:
            self._functions_seen.update(per_function)
            functions = sorted(self._functions_seen)
        for function in functions:
            counts = per_function.get(function, {})
            for state in ("idle", "busy"):
                envs.add_metric([function, state], float(counts.get(state, 0)))
        yield envs
        yield GaugeMetricFamily(
            "lambdahost_snapshot_templates",
            "Snapshot templates (initialised environments new ones fork from) alive in this process.",
            value=float(stats["templates"]),
        )
        yield CounterMetricFamily(
            "lambdahost_environments_started",
            "Execution environments started by this process (cold starts, including failed inits).",
            value=float(stats["cold_starts"]),
        )
        in_flight = GaugeMetricFamily(
            "lambdahost_in_flight",
            "Invocations holding a concurrency slot in this process (admitted and not yet finished).",
            labels=["function"],
        )
        for function, count in sorted(self._admission.in_flight().items()):
            in_flight.add_metric([function], float(count))
        yield in_flight

    def _depth(self, depth: list[QueueDepth]) -> Metric:
        """Exact counts; every (function, lane) seen since this process started reports all four statuses, 0s
        included, so a drained lane reads 0 rather than vanishing."""
        counts = {(d.function_name, d.lane, d.status): d.count for d in depth}
        with self._lock:
            self._lanes_seen.update((d.function_name, d.lane) for d in depth)
            lanes = sorted(self._lanes_seen)
        family = GaugeMetricFamily(
            "lambdahost_queue_depth",
            "Unfinished invocations in the store (all processes), per function, lane and status: exact counts.",
            labels=["function", "lane", "status"],
        )
        for function, lane in lanes:
            for status in UNFINISHED:
                family.add_metric([function, str(lane), status.value], float(counts.get((function, lane, status), 0)))
        return family

    def _workers(self, workers: list[Worker], now: float) -> Iterable[Metric]:
        shown = [w for w in workers if w.stopped_at is None and now - w.heartbeat_at <= WORKER_HORIZON_S]
        heartbeat = GaugeMetricFamily(
            "lambdahost_worker_heartbeat_timestamp_seconds",
            "Last heartbeat of each queue worker sharing the store (Unix time).",
            labels=["worker", "host"],
        )
        age = GaugeMetricFamily(
            "lambdahost_worker_heartbeat_age_seconds",
            "Seconds since each queue worker's last heartbeat; past the lease, its invocations are taken back.",
            labels=["worker", "host"],
        )
        alive = GaugeMetricFamily(
            "lambdahost_workers",
            "Queue workers by state: alive (heartbeat within the lease) or lost (silent for longer).",
            labels=["state"],
        )
        for worker in shown:
            heartbeat.add_metric([worker.id, worker.host], worker.heartbeat_at)
            age.add_metric([worker.id, worker.host], max(0.0, now - worker.heartbeat_at))
        live = sum(1 for w in shown if now - w.heartbeat_at <= self.lease_s)
        alive.add_metric(["alive"], float(live))
        alive.add_metric(["lost"], float(len(shown) - live))
        yield heartbeat
        yield age
        yield alive
