"""The numbers of one metrics scrape as JSON-ready data: ``GET /lambdahost/v1/status`` and ``lambdahost status``.

Built from the very samples ``/metrics`` exposes (one ``registry.collect()``), so both always agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client.core import Metric

from lambdahost import __version__

if TYPE_CHECKING:
    from lambdahost.engine.metrics import Metrics

OUTCOMES = ("succeeded", "failed", "terminated")
_Samples = dict[str, list[tuple[dict[str, str], float]]]


def _sum_by(samples: _Samples, name: str, *keys: str) -> dict[tuple[str, ...], float]:
    """Sums of the values of samples ``name``, grouped by the given labels."""
    totals: dict[tuple[str, ...], float] = defaultdict(float)
    for labels, value in samples.get(name, []):
        totals[tuple(labels.get(key, "") for key in keys)] += value
    return dict(totals)


def _mean_ms(samples: _Samples, histogram: str, function: str) -> dict[str, Any]:
    count = _sum_by(samples, histogram + "_count", "function").get((function,), 0.0)
    total = _sum_by(samples, histogram + "_sum", "function").get((function,), 0.0)
    return {"count": int(count), "mean": round(total / count * 1000.0, 3) if count else None}


def status_from_families(families: Iterable[Metric], metrics: Metrics) -> dict[str, Any]:
    samples: _Samples = defaultdict(list)
    for family in families:
        for sample in family.samples:
            samples[sample.name].append((sample.labels, sample.value))
    now = metrics.state.now()

    invocations = _sum_by(samples, "lambdahost_invocations_total", "function", "type", "outcome")
    retries = _sum_by(samples, "lambdahost_invocation_retries_total", "function")
    cold_starts = _sum_by(samples, "lambdahost_cold_starts_total", "function")
    throttles = _sum_by(samples, "lambdahost_throttles_total", "function")
    by_outcome = _sum_by(samples, "lambdahost_invocations_total", "function", "outcome")
    names = sorted({key[0] for table in (invocations, retries, cold_starts, throttles) for key in table})
    counts = {
        name: {
            **{outcome: int(by_outcome.get((name, outcome), 0)) for outcome in OUTCOMES},
            "retries": int(retries.get((name,), 0)),
            "cold_starts": int(cold_starts.get((name,), 0)),
            "throttles": int(throttles.get((name,), 0)),
        }
        for name in names
    }
    functions = [
        {
            "function": name,
            **counts[name],
            "duration_ms": _mean_ms(samples, "lambdahost_invocation_duration_seconds", name),
            "init_duration_ms": _mean_ms(samples, "lambdahost_init_duration_seconds", name),
        }
        for name in names
    ]
    totals = {
        key: sum(row[key] for row in counts.values()) for key in (*OUTCOMES, "retries", "cold_starts", "throttles")
    }

    environments: dict[str, dict[str, int]] = defaultdict(lambda: {"idle": 0, "busy": 0})
    for (function, state), value in _sum_by(samples, "lambdahost_environments", "function", "state").items():
        environments[function][state] = int(value)
    ages = _sum_by(samples, "lambdahost_worker_heartbeat_age_seconds", "worker", "host")
    beats = _sum_by(samples, "lambdahost_worker_heartbeat_timestamp_seconds", "worker", "host")
    store_up = bool(_sum_by(samples, "lambdahost_store_up").get((), 0.0))
    return {
        "version": __version__,
        "store": metrics.store_kind,
        "store_up": store_up,
        "started_at": metrics.started_at,
        "uptime_s": round(now - metrics.started_at, 3),
        "invocations": [
            {"function": f, "type": t, "outcome": o, "count": int(n)} for (f, t, o), n in sorted(invocations.items())
        ],
        "errors": [
            {"function": f, "type": t, "error_type": e, "count": int(n)}
            for (f, t, e), n in sorted(
                _sum_by(samples, "lambdahost_invocation_errors_total", "function", "type", "error_type").items()
            )
        ],
        "functions": functions,
        "totals": totals,
        "queues": [
            {"function": f, "lane": int(lane), "status": s, "count": int(n)}
            for (f, lane, s), n in sorted(
                _sum_by(samples, "lambdahost_queue_depth", "function", "lane", "status").items(),
                key=lambda item: (item[0][0], int(item[0][1]), item[0][2]),
            )
        ]
        if store_up
        else None,
        "environments": [{"function": f, **counts} for f, counts in sorted(environments.items())],
        "snapshot_templates": int(_sum_by(samples, "lambdahost_snapshot_templates").get((), 0)),
        "environments_started": int(_sum_by(samples, "lambdahost_environments_started_total").get((), 0)),
        "in_flight": {f: int(n) for (f,), n in sorted(_sum_by(samples, "lambdahost_in_flight", "function").items())},
        "workers": [
            {
                "id": worker,
                "host": host,
                "heartbeat_at": beats.get((worker, host)),
                "heartbeat_age_s": round(age, 3),
                "alive": age <= metrics.state.lease_s,
            }
            for (worker, host), age in sorted(ages.items())
        ]
        if store_up
        else None,
    }
