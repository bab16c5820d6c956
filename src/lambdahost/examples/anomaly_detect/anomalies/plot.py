"""The plot: one panel per metric (observed values, the rolling baseline dashed, anomalous windows shaded red),
as a self-contained SVG file (no script, no fonts or styles fetched)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .detect import Anomaly, Score
from .series import Series

WIDTH, PANEL_H, LEFT, RIGHT, TOP, BOTTOM = 900, 240, 60, 16, 28, 30
UNITS = {"response_time": "ms", "throughput": "samples/s"}


def panel(metric: str, series: Series, scores: Sequence[Score | None], anomalies: Sequence[Anomaly], top: int) -> str:
    values = series.values[metric]
    n = max(1, len(values))
    y_max = max([v for v in values if v is not None] + [s.baseline for s in scores if s is not None] + [1.0])
    inner_w, inner_h = WIDTH - LEFT - RIGHT, PANEL_H - TOP - BOTTOM

    def x(index: float) -> float:
        return LEFT + index / n * inner_w

    def y(value: float) -> float:
        return top + TOP + inner_h - value / y_max * inner_h

    parts = [f'<text x="{LEFT}" y="{top + 18}" class="title">{escape(metric)} ({UNITS.get(metric, "")})</text>']
    for anomaly in anomalies:
        first = (anomaly.start - series.start) / series.interval_s
        last = (anomaly.end - series.start) / series.interval_s
        parts.append(
            f'<rect class="anomaly" data-metric="{metric}" x="{x(first):.1f}" y="{top + TOP}"'
            f' width="{max(1.0, x(last) - x(first)):.1f}" height="{inner_h}"/>'
        )
    for i in range(5):
        value = y_max * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.4g}</text>')
    observed = " ".join(f"{x(i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(values) if v is not None)
    baseline = " ".join(f"{x(i + 0.5):.1f},{y(s.baseline):.1f}" for i, s in enumerate(scores) if s is not None)
    parts.append(f'<polyline class="observed" points="{observed}"/>')
    if baseline:
        parts.append(f'<polyline class="baseline" points="{baseline}"/>')
    span = len(values) * series.interval_s
    parts.append(f'<text x="{LEFT}" y="{top + PANEL_H - 10}">0 s</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{top + PANEL_H - 10}" text-anchor="end">{span:g} s</text>')
    return "".join(parts)


def render(title: str, series: Series, scores: dict[str, list[Score | None]], anomalies: Sequence[Anomaly]) -> str:
    metrics = list(series.values)
    height = PANEL_H * len(metrics)
    style = (
        "text{font:11px sans-serif;fill:#444}.title{font-size:13px;fill:#111}.grid{stroke:#e5e7eb}"
        ".observed{fill:none;stroke:#2563eb;stroke-width:1.2}"
        ".baseline{fill:none;stroke:#6b7280;stroke-dasharray:4 3}.anomaly{fill:#fecaca;opacity:.8}"
    )
    panels = "".join(
        panel(metric, series, scores[metric], [a for a in anomalies if a.metric == metric], i * PANEL_H)
        for i, metric in enumerate(metrics)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
        f"<title>{escape(title)}</title><style>{style}</style>{panels}</svg>"
    )
