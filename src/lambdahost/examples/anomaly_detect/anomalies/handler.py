"""The ``anomaly-detect`` handler.

Event (a JTL or a series, not both)::

    {"jtl": "/path/results.jtl",   # a JMeter JTL CSV: throughput and mean response time per bucket
     "label": "Login",             # optional: only this label's samples (default: all)
     "bucket_s": 10,               # JTL bucket width in seconds
     "series": {"interval_s": 10, "start": 1700000000, "response_time": [...], "throughput": [...]},
     "window": 30, "min_periods": 10, "threshold": 3.5, "min_points": 2}   # the method (see detect.py)

Output directory contract (as ``jtl-report``): the plot ``anomalies.svg`` is written to ``LAMBDAHOST_OUTPUT_DIR``
when that is set (the platform keeps its files as the invocation's artifacts), otherwise to a new temporary
directory (``tempfile``: under ``$TMPDIR``, else ``/tmp``). Returns the anomalous windows (``metric``, ``kind``,
``start``, ``end``, ``points``, ``baseline``, ``observed``, ``score``), the method's settings, the number of points
per metric, malformed JTL rows, ``output_dir`` and ``outputs``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from .detect import Anomaly, Options, Score, find_windows
from .plot import render
from .series import Series, from_json, from_jtl

OUTPUT_ENV = "LAMBDAHOST_OUTPUT_DIR"
PLOT = "anomalies.svg"


def output_dir() -> Path:
    named = os.environ.get(OUTPUT_ENV)
    if named:
        Path(named).mkdir(parents=True, exist_ok=True)
        return Path(named)
    return Path(tempfile.mkdtemp(prefix="anomaly-detect-"))


def positive_int(event: dict[str, Any], key: str, default: int) -> int:
    value = event.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"'{key}' must be a positive integer")
    return value


def options_from(event: dict[str, Any]) -> Options:
    threshold = event.get("threshold", Options.threshold)
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold <= 0:
        raise ValueError("'threshold' must be a positive number")
    window = positive_int(event, "window", Options.window)
    return Options(
        window=window,
        min_periods=min(window, positive_int(event, "min_periods", min(Options.min_periods, window))),
        threshold=float(threshold),
        min_points=positive_int(event, "min_points", Options.min_points),
    )


def load(event: dict[str, Any]) -> Series:
    if ("jtl" in event) == ("series" in event):
        raise ValueError('the event needs either "jtl" (a path) or "series" (an object), not both')
    if "series" in event:
        return from_json(event["series"])
    if not isinstance(event["jtl"], str):
        raise ValueError("'jtl' must be a path")
    label = event.get("label")
    if label is not None and not isinstance(label, str):
        raise ValueError("'label' must be a string")
    return from_jtl(event["jtl"], positive_int(event, "bucket_s", 10), label)


def handler(event: Any, context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise ValueError("the event must be an object")
    options = options_from(event)
    series = load(event)
    anomalies: list[Anomaly] = []
    scores: dict[str, list[Score | None]] = {}
    for metric, values in series.values.items():
        times = [series.time(i) for i in range(len(values))]
        found, scores[metric] = find_windows(metric, values, times, series.interval_s, options)
        anomalies.extend(found)
    anomalies.sort(key=lambda a: (a.start, a.metric))
    out = output_dir()
    title = f"Anomalies: {event.get('jtl') or 'series'}"
    (out / PLOT).write_text(render(title, series, scores, anomalies), encoding="utf-8")
    print(f"{len(anomalies)} anomalous window(s); plot in {out / PLOT}")
    return {
        "anomalies": [a.as_dict() for a in anomalies],
        "points": {metric: len(values) for metric, values in series.values.items()},
        "interval_s": series.interval_s,
        "start": series.start,
        "method": {
            "baseline": "trailing rolling median",
            "spread": "median absolute deviation",
            "window": options.window,
            "min_periods": options.min_periods,
            "threshold": options.threshold,
            "min_points": options.min_points,
        },
        "malformed": series.malformed,
        "malformed_lines": series.malformed_lines,
        "output_dir": str(out),
        "outputs": [PLOT],
    }
