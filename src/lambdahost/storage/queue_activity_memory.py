"""The in-memory fake of ``QueueActivityStore`` (a mixin of ``InMemoryStore``), with the SQL store's semantics: the
same parts, the same caps (``storage.queue_activity``)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from lambdahost.core.model import Invocation, InvocationStatus
from lambdahost.core.queue_history import QueueActivity, Step
from lambdahost.storage.base import check_limit
from lambdahost.storage.queue_activity import Part, assemble

_FINISHED = (InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.TERMINATED)
_LEASED = (InvocationStatus.READY, InvocationStatus.RUNNING)


def _steps(invocation: Invocation) -> tuple[Step, ...]:
    return tuple((t.status, t.at) for t in invocation.transitions)


class QueueActivityMemoryStore:
    _lock: threading.Lock
    _invocations: dict[str, Invocation]

    def queue_activity(self, function_name: str, lanes: Sequence[int], since: float, limit: int) -> QueueActivity:
        check_limit(limit)
        chosen = set(lanes)
        if not chosen:
            return QueueActivity(since)
        with self._lock:
            queued = [
                inv
                for inv in self._invocations.values()
                if inv.function_name == function_name and inv.lane in chosen and inv.available_at is not None
            ]
        finished = [
            Part(inv.lane, _steps(inv), inv.finished_at)
            for inv in queued
            if inv.status in _FINISHED and inv.finished_at is not None and inv.finished_at >= since
        ]
        pending = [
            Part(inv.lane, _steps(inv), inv.available_at)
            for inv in queued
            if inv.status is InvocationStatus.PENDING and inv.available_at is not None and inv.available_at >= since
        ]
        leased = [Part(inv.lane, _steps(inv), 0.0) for inv in queued if inv.status in _LEASED]
        counts: dict[int, int] = {}
        for inv in queued:
            if inv.status is InvocationStatus.PENDING:
                counts[inv.lane] = counts.get(inv.lane, 0) + 1
        newest_first = sorted(finished, key=lambda part: -part.key)[:limit]
        return assemble(since, limit, newest_first, sorted(pending, key=lambda part: -part.key)[:limit], leased, counts)
