"""Server-side SVG charts of a function's last runs (no JavaScript library): duration and max memory per run over
time, the count of each outcome, and the queue's depth per lane over the same time (a step chart of
``core.queue_history``'s series). Pure functions from records to markup; every text in them is escaped."""

from __future__ import annotations

import html
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup

from lambdahost.core.model import Invocation, InvocationStatus
from lambdahost.core.queue_history import DepthSeries

WIDTH, HEIGHT = 480, 160
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 20, 24
COLORS = {"succeeded": "#2f855a", "failed": "#c53030", "terminated": "#b7791f"}
FINAL = (InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.TERMINATED)
LANE_COLORS = ("#2b6cb0", "#d69e2e", "#805ad5", "#38a169", "#e53e3e", "#319795", "#dd6b20", "#4a5568")
LEGEND_ROW = 16


def _nice_max(value: float) -> float:
    """The axis maximum: ``value`` rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    scale = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * scale:
            return step * scale
    return value


def _time(epoch: float) -> str:
    return time.strftime("%m-%d %H:%M:%S", time.gmtime(epoch))


def line_chart(title: str, unit: str, runs: Sequence[Invocation], values: Sequence[float | None]) -> Markup:
    """One dot per run (colored by its outcome) joined by a line, oldest on the left; runs without a value
    (nothing ran) are skipped."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    known = [v for v in values if v is not None]
    top = _nice_max(max(known) if known else 0.0)
    n = max(len(runs) - 1, 1)
    points = []
    for i, (run, value) in enumerate(zip(runs, values, strict=True)):
        if value is None:
            continue
        x = LEFT + plot_w * (i / n if len(runs) > 1 else 0.5)
        y = TOP + plot_h * (1 - value / top)
        points.append((x, y, run, value))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(title)}">',
        f'<text class="chart-title" x="{LEFT}" y="13">{html.escape(title)}</text>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{top:g} {html.escape(unit)}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        parts.append(f'<polyline class="series" points="{path}"/>')
    for x, y, run, value in points:
        color = COLORS.get(run.status.value, "#4a5568")
        label = html.escape(f"{run.id}: {value:g} {unit} ({run.status.value}, {_time(run.created_at)})")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{label}</title></circle>')
    if runs:  # the time axis: when the first and the last run shown were created (UTC)
        first, last = _time(runs[0].created_at), _time(runs[-1].created_at)
        parts.append(f'<text class="tick" x="{LEFT}" y="{HEIGHT - 6}">{first}</text>')
        parts.append(f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{last}</text>')
    if not points:
        parts.append(f'<text class="tick" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no runs yet</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def outcome_chart(runs: Sequence[Invocation]) -> Markup:
    """A horizontal bar per final outcome (and one for runs not finished yet), with its count."""
    counts = Counter(run.status.value if run.status in FINAL else "unfinished" for run in runs)
    keys = [s.value for s in FINAL] + (["unfinished"] if counts["unfinished"] else [])
    most = max(counts.values(), default=0) or 1
    bar_h, gap = 22, 8
    height = TOP + len(keys) * (bar_h + gap)
    plot_w = WIDTH - 110 - 60
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Outcomes">',
        '<text class="chart-title" x="0" y="13">Outcomes</text>',
    ]
    for i, key in enumerate(keys):
        y = TOP + i * (bar_h + gap)
        w = plot_w * counts[key] / most
        parts.append(f'<text class="tick" x="0" y="{y + 15}">{key}</text>')
        parts.append(
            f'<rect x="110" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLORS.get(key, "#718096")}"/>'
            f'<text class="tick" x="{110 + w + 6:.1f}" y="{y + 15}">{counts[key]}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def for_runs(runs: Sequence[Invocation]) -> dict[str, Markup]:
    """The function page's three charts of ``runs`` (oldest first)."""
    return {
        "duration": line_chart("Duration per run", "ms", runs, [r.duration_ms for r in runs]),
        "memory": line_chart("Max memory per run", "MB", runs, [r.max_memory_mb for r in runs]),
        "outcomes": outcome_chart(runs),
    }


def step_points(
    points: Sequence[tuple[float, int]], x_of: Callable[[float], float], y_of: Callable[[int], float]
) -> str:
    """The ``points`` attribute of a step line through ``points`` (each depth held until the next time): a
    horizontal then a vertical segment per change. Vertices that fall in one unit of x (one pixel at the chart's
    size) are drawn at its first x as the vertical span they cover (entering, lowest, highest, leaving depth), so a
    burst of thousands of changes costs a few vertices and still shows its highest depth."""
    vertices: list[tuple[float, float]] = []
    for i, (at, depth) in enumerate(points):
        x = x_of(at)
        if i:
            vertices.append((x, y_of(points[i - 1][1])))
        vertices.append((x, y_of(depth)))
    drawn: list[tuple[float, float]] = []
    i = 0
    while i < len(vertices):
        x, column = vertices[i][0], int(vertices[i][0])
        ys = []
        while i < len(vertices) and int(vertices[i][0]) == column:
            ys.append(vertices[i][1])
            i += 1
        span = [ys[0], max(ys), min(ys), ys[-1]] if len(ys) > 2 else ys
        for y in span:
            if not drawn or drawn[-1] != (x, y):
                drawn.append((x, y))
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in drawn)


def queue_chart(series: Sequence[DepthSeries], lane_max: Mapping[int, int | None]) -> Markup:
    """How many invocations waited in each lane (pending, or claimed and not started yet) over time: one step line
    per lane, oldest on the left, the current depth at the right edge. ``lane_max`` is each lane's maximum
    concurrency (None: none of its own). Each lane's line carries its current and highest depth
    (``data-now``, ``data-peak``) and says them on hover and in the legend."""
    title = "Queue depth per lane (waiting to run)"
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    height = HEIGHT + LEGEND_ROW * len(series)
    peak = max((s.peak for s in series), default=0)
    top = _nice_max(float(peak))
    start = min((s.points[0][0] for s in series), default=0.0)
    end = max((s.points[-1][0] for s in series), default=start)
    span = end - start

    def x_of(at: float) -> float:
        return LEFT + (plot_w * (at - start) / span if span > 0 else 0.0)

    def y_of(depth: int) -> float:
        return TOP + plot_h * (1 - depth / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{html.escape(title)}">',
        f'<text class="chart-title" x="{LEFT}" y="13">{html.escape(title)}</text>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{top:g}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 6}">{_time(start)}</text>',
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{_time(end)} (now)</text>',
    ]
    for n, lane in enumerate(series):
        color = LANE_COLORS[n % len(LANE_COLORS)]
        limit = lane_max.get(lane.lane)
        name = f"lane {lane.lane}" + (f" (max {limit})" if limit is not None else "")
        label = html.escape(f"{name}: {lane.now} waiting now, at most {lane.peak} since {_time(start)}")
        parts.append(
            f'<g class="queue-lane" data-lane="{lane.lane}" data-now="{lane.now}" data-peak="{lane.peak}">'
            f"<title>{label}</title>"
            f'<polyline class="steps" stroke="{color}" points="{step_points(lane.points, x_of, y_of)}"/></g>'
        )
        y = HEIGHT + LEGEND_ROW * n + 10
        parts.append(
            f'<rect x="{LEFT}" y="{y - 8}" width="10" height="10" fill="{color}"/>'
            f'<text class="tick" x="{LEFT + 16}" y="{y + 1}">{label}</text>'
        )
    if peak == 0:
        parts.append(
            f'<text class="tick" x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle">'
            "nothing waited</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
