"""A small SVG line chart (no dependency, no script): what the HTML report draws its time series with."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 720, 220, 56, 16, 24, 28
MAX_POINTS = 2000  # longer series are thinned to this many points (every k-th), enough for a 720 px chart


def thin(points: Sequence[tuple[float, float]], limit: int = MAX_POINTS) -> Sequence[tuple[float, float]]:
    step = max(1, -(-len(points) // limit))
    return points[::step]


def number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def line_chart(title: str, points: Sequence[tuple[float, float]], unit: str, colour: str = "#2563eb") -> str:
    """``points`` (x = seconds from the start, y) as an inline ``<svg>``; an empty series draws an empty frame."""
    shown = thin(points)
    x_max = max((x for x, _ in shown), default=1) or 1
    y_max = max((y for _, y in shown), default=1) or 1
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def xy(x: float, y: float) -> str:
        return f"{PAD_LEFT + x / x_max * inner_w:.1f},{PAD_TOP + inner_h - y / y_max * inner_h:.1f}"

    path = " ".join(xy(x, y) for x, y in shown)
    grid = []
    for i in range(5):
        y = y_max * i / 4
        top = PAD_TOP + inner_h - inner_h * i / 4
        grid.append(f'<line x1="{PAD_LEFT}" y1="{top:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{top:.1f}" class="grid"/>')
        grid.append(f'<text x="{PAD_LEFT - 4}" y="{top + 4:.1f}" text-anchor="end">{number(y)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' role="img" aria-label="{escape(title)}">'
        f'<text x="{PAD_LEFT}" y="15" class="title">{escape(title)} ({escape(unit)})</text>'
        + "".join(grid)
        + f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 8}" text-anchor="end">{number(x_max)} s</text>'
        + f'<text x="{PAD_LEFT}" y="{HEIGHT - 8}">0 s</text>'
        + (f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>' if path else "")
        + "</svg>"
    )
