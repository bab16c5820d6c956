"""The scheduler: fires due schedules as asynchronous invocations, once per due time across every node.

Each node that runs queued work runs one ``Scheduler`` thread. Every ``tick_s`` it calls
``Store.claim_due_schedules``: in one transaction the store takes the due schedules (a schedule another node
claimed is no longer due: its ``next_fire_at`` moved on), moves each to its next due time after now
(``core.scheduling.next_due``) and inserts the Event invocation each firing makes (``_queue``), so a due time
is claimed if and only if its event is queued. After downtime a schedule fires once, for the earliest missed
time, then continues from now. The invocation then follows the function's asynchronous rules (retries, maximum
event age, destinations, dead-letter queue); its payload is the schedule's input or the scheduled event
(``core.scheduling.scheduled_event``), and a flexible time window delays it by a random part of the window
(``available_at``), as Scheduler spreads invocations.

A firing whose function is gone cannot be delivered: nothing is queued, and the event goes to the schedule's own
dead-letter queue (``Target.DeadLetterConfig``) with Scheduler's ``ERROR_CODE``/``ERROR_MESSAGE`` attributes, or
is logged. A one-time schedule with ``ActionAfterCompletion: DELETE`` is deleted after its last firing."""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lambdahost.core import scheduling
from lambdahost.core.errors import LambdaHostError
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.model import Invocation, ScheduleConfig
from lambdahost.engine.enqueue import Enqueuer
from lambdahost.storage.base import Store

log = logging.getLogger(__name__)

CLAIM_LIMIT = 100  # schedules per transaction; a round repeats while it claims this many


@dataclass(frozen=True)
class Firing:
    """One due time of one schedule, fired: the invocation queued for it, or why there is none."""

    schedule: str
    due: float
    request_id: str | None
    error: str | None = None


class Scheduler:
    def __init__(
        self,
        store: Store,
        enqueuer: Enqueuer,
        place: scheduling.Place,
        send_to_queue: Callable[[str, str, Mapping[str, tuple[str, str]]], str],
        wake: Callable[[str, int], None] = lambda function_name, lane: None,
        tick_s: float = 1.0,
        clock: Clock = wall_clock,
        jitter: Callable[[float], float] = lambda window_s: random.uniform(0.0, window_s),
    ) -> None:
        self.store = store
        self.enqueuer = enqueuer
        self.place = place
        self._send_to_queue = send_to_queue
        self._wake = wake
        self.tick_s = tick_s
        self._clock = clock
        self._jitter = jitter
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.fire_due()
            except Exception:
                log.exception("could not fire schedules", extra={"action": "schedules_failed"})
            self._stop.wait(self.tick_s)

    # -- one round ---------------------------------------------------------------------------------------------
    def fire_due(self, now: float | None = None) -> list[Firing]:
        """Fire everything due at ``now`` (default: the clock); returns what was fired, in claim order."""
        fired: list[Firing] = []
        while True:
            claimed = self._round(self._clock() if now is None else now)
            fired.extend(claimed)
            if len(claimed) < CLAIM_LIMIT:
                return fired

    def _round(self, now: float) -> list[Firing]:
        """One claim transaction, then what follows each firing it committed."""
        made: dict[tuple[str, float], Invocation | LambdaHostError] = {}

        def queue(schedule: ScheduleConfig, due: float) -> Invocation | None:
            try:
                invocation = self._invocation(schedule, due, now)
            except LambdaHostError as exc:  # the function is gone: nothing to queue
                made[(schedule.name, due)] = exc
                return None
            made[(schedule.name, due)] = invocation
            return invocation

        claimed = self.store.claim_due_schedules(now, CLAIM_LIMIT, scheduling.next_due, queue)
        return [self._after(schedule, due, made.get((schedule.name, due))) for schedule, due in claimed]

    def _invocation(self, schedule: ScheduleConfig, due: float, now: float) -> Invocation:
        payload = scheduling.scheduled_event(schedule, due, self.place, str(uuid.uuid4()))
        invocation = self.enqueuer.prepare(schedule.function_name, payload, schedule.qualifier)
        if schedule.flexible_window_minutes:
            delay = self._jitter(schedule.flexible_window_minutes * 60.0)
            invocation = invocation.replace(available_at=max(now, due + delay))
        return invocation

    def _after(self, schedule: ScheduleConfig, due: float, outcome: Invocation | LambdaHostError | None) -> Firing:
        """What follows a committed firing: wake the worker, or deliver the undeliverable; delete a finished
        schedule that asks for it."""
        if isinstance(outcome, Invocation):
            self._wake(outcome.function_name, outcome.lane)
            firing = Firing(schedule.name, due, outcome.id)
            log.info("schedule fired", extra={"action": "schedule_fired", "schedule": schedule.name, "due": due})
        else:
            error = outcome if outcome is not None else LambdaHostError("the event could not be made")
            firing = Firing(schedule.name, due, None, f"{error.code}: {error}")
            self._undeliverable(schedule, due, error)
        if schedule.next_fire_at is None and schedule.action_after_completion == "DELETE":
            self.store.delete_schedule(schedule.name)
        return firing

    def _undeliverable(self, schedule: ScheduleConfig, due: float, error: LambdaHostError) -> None:
        extra = {"action": "schedule_undeliverable", "schedule": schedule.name, "error": str(error)}
        if schedule.dead_letter_arn is None:
            log.warning("scheduled event not delivered", extra=extra)
            return
        body = scheduling.scheduled_event(schedule, due, self.place, str(uuid.uuid4())).decode()
        attributes = {
            "ERROR_CODE": ("String", error.code),
            "ERROR_MESSAGE": ("String", str(error) or error.code),
            "EXHAUSTED_RETRY_CONDITION": ("String", "MaximumRetryAttempts"),
            "RETRY_ATTEMPTS": ("Number", "0"),
            "SCHEDULE_ARN": ("String", self.place.schedule_arn(schedule.name)),
            "TARGET_ARN": ("String", self.enqueuer.functions.arn(schedule.function_name)),
        }
        try:
            self._send_to_queue(schedule.dead_letter_arn, body, attributes)
        except LambdaHostError:
            log.exception("could not deliver to the schedule's dead-letter queue", extra=extra)
