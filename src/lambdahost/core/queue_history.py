"""How many of a function's invocations waited in each lane of its queue, at every moment of a time window: exact,
from the stored lifecycle transitions (no sampling, no estimate).

An invocation waits in its lane from the moment it enters ``pending`` until it starts ``running`` or otherwise leaves
the queue (``failed``, ``terminated``); ``ready`` (claimed by a worker that has not started it yet) still waits, and
going back to ``pending`` (a retry, a recovered lease) waits again. Invocations that were never queued (synchronous
ones: ``available_at`` is None) never wait.

``QueueActivity`` is what the store reads for a window (``Store.queue_activity``); ``depth_series`` is the sweep that
turns it into one step series per lane. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from lambdahost.core.model import InvocationStatus, Transition

WAITING = frozenset({InvocationStatus.PENDING, InvocationStatus.READY})


Step = tuple[InvocationStatus, float]  # a lifecycle step as the sweep needs it: its status and time


class QueuedInvocation(NamedTuple):
    """One queued invocation as the sweep needs it: its lane and its lifecycle steps (status, time) in order (a
    tuple: the store makes a thousand of them for one chart)."""

    lane: int
    steps: tuple[Step, ...]

    @classmethod
    def of(cls, lane: int, transitions: Iterable[Transition]) -> QueuedInvocation:
        return cls(lane, tuple((t.status, t.at) for t in transitions))


@dataclass(frozen=True)
class QueueActivity:
    """A function's queue since ``since``, read in one snapshot: every queued invocation that may have waited at
    some moment after ``since`` (with its transitions), and per lane the number of others that have waited since
    before ``since`` and still do (``waiting``: pending all along, so their transitions add nothing). Together they
    give each lane's exact depth at every moment from ``since`` to the snapshot.

    ``since`` may be later than the start the store was asked for: when more invocations left or entered the queue
    in the window than the store reads at once, it is moved up to the oldest moment the rows read still describe
    exactly (see ``storage.queue_activity``)."""

    since: float
    invocations: tuple[QueuedInvocation, ...] = ()
    waiting: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DepthSeries:
    """One lane's depth over time, a step function: ``points[i] = (t, depth)`` holds from ``t`` until the next
    point's time. The first point is the window's start, the last its end (the current depth)."""

    lane: int
    points: tuple[tuple[float, int], ...]

    @property
    def now(self) -> int:
        return self.points[-1][1]

    @property
    def peak(self) -> int:
        return max(depth for _, depth in self.points)


def waits(steps: Sequence[Step]) -> list[tuple[float, float | None]]:
    """The intervals ``[entered, left)`` during which an invocation waited, in order; ``left`` is None while it still
    waits (its last step is ``pending`` or ``ready``). A step into ``ready`` right after ``pending`` continues the
    wait; leaving and entering at one instant makes an empty interval, which counts nowhere."""
    intervals: list[tuple[float, float | None]] = []
    entered: float | None = None
    for status, at in steps:
        inside = status in WAITING
        if inside and entered is None:
            entered = at
        elif not inside and entered is not None:
            intervals.append((entered, at))
            entered = None
    if entered is not None:
        intervals.append((entered, None))
    return intervals


def depth_series(activity: QueueActivity, lanes: Iterable[int], end: float) -> list[DepthSeries]:
    """Each lane's depth from ``activity.since`` to ``end`` (the time of the snapshot; moved later if a transition
    was recorded after it, by a node whose clock runs ahead), one series per lane of ``lanes`` and of the activity,
    in lane order. A change at time t counts from t on (intervals are half-open), and changes at one instant make
    one point; changes at or before ``since`` make the first point's depth."""
    start = activity.since
    changes: dict[int, dict[float, int]] = {lane: {} for lane in lanes}
    initial: dict[int, int] = dict.fromkeys(changes, 0)
    for lane, count in activity.waiting.items():
        initial[lane] = initial.get(lane, 0) + count
        changes.setdefault(lane, {})
    for invocation in activity.invocations:
        lane_changes = changes.setdefault(invocation.lane, {})
        initial.setdefault(invocation.lane, 0)
        for entered, left in waits(invocation.steps):
            if left is not None and left <= start:
                continue  # over before the window
            if entered <= start:
                initial[invocation.lane] += 1
            else:
                lane_changes[entered] = lane_changes.get(entered, 0) + 1
                end = max(end, entered)
            if left is not None:
                lane_changes[left] = lane_changes.get(left, 0) - 1
                end = max(end, left)
    end = max(end, start)
    series = []
    for lane in sorted(changes):
        depth = initial[lane]
        points = [(start, depth)]
        for at in sorted(changes[lane]):
            delta = changes[lane][at]
            if delta:
                depth += delta
                points.append((at, depth))
        if points[-1][0] < end:
            points.append((end, depth))
        series.append(DepthSeries(lane, tuple(points)))
    return series
