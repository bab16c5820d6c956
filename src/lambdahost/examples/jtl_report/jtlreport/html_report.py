"""The self-contained HTML report: inline CSS and SVG, no script, no network access.

The totals table carries ``id="totals"`` and each figure cell a ``data-metric`` attribute, so the page can be
checked (and scraped) without depending on its layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from .compare import Comparison
from .reader import ReadReport
from .stats import LabelStats, SecondPoint
from .svg import line_chart

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111}
table{border-collapse:collapse;margin:8px 0 24px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f1f5f9}
tr.regression td{background:#fee2e2}
.bad{color:#b91c1c}
svg{display:block;margin:8px 0}
svg text{font-size:11px;fill:#444}
svg .title{font-size:13px;fill:#111}
svg .grid{stroke:#e5e7eb}
"""


def cell(value: Any, metric: str | None = None) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, float):
        text = f"{value:,.2f}"
    else:
        text = escape(str(value))
    attribute = f' data-metric="{metric}"' if metric else ""
    return f"<td{attribute}>{text}</td>"


def stats_header(percentiles: Sequence[str]) -> str:
    names = ["Label", "Samples", "Errors", "Error %", "Throughput/s", "Mean", "Min", "Max", *percentiles]
    names += ["Latency p95", "Connect p95", "Received KB/s", "Sent KB/s"]
    return "<tr>" + "".join(f"<th>{escape(name)}</th>" for name in names) + "</tr>"


def stats_row(row: LabelStats, percentiles: Sequence[str], marked: bool = False) -> str:
    figures = [
        cell(row.label),
        cell(row.count, "count" if marked else None),
        cell(row.errors, "errors" if marked else None),
        cell(row.error_pct, "error_pct" if marked else None),
        cell(row.throughput, "throughput" if marked else None),
        cell(row.elapsed.mean, "mean" if marked else None),
        cell(row.elapsed.min, "min" if marked else None),
        cell(row.elapsed.max, "max" if marked else None),
        *(cell(row.elapsed.percentiles[name], name if marked else None) for name in percentiles),
        cell(row.latency.percentiles.get("p95") if row.latency else None),
        cell(row.connect.percentiles.get("p95") if row.connect else None),
        cell(row.kb_per_s(row.received_bytes)),
        cell(row.kb_per_s(row.sent_bytes)),
    ]
    return "<tr>" + "".join(figures) + "</tr>"


def series_points(series: Sequence[SecondPoint], start_s: int) -> tuple[list[tuple[float, float]], ...]:
    throughput = [(float(p.second - start_s), float(p.count)) for p in series]
    response = [(float(p.second - start_s), p.mean_elapsed) for p in series]
    return throughput, response


def comparison_section(comparison: Comparison) -> str:
    rows = []
    for delta in comparison.deltas:
        marker = ' class="regression"' if delta.regression else ""
        rows.append(
            f"<tr{marker}>{cell(delta.label)}{cell(delta.metric)}{cell(delta.baseline)}{cell(delta.current)}"
            f"{cell(delta.delta)}{cell(delta.delta_pct)}{cell('REGRESSION' if delta.regression else 'ok')}</tr>"
        )
    head = "".join(
        f"<th>{name}</th>" for name in ("Label", "Metric", "Baseline", "Current", "Delta", "Delta %", "Verdict")
    )
    count = len(comparison.regressions)
    return (
        f'<h2>Comparison with the baseline</h2><p id="regressions" data-count="{count}">{count} regression(s):'
        f" worse by more than {comparison.threshold_pct:g} % on {', '.join(comparison.metrics)}.</p>"
        f'<table id="comparison"><tr>{head}</tr>{"".join(rows)}</table>'
    )


def render(
    title: str,
    rows: Sequence[LabelStats],
    total: LabelStats,
    percentiles: Sequence[str],
    read: ReadReport,
    comparison: Comparison | None,
) -> str:
    start_s = total.start_ms // 1000
    throughput, response = series_points(total.series, start_s)
    bad = ""
    if read.malformed:
        lines = ", ".join(str(line) for line in read.malformed_lines)
        bad = f'<p class="bad" id="malformed" data-count="{read.malformed}">{read.malformed} malformed row(s)'
        bad += f" skipped (first at lines {lines}).</p>"
    label_charts = []
    for row in rows:
        tp, rt = series_points(row.series, start_s)
        label_charts.append(
            f"<h3>{escape(row.label)}</h3>"
            + line_chart("Throughput", tp, "samples/s", "#16a34a")
            + line_chart("Mean response time", rt, "ms", "#dc2626")
        )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>{total.count} samples over {total.span_s:,.1f} s; {read.subsamples} sub-samples skipped.</p>{bad}"
        f'<h2>Totals</h2><table id="totals">{stats_header(percentiles)}{stats_row(total, percentiles, True)}</table>'
        f'<h2>Per label</h2><table id="labels">{stats_header(percentiles)}'
        + "".join(stats_row(row, percentiles) for row in rows)
        + "</table>"
        + (comparison_section(comparison) if comparison else "")
        + "<h2>Over time (all labels)</h2>"
        + line_chart("Throughput", throughput, "samples/s", "#16a34a")
        + line_chart("Mean response time", response, "ms", "#dc2626")
        + "<h2>Over time, per label</h2>"
        + "".join(label_charts)
        + "</body></html>"
    )
