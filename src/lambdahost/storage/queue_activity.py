"""The storage port of a function's queue activity (``core.queue_history``), which ``Store`` inherits, and the rules
both implementations share.

What one read needs, for a function, some of its lanes and a window that starts at ``since``. Only queued
invocations count (``available_at`` set: synchronous ones never were in the queue). An invocation that waited at
some moment after ``since`` is, now, one of:

- finished (succeeded, failed, terminated), with ``finished_at >= since``: every end of the queue's lifecycle stores
  ``finished_at`` (``finish``, ``cancel``, recovery), never before the invocation left the queue, so one that
  finished earlier did not wait after ``since``. Read newest ``finished_at`` first, at most ``limit``.
- ``ready`` or ``running``: leased, so few (a lane's maximum bounds them). Read all.
- ``pending`` with ``available_at >= since``. ``available_at`` is never earlier than the moment the invocation last
  entered ``pending`` (``enqueue`` and ``finish`` make sure of it), so a pending invocation with an earlier
  ``available_at`` has waited since before ``since`` without a step since: it is counted, not read (``waiting``).
  Read newest ``available_at`` first, at most ``limit``.
- plus, per lane, the count of all its pending invocations (an index-only count), of which those not read are
  ``waiting``.

When a capped part fills its ``limit``, the window starts later: at the oldest ``finished_at`` read (what was not
read finished earlier, so did not wait after it), or at the oldest ``available_at`` read (what was not read has
waited since before it, and is counted in ``waiting``). So the answer is exact from its ``since`` on, and a read
costs at most ``2 * limit`` rows plus the leased ones, plus the count. Implemented in ``queue_activity_sql`` (one
statement) and ``queue_activity_memory``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from lambdahost.core.queue_history import QueueActivity, QueuedInvocation, Step


class QueueActivityStore(abc.ABC):
    @abc.abstractmethod
    def queue_activity(self, function_name: str, lanes: Sequence[int], since: float, limit: int) -> QueueActivity:
        """The queued invocations of ``function_name`` in ``lanes`` that may have waited after ``since``, with their
        transitions, and per lane how many others have waited since before it and still wait, read in one snapshot
        (see the module's documentation); at most ``limit`` finished and ``limit`` pending invocations are read,
        the window then starting later. ``InvalidParameterValue`` when ``limit`` is below 1; no lanes read
        nothing."""


class Part(NamedTuple):
    """One invocation a part of the read found: its lane, its steps and its key in that part (``finished_at`` of a
    finished one, ``available_at`` of a pending one)."""

    lane: int
    steps: tuple[Step, ...]
    key: float


def assemble(
    since: float,
    limit: int,
    finished: Sequence[Part],
    pending: Sequence[Part],
    leased: Iterable[Part],
    pending_counts: Mapping[int, int],
) -> QueueActivity:
    """The ``QueueActivity`` of the parts read: ``finished`` and ``pending`` newest key first, capped at ``limit``;
    ``pending_counts`` every pending invocation per lane."""
    start = since
    for part in (finished, pending):
        if len(part) >= limit:
            start = max(start, min(found.key for found in part))
    read = dict.fromkeys(pending_counts, 0)
    for found in pending:
        read[found.lane] = read.get(found.lane, 0) + 1
    waiting = {lane: pending_counts.get(lane, 0) - read[lane] for lane in read}
    invocations = tuple(QueuedInvocation(found.lane, found.steps) for found in (*finished, *pending, *leased))
    return QueueActivity(start, invocations, {lane: n for lane, n in waiting.items() if n})
