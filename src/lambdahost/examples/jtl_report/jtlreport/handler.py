"""The ``jtl-report`` handler: event in, report files and a JSON summary out.

Event::

    {"jtl": "/path/results.jtl",          # required: a JMeter JTL CSV with its header (a path, not a URL)
     "baseline": "/path/previous.jtl",    # optional: compare with this run
     "threshold_pct": 10,                 # a compared metric worse by more than this % is a regression
     "regression_metrics": ["p95"],       # any of count, errors, error_pct, throughput, mean, min, max, pNN
     "percentiles": [50, 90, 95, 99],     # of elapsed, latency and connect times (nearest rank)
     "title": "Checkout load test"}       # optional: the reports' title

Output directory contract: the reports are written to the directory named by the environment variable
``LAMBDAHOST_OUTPUT_DIR`` when it is set (the platform keeps that directory's files as the invocation's artifacts),
otherwise to a new temporary directory (``tempfile``: under ``$TMPDIR``, which lambdahost points at the
environment's own writable directory, else ``/tmp``). The summary names the directory and the files (``jtl-
report.xlsx``, ``jtl-report.html``), so a caller without artifacts can still find them.

The summary: ``totals`` and ``labels`` (count, errors, error %, throughput, elapsed/latency/connect
distributions, KB/s), ``regressions`` and ``comparison`` (with a baseline), ``rows``/``samples``/``subsamples``,
``malformed`` with ``malformed_lines`` (the first few), ``output_dir`` and ``outputs``. The per-second series
are in the files, not in the summary (which stays small whatever the test's length).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .compare import DEFAULT_METRICS, METRICS, Comparison, compare
from .excel import write_workbook
from .html_report import render
from .reader import JtlReader, ReadReport
from .stats import DEFAULT_PERCENTILES, LabelStats, accumulate, percentile_name, summarise

OUTPUT_ENV = "LAMBDAHOST_OUTPUT_DIR"
WORKBOOK, PAGE = "jtl-report.xlsx", "jtl-report.html"


def output_dir() -> Path:
    named = os.environ.get(OUTPUT_ENV)
    if named:
        path = Path(named)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="jtl-report-"))


def percentile_list(event: dict[str, Any], metrics: Sequence[str]) -> list[float]:
    requested = event.get("percentiles", list(DEFAULT_PERCENTILES))
    if not isinstance(requested, list) or not all(
        isinstance(p, int | float) and not isinstance(p, bool) and 0 < p <= 100 for p in requested
    ):
        raise ValueError("'percentiles' must be a list of numbers in (0, 100]")
    wanted = {float(p) for p in requested}
    for metric in metrics:  # a compared percentile is computed even when not listed
        if metric not in METRICS:
            try:
                wanted.add(float(metric[1:]))
            except ValueError:
                raise ValueError(f"unknown regression metric {metric!r}") from None
    return sorted(wanted)


def analyse(path: str, percentiles: Sequence[float]) -> tuple[list[LabelStats], LabelStats | None, ReadReport]:
    reader = JtlReader(path)
    rows, total = summarise(accumulate(reader), reader.columns, percentiles)
    return rows, total, reader.report


def handler(event: Any, context: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or not isinstance(event.get("jtl"), str):
        raise ValueError('the event must name the JTL file: {"jtl": "/path/results.jtl"}')
    metrics = event.get("regression_metrics", list(DEFAULT_METRICS))
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise ValueError("'regression_metrics' must be a list of names")
    threshold = event.get("threshold_pct", 10)
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold < 0:
        raise ValueError("'threshold_pct' must be a non-negative number")
    percentiles = percentile_list(event, metrics)
    names = [percentile_name(p) for p in percentiles]

    rows, total, read = analyse(event["jtl"], percentiles)
    if total is None:
        raise ValueError(f"{event['jtl']}: no sample ({read.rows} rows, {read.malformed} malformed)")
    comparison: Comparison | None = None
    baseline_path = event.get("baseline")
    if baseline_path is not None:
        if not isinstance(baseline_path, str):
            raise ValueError("'baseline' must be a path")
        base_rows, base_total, _ = analyse(baseline_path, percentiles)
        base_all = [*base_rows, base_total] if base_total else base_rows
        comparison = compare([*rows, total], base_all, metrics, float(threshold))

    out = output_dir()
    title = str(event.get("title") or f"JMeter report: {Path(event['jtl']).name}")
    write_workbook(out / WORKBOOK, rows, total, names, read, comparison, event["jtl"])
    (out / PAGE).write_text(render(title, rows, total, names, read, comparison), encoding="utf-8")
    print(f"{read.samples} samples, {len(rows)} labels, {read.malformed} malformed rows; reports in {out}")
    return {
        "jtl": event["jtl"],
        "totals": total.as_dict(),
        "labels": [row.as_dict() for row in rows],
        "percentiles": names,
        "rows": read.rows,
        "samples": read.samples,
        "subsamples": read.subsamples,
        "malformed": read.malformed,
        "malformed_lines": read.malformed_lines,
        "baseline": baseline_path,
        "regressions": [delta.as_dict() for delta in comparison.regressions] if comparison else [],
        "comparison": (
            {
                "threshold_pct": comparison.threshold_pct,
                "metrics": list(comparison.metrics),
                "deltas": [delta.as_dict() for delta in comparison.deltas],
                "only_current": list(comparison.only_current),
                "only_baseline": list(comparison.only_baseline),
            }
            if comparison
            else None
        ),
        "output_dir": str(out),
        "outputs": [WORKBOOK, PAGE],
    }
