"""Comparison with a baseline run: per-label deltas and the regressions a threshold flags.

For every label of both runs and every compared metric the delta is ``current - baseline`` and the relative
change ``delta / baseline * 100`` (None when the baseline is 0). A metric *regresses* when it is worse by more
than ``threshold_pct`` percent: higher for times, errors and error %, lower for throughput. A worse value over a
baseline of 0 (errors where there were none) always regresses. Labels of only one run are listed, not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .stats import LabelStats

DEFAULT_METRICS = ("p95",)
METRICS = ("count", "errors", "error_pct", "throughput", "mean", "min", "max")
HIGHER_IS_BETTER = frozenset({"throughput", "count"})


@dataclass(frozen=True)
class Delta:
    label: str
    metric: str
    baseline: float
    current: float
    delta: float
    delta_pct: float | None
    regression: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "metric": self.metric,
            "baseline": round(self.baseline, 3),
            "current": round(self.current, 3),
            "delta": round(self.delta, 3),
            "delta_pct": None if self.delta_pct is None else round(self.delta_pct, 3),
            "regression": self.regression,
        }


@dataclass(frozen=True)
class Comparison:
    threshold_pct: float
    metrics: tuple[str, ...]
    deltas: tuple[Delta, ...]
    only_current: tuple[str, ...]
    only_baseline: tuple[str, ...]

    @property
    def regressions(self) -> tuple[Delta, ...]:
        return tuple(delta for delta in self.deltas if delta.regression)


def worse(metric: str, baseline: float, current: float, threshold_pct: float) -> bool:
    change = baseline - current if metric in HIGHER_IS_BETTER else current - baseline
    if change <= 0:
        return False
    return baseline == 0 or change / abs(baseline) * 100 > threshold_pct


def compare(
    current: Sequence[LabelStats], baseline: Sequence[LabelStats], metrics: Sequence[str], threshold_pct: float
) -> Comparison:
    base = {row.label: row for row in baseline}
    mine = {row.label: row for row in current}
    deltas = []
    for row in current:
        old = base.get(row.label)
        if old is None:
            continue
        for metric in metrics:
            now, then = row.metric(metric), old.metric(metric)
            if now is None or then is None:
                continue
            deltas.append(
                Delta(
                    label=row.label,
                    metric=metric,
                    baseline=then,
                    current=now,
                    delta=now - then,
                    delta_pct=(now - then) / then * 100 if then else None,
                    regression=worse(metric, then, now, threshold_pct),
                )
            )
    return Comparison(
        threshold_pct=threshold_pct,
        metrics=tuple(metrics),
        deltas=tuple(deltas),
        only_current=tuple(label for label in mine if label not in base),
        only_baseline=tuple(label for label in base if label not in mine),
    )
