"""Robust anomaly scores and windows: a trailing rolling median and MAD, a robust z-score, runs of flagged points.

For point i, the baseline is the median of the ``window`` previous non-missing points (not i itself), and the
spread their median absolute deviation (MAD). The robust z-score is ``0.6745 * (x - median) / MAD`` (Iglewicz
and Hoaglin's modified z-score: 0.6745 makes it comparable to a standard score on normal data). A MAD of 0 (a flat
baseline) is raised to 1 % of the median's magnitude, so a flat series still has a scale. A point is scored only
once ``min_periods`` previous points exist, so a short ramp-up is not judged against nothing.

Response-time *spikes* are points with z > ``threshold``; throughput *drops* points with z < -``threshold``.
Consecutive flagged points form a window, kept when it has at least ``min_points`` points; a missing point ends
a window. Medians resist the anomalies themselves: a window shorter than half the rolling window does not move
the baseline much.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

CONSISTENCY = 0.6745
DIRECTIONS = {"response_time": ("spike", 1), "throughput": ("drop", -1)}


@dataclass(frozen=True)
class Options:
    window: int = 30
    min_periods: int = 10
    threshold: float = 3.5
    min_points: int = 2


@dataclass(frozen=True)
class Score:
    baseline: float
    z: float


@dataclass(frozen=True)
class Anomaly:
    metric: str
    kind: str  # "spike" or "drop"
    start: float  # epoch seconds (or series time) of the first point
    end: float  # the end of the last point (exclusive)
    points: int
    baseline: float  # the median of the points' baselines
    observed: float  # the mean of the observed values
    score: float  # the largest |z| in the window

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "points": self.points,
            "baseline": round(self.baseline, 3),
            "observed": round(self.observed, 3),
            "score": round(self.score, 2),
        }


def rolling_scores(values: Sequence[float | None], options: Options) -> list[Score | None]:
    """The score of each point against its trailing window (None: missing, or too little history)."""
    recent: deque[float] = deque()
    ordered: list[float] = []
    scores: list[Score | None] = []
    for value in values:
        if value is None:
            scores.append(None)
            continue
        if len(ordered) >= options.min_periods:
            centre = median(ordered)
            mad = median(abs(x - centre) for x in ordered)
            scale = max(mad, 0.01 * abs(centre), 1e-9)
            scores.append(Score(centre, CONSISTENCY * (value - centre) / scale))
        else:
            scores.append(None)
        recent.append(value)
        bisect.insort(ordered, value)
        if len(recent) > options.window:
            ordered.pop(bisect.bisect_left(ordered, recent.popleft()))
    return scores


def find_windows(
    metric: str, values: Sequence[float | None], times: Sequence[float], step: float, options: Options
) -> tuple[list[Anomaly], list[Score | None]]:
    """The anomalous windows of one metric, and every point's score (for the plot)."""
    kind, sign = DIRECTIONS[metric]
    scores = rolling_scores(values, options)
    found: list[Anomaly] = []
    run: list[int] = []

    def close() -> None:
        if len(run) >= options.min_points:
            picked = [(values[i], scores[i]) for i in run]
            found.append(
                Anomaly(
                    metric=metric,
                    kind=kind,
                    start=times[run[0]],
                    end=times[run[-1]] + step,
                    points=len(run),
                    baseline=median(s.baseline for _, s in picked if s is not None),
                    observed=sum(v for v, _ in picked if v is not None) / len(run),
                    score=max(abs(s.z) for _, s in picked if s is not None),
                )
            )
        run.clear()

    for index, score in enumerate(scores):
        if score is not None and sign * score.z > options.threshold:
            run.append(index)
        else:
            close()
    close()
    return found, scores
