"""Dead-letter queue redrive: SQS's ``StartMessageMoveTask``/``ListMessageMoveTasks``/``CancelMessageMoveTask``.

A move task takes a dead-letter queue's messages that are not in flight back to where they came from: each to the
queue a redrive moved it out of (its ``source_arn``; queues whose RedrivePolicy names this dead-letter queue), or
all to a given destination. Moving is a store transaction per destination, so a task is over when
``StartMessageMoveTask`` answers: it is listed as ``COMPLETED`` with the count it moved (there is nothing left to
cancel). AWS moves messages over minutes at up to ``MaxNumberOfMessagesPerSecond``; here that setting is checked
(1-500) and reported, not needed. The ten most recent tasks per source are kept in memory by the process that ran
them (``ListMessageMoveTasks`` on another node does not see them)."""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass

from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.queue_errors import InvalidParameterValue, ResourceNotFound
from lambdahost.engine.message_queues import MessageQueues

MAX_LISTED = 10
MAX_RATE = 500
ALL = 1_000_000_000


@dataclass(frozen=True)
class MoveTask:
    handle: str
    source_arn: str
    destination_arn: str | None
    max_per_second: int | None
    moved: int
    started_at: float
    status: str = "COMPLETED"


class MessageMoves:
    def __init__(self, queues: MessageQueues, clock: Clock = wall_clock) -> None:
        self.queues = queues
        self._clock = clock
        self._tasks: dict[str, deque[MoveTask]] = {}
        self._lock = threading.Lock()

    def start(self, source_arn: str, destination_arn: str | None = None, max_per_second: int | None = None) -> MoveTask:
        if not source_arn.startswith("arn:"):
            raise InvalidParameterValue(f"Value {source_arn} for parameter SourceArn is invalid. Reason: not an ARN.")
        source = self.queues.get(source_arn)
        if max_per_second is not None and not 1 <= max_per_second <= MAX_RATE:
            raise InvalidParameterValue(f"MaxNumberOfMessagesPerSecond must be between 1 and {MAX_RATE}.")
        arn = self.queues.arn(source.name)
        if destination_arn is None and not self.queues.dead_letter_sources(arn):
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        started = self._clock()
        moved = self.queues.redrive(source.name, destination_arn, ALL)
        handle = secrets.token_urlsafe(24)
        task = MoveTask(handle, arn, destination_arn, max_per_second, moved, started)
        with self._lock:
            self._tasks.setdefault(arn, deque(maxlen=MAX_LISTED)).appendleft(task)
        return task

    def list(self, source_arn: str, limit: int | None = None) -> list[MoveTask]:
        """The most recent tasks of ``source_arn``, newest first (at most 10)."""
        if limit is not None and not 1 <= limit <= MAX_LISTED:
            raise InvalidParameterValue(f"MaxResults must be between 1 and {MAX_LISTED}.")
        source = self.queues.get(source_arn)
        with self._lock:
            found = list(self._tasks.get(self.queues.arn(source.name), ()))
        return found[: limit or 1]

    def cancel(self, handle: str) -> int:
        """Tasks finish before ``start`` returns: there is never a running one to cancel."""
        with self._lock:
            known = any(task.handle == handle for tasks in self._tasks.values() for task in tasks)
        if known:
            raise InvalidParameterValue("Only a task whose status is RUNNING can be cancelled; this one is COMPLETED.")
        raise ResourceNotFound("The resource that you specified for the TaskHandle parameter doesn't exist.")
