"""``Metrics`` over the in-memory store and an unstarted pool: what ``observe`` counts, a store that cannot be
read, and the text of ``lambdahost status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from lambdahost.cli.status import duration, render
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, QueueDepth
from lambdahost.engine.admission import Admission
from lambdahost.engine.metrics import Metrics, error_family
from lambdahost.runtime.pool import EnvironmentPool
from lambdahost.storage.base import open_store
from lambdahost.storage.memory import InMemoryStore

S = InvocationStatus


def record(status: InvocationStatus, **fields: Any) -> Invocation:
    return Invocation(
        id="r", function_name="f", version="$LATEST", type=InvocationType.EVENT, status=status, created_at=0.0, **fields
    )


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def test_observe_counts_outcomes_retries_and_cold_starts(tmp_path: Path) -> None:
    metrics = Metrics(open_store("memory://"), EnvironmentPool(tmp_path), Admission(10), process_metrics=False)
    metrics.observe(record(S.PENDING))  # queued, never ran: nothing
    metrics.observe(record(S.RUNNING, duration_ms=5.0))  # unfinished: nothing
    metrics.observe(record(S.PENDING, duration_ms=2.0, init_duration_ms=1.0, error_type="ValueError"))  # a retry
    metrics.observe(record(S.FAILED, duration_ms=3000.0, error_type="Sandbox.Timedout"))
    metrics.observe(record(S.SUCCEEDED, duration_ms=0.05))
    metrics.throttled("f", "ConcurrentInvocationLimitExceeded", InvocationType.EVENT)
    found = samples(metrics)
    assert found[("lambdahost_invocations_total", labels(function="f", type="Event", outcome="failed"))] == 1
    assert found[("lambdahost_invocations_total", labels(function="f", type="Event", outcome="succeeded"))] == 1
    assert found[("lambdahost_invocation_retries_total", labels(function="f"))] == 1
    assert found[("lambdahost_cold_starts_total", labels(function="f", type="Event"))] == 1
    assert found[("lambdahost_invocation_duration_seconds_count", labels(function="f"))] == 3
    assert found[("lambdahost_invocation_duration_seconds_bucket", labels(function="f", le="0.0001"))] == 1
    assert found[("lambdahost_invocation_duration_seconds_bucket", labels(function="f", le="2.5"))] == 2
    errors = {k[1]: v for k, v in found.items() if k[0] == "lambdahost_invocation_errors_total"}
    assert errors == {labels(function="f", type="Event", error_type="Sandbox.Timedout"): 1}, "retries are not errors"
    assert (
        found[
            (
                "lambdahost_throttles_total",
                labels(function="f", type="Event", reason="ConcurrentInvocationLimitExceeded"),
            )
        ]
        == 1
    )
    assert metrics.status()["totals"] == {
        "succeeded": 1,
        "failed": 1,
        "terminated": 0,
        "retries": 1,
        "cold_starts": 1,
        "throttles": 1,
    }


def test_two_platforms_in_one_process_count_separately(tmp_path: Path) -> None:
    one, two = (
        Metrics(open_store("memory://"), EnvironmentPool(tmp_path), Admission(10), process_metrics=True)
        for _ in range(2)
    )
    one.observe(record(S.SUCCEEDED))
    assert one.status()["totals"]["succeeded"] == 1 and two.status()["totals"]["succeeded"] == 0


def test_error_family_keeps_platform_errors_and_folds_exceptions() -> None:
    assert error_family("Runtime.ExitError") == "Runtime.ExitError"
    assert error_family("Sandbox.Timedout") == "Sandbox.Timedout"
    assert error_family("KeyError") == "Unhandled"


class BrokenStore(InMemoryStore):
    def queue_depth(self) -> list[QueueDepth]:
        raise ConnectionError("database is gone")


def test_a_store_that_cannot_be_read_is_reported_not_raised(tmp_path: Path) -> None:
    metrics = Metrics(BrokenStore(), EnvironmentPool(tmp_path), Admission(10), process_metrics=False)
    found = samples(metrics)
    assert found[("lambdahost_store_up", frozenset())] == 0
    assert not [k for k in found if k[0] == "lambdahost_queue_depth"]
    status = metrics.status()
    assert status["store_up"] is False and status["queues"] is None and status["workers"] is None


def test_status_text() -> None:
    status: dict[str, Any] = {
        "version": "0.1.0",
        "store": "postgresql",
        "store_up": True,
        "uptime_s": 3725.0,
        "worker": "host:1",
        "functions": [
            {
                "function": "f",
                "succeeded": 4,
                "failed": 2,
                "terminated": 1,
                "retries": 0,
                "cold_starts": 2,
                "throttles": 1,
                "duration_ms": {"count": 7, "mean": 1.5},
                "init_duration_ms": {"count": 2, "mean": None},
            }
        ],
        "totals": {"succeeded": 4, "failed": 2, "terminated": 1, "retries": 0, "cold_starts": 2, "throttles": 1},
        "errors": [{"function": "f", "type": "RequestResponse", "error_type": "Unhandled", "count": 2}],
        "queues": [
            {"function": "f", "lane": 0, "status": "pending", "count": 3},
            {"function": "f", "lane": 1, "status": "running", "count": 0},
        ],
        "environments": [{"function": "f", "idle": 1, "busy": 0}],
        "in_flight": {"g": 1},
        "environments_started": 2,
        "snapshot_templates": 0,
        "workers": [
            {"id": "host:1", "host": "host", "heartbeat_at": 0.0, "heartbeat_age_s": 0.5, "alive": True},
            {"id": "host:2", "host": "host", "heartbeat_at": 0.0, "heartbeat_age_s": 99.0, "alive": False},
        ],
    }
    lines = render(status).splitlines()
    assert lines[0] == "lambdahost 0.1.0, up 1h 02m 05s, store postgresql (up), worker host:1"
    assert lines[lines.index("Invocations finished by this server since it started:") + 2].split() == [
        *("f", "4", "2", "1", "0", "2", "1", "1.50", "-")
    ]
    assert "TOTAL 4 2 1 0 2 1 - -" in [" ".join(line.split()) for line in lines]
    queue_row = lines[lines.index("Queues (exact, every process sharing the store):") + 2]
    assert queue_row.split() == ["f", "0", "3", "0", "0", "0"], "the empty lane 1 is left out of the table"
    assert [line.split() for line in lines if line.startswith("g ")] == [["g", "0", "0", "1"]]
    assert lines[-1].split()[-1] == "LOST"
    down = render({**status, "store_up": False, "queues": None, "workers": None})
    assert "Queues: unknown (the store did not answer)" in down and "NOT READABLE" in down
    assert (duration(12.34), duration(245), duration(3 * 86400 + 3600)) == ("12.3s", "4m 05s", "3d 01h 00m")
