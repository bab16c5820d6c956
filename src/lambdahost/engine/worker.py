"""Asynchronous invocation, the executing side: a worker that claims queued invocations with leases and runs them.

One loop thread heartbeats (extending the leases it holds), takes back the expired leases of lost workers, and
claims pending invocations up to its free slots; each claimed invocation runs on one of ``slots`` threads:
``ready -> running`` (only while this worker holds the lease), admission against the account and reserved
concurrency (a throttled invocation waits, leased and heartbeated, and uses no attempt), a warm or new
environment, then ``-> succeeded | failed`` with the result, log and measurements. ``wake()`` (called when an
invocation is queued in this process) ends the loop's wait at once; otherwise it looks again every
``poll_s``, or sooner when the store reports work queued by another process (PostgreSQL LISTEN/NOTIFY).

A failed attempt (function error, timeout, crash) goes back to ``pending`` with ``attempt + 1`` and a backoff
(``retry_delays_s``, with jitter) until ``max_retry_attempts`` retries are used, then ends ``failed``; the
request id stays the same. How many retries, and how old an event may get, come from the function's event invoke
config (``EventInvokeConfigs.effective``); the record of a final outcome goes to its destinations and dead-letter
queue (``destinations.Router``) before the final status is stored. Some invocations are stopped before they run
(``ready -> terminated``, then routed as failures): an event older than its maximum age (``EventAgeExceeded``), a
function whose reserved concurrency is 0 (``ZeroReservedConcurrency``), the 17th run of a function in one chain of
calls (``RecursiveInvocationException``, see ``lineage``).

Each lane of a function (``FunctionConfig.lanes``) has its own maximum concurrency, across all workers; free slots
are shared among the lanes with work, starting from a different lane each round, so a backlog in one lane never
starves another. ``close()`` (SIGTERM) stops claiming, hands back what has not started, lets running invocations
finish for up to ``shutdown_grace_s``, then kills what still runs and hands it back too.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lambdahost.core.errors import LambdaHostError, TooManyRequests
from lambdahost.core.model import (
    ClaimRequest,
    EventInvokeConfig,
    FunctionConfig,
    Invocation,
    InvocationStatus,
    Transition,
)
from lambdahost.engine import destinations, lineage
from lambdahost.engine.admission import Admission
from lambdahost.engine.destinations import Router
from lambdahost.engine.event_config import EventInvokeConfigs
from lambdahost.engine.functions import FunctionService
from lambdahost.engine.invoker import record_fields
from lambdahost.runtime.environment import Environment
from lambdahost.runtime.pool import EnvironmentPool
from lambdahost.runtime.spec import InvokeRequest, Outcome
from lambdahost.storage.base import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    slots: int = 8  # invocations run at once by this worker
    lease_s: float = 30.0  # a lease not extended for this long is taken back by another worker
    heartbeat_s: float = 2.0
    poll_s: float = 0.2
    max_retry_attempts: int = 2  # the most any function allows (MaximumRetryAttempts): lost workers' runs count
    retry_delays_s: tuple[float, ...] = (60.0, 120.0)  # AWS's ~1 min then ~2 min; shortened for tests and dev
    retry_jitter: float = 0.1  # each delay varies by up to this fraction, so failed bursts spread out
    throttle_wait_s: float = 0.05
    shutdown_grace_s: float = 30.0  # close() lets running invocations finish for this long

    @property
    def max_attempts(self) -> int:
        return 1 + self.max_retry_attempts

    def retry_delay(self, attempt: int, draw: float) -> float:
        """The wait before attempt ``attempt + 1``; ``draw`` is a random number in [0, 1)."""
        base = self.retry_delays_s[min(attempt, len(self.retry_delays_s)) - 1]
        return base * (1 + self.retry_jitter * (2 * draw - 1))


class QueueWorker:
    def __init__(
        self,
        store: Store,
        functions: FunctionService,
        pool: EnvironmentPool,
        admission: Admission,
        worker_id: str,
        event_configs: EventInvokeConfigs,
        router: Router,
        options: WorkerOptions = WorkerOptions(),
        on_finished: Callable[[Invocation], None] = lambda invocation: None,
    ) -> None:
        self.store = store
        self.functions = functions
        self.pool = pool
        self.admission = admission
        self.id = worker_id
        self.event_configs = event_configs
        self.router = router
        self.options = options
        self._on_finished = on_finished
        self._rotation = 0  # where the next claim round starts among the lanes with work
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running = 0
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max(1, options.slots), thread_name_prefix="invocation")
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] = lambda: None
        self._environments: dict[str, Environment] = {}  # invocation id -> the environment running it here
        self._held: set[str] = set()  # invocations claimed by this worker and not done with yet
        self._cancelled: set[str] = set()  # of those, the ones cancelled before their environment was known
        self._shutdown: set[str] = set()  # of those, the ones killed by close(): handed back, not finished
        self._idle = threading.Event()  # set whenever an invocation ends here

    def start(self) -> None:
        if self._thread is None:
            self._unsubscribe = self.store.subscribe(self.wake)  # work queued by other processes
            self._thread = threading.Thread(target=self._loop, name="queue-worker", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, invocation_id: str) -> bool:
        """Terminate an unfinished invocation: in the store (any worker then fails to finish it), and, when it
        runs here, by killing its environment. False when it is missing or already finished."""
        if not self.store.cancel(invocation_id, self.id, time.time()):
            return False
        with self._lock:
            if invocation_id in self._held:
                self._cancelled.add(invocation_id)
            env = self._environments.get(invocation_id)
        if env is not None:
            env.kill("cancelled")
        return True

    def close(self) -> None:
        """Stop claiming and give back what this worker holds: invocations not started yet at once, running ones
        after they finish or, past ``shutdown_grace_s``, after their environments are killed (their leases stay
        valid meanwhile, extended by a heartbeat of their own)."""
        self._stop.set()
        self._wake.set()
        self._unsubscribe()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        deadline = time.monotonic() + self.options.shutdown_grace_s
        while True:
            with self._lock:
                running = self._running
            if running == 0:
                break
            if time.monotonic() >= deadline:
                self._kill_running("shutdown")
                break
            self._extend_leases()
            self._idle.wait(min(self.options.heartbeat_s, max(0.0, deadline - time.monotonic())))
            self._idle.clear()
        self._executor.shutdown(wait=True)
        try:
            handed = self.store.hand_back(self.id, time.time(), self.options.max_attempts)
            if handed:
                log.info("handed back", extra={"action": "worker_hand_back", "worker": self.id, "n": len(handed)})
                self._route_lost(handed)
        except Exception:  # they come back anyway once their leases expire
            log.exception("could not hand back invocations", extra={"action": "worker_hand_back", "worker": self.id})

    def _extend_leases(self) -> None:
        try:
            self.store.heartbeat(self.id, socket.gethostname(), os.getpid(), time.time(), self.options.lease_s)
        except Exception:
            log.exception("heartbeat failed", extra={"action": "worker_error", "worker": self.id})

    def _kill_running(self, reason: str) -> None:
        with self._lock:
            self._shutdown.update(self._environments)
            running = list(self._environments.values())
        for env in running:
            env.kill(reason)

    # -- the loop ----------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        next_heartbeat = 0.0
        while not self._stop.is_set():
            try:
                now = time.time()
                if now >= next_heartbeat:
                    with self._lock:
                        held = len(self._held)
                    extended = self.store.heartbeat(
                        self.id, socket.gethostname(), os.getpid(), now, self.options.lease_s
                    )
                    if extended < held:  # some ended meanwhile, or were cancelled through another process
                        self._stop_cancelled_elsewhere()
                    recovered = self.store.recover_expired(self.id, now, self.options.max_attempts)
                    if recovered:
                        self._route_lost(recovered)
                    next_heartbeat = now + self.options.heartbeat_s
                self._claim(now)
            except Exception:  # a passing store error: try again after the poll interval
                log.exception("queue worker iteration failed", extra={"action": "worker_error", "worker": self.id})
            self._wake.wait(min(self.options.poll_s, max(0.0, next_heartbeat - time.time())))
            self._wake.clear()

    def _stop_cancelled_elsewhere(self) -> None:
        """Kill the environments running invocations that were terminated through another process (``lambdahost
        invocations cancel`` answered by another server): found by the heartbeat, within ``heartbeat_s``."""
        with self._lock:
            running = dict(self._environments)
        for invocation_id, env in running.items():
            found = self.store.get_invocation(invocation_id)
            if found is not None and found.status is InvocationStatus.TERMINATED:
                with self._lock:
                    self._cancelled.add(invocation_id)
                log.info("cancelled elsewhere", extra={"action": "worker_cancelled", "id": invocation_id})
                env.kill("cancelled")

    def _claim(self, now: float) -> None:
        with self._lock:
            free = self.options.slots - self._running
        if free <= 0:
            return
        pending = [d for d in self.store.queue_depth() if d.status is InvocationStatus.PENDING]
        if not pending:
            return
        start = self._rotation % len(pending)
        self._rotation += 1
        pending = pending[start:] + pending[:start]  # a different lane goes first each round
        share = max(1, free // len(pending))  # every lane with work gets its turn
        requests = [
            ClaimRequest(d.function_name, d.lane, self._lane_max(d.function_name, d.lane), min(share, d.count))
            for d in pending
        ]
        for invocation in self.store.claim(self.id, now, self.options.lease_s, requests)[:free]:
            with self._lock:
                self._running += 1
                self._held.add(invocation.id)
            self._executor.submit(self._run, invocation)

    def _lane_max(self, function_name: str, lane: int) -> int:
        """How many of the lane's invocations may be ready or running at once, across all workers: the lane's own
        maximum, within the function's reserved concurrency (at least 1: an invocation of a function with reserved
        concurrency 0 is claimed to be routed, not run) and the account's limit."""
        try:
            config, _spec = self.functions.resolve(function_name)
        except LambdaHostError:
            return 1  # deleted: claimed one at a time to be failed
        cap = self.admission.max_concurrency
        if config.reserved_concurrency is not None:
            cap = min(cap, max(1, config.reserved_concurrency))
        if config.lanes is not None and lane < len(config.lanes):
            cap = min(cap, config.lanes[lane])
        return cap

    # -- one invocation ----------------------------------------------------------------------------------------
    def _run(self, invocation: Invocation) -> None:
        try:
            self._execute(invocation)
        except Exception:  # the lease lapses and another worker (or this one) takes it back
            log.exception("invocation failed in the worker", extra={"action": "worker_run", "id": invocation.id})
        finally:
            with self._lock:
                self._running -= 1
                self._held.discard(invocation.id)
                self._cancelled.discard(invocation.id)
                self._shutdown.discard(invocation.id)
            self._wake.set()
            self._idle.set()

    def _execute(self, invocation: Invocation) -> None:
        try:
            config, spec = self.functions.resolve(invocation.function_name)
        except LambdaHostError as exc:  # deleted since it was queued
            self._finish_without_running(invocation, type(exc).__name__, str(exc))
            return
        settings = self.event_configs.effective(config.name)
        now = time.time()
        trace, runs = lineage.extend(invocation.trace, config.name, now)
        invocation = invocation.replace(trace=trace)
        if config.reserved_concurrency == 0:
            message = "The function's reserved concurrency is 0: its asynchronous invocations do not run."
            self._stop_before_running(invocation, config, settings, destinations.ZERO_RESERVED_CONCURRENCY, message)
            return
        if runs > lineage.MAX_RUNS_PER_CHAIN:
            message = f"{lineage.RECURSION_MESSAGE} (run {runs} of {config.name} in one chain of calls)"
            self._stop_before_running(invocation, config, settings, destinations.RECURSIVE_LOOP, message)
            return
        expires = invocation.created_at + settings.max_event_age_s
        if now > expires:
            self._stop_before_running(invocation, config, settings, destinations.EVENT_AGE_EXCEEDED, _too_old(settings))
            return
        shared = self._admit(config.name, expires)
        if shared is None:
            if not self._stop.is_set():  # throttled until the event became too old
                self._stop_before_running(
                    invocation, config, settings, destinations.EVENT_AGE_EXCEEDED, _too_old(settings)
                )
            return
        try:
            if not self.store.start(invocation.id, self.id, time.time()):
                return  # no longer ours (cancelled, or taken back after a lost lease)
            env = self.pool.acquire(spec)
            with self._lock:
                cancelled = invocation.id in self._cancelled  # while its environment was starting
                if not cancelled:
                    self._environments[invocation.id] = env
            if cancelled:
                self.pool.release(env)
                return
            try:
                request = InvokeRequest(invocation.id, invocation.payload, self.functions.arn(config.name), trace=trace)
                outcome = env.invoke(request)
            finally:
                with self._lock:
                    if self._environments.get(invocation.id) is env:  # not a later attempt's (claimed again)
                        del self._environments[invocation.id]
                    handed_back = invocation.id in self._shutdown
                self.pool.release(env)
        finally:
            self.admission.release(config.name, shared)
        if handed_back:
            return  # killed by close(): given back to the queue, not a failed attempt
        # a timeout or an environment lost to its memory limit is a failed attempt here, as on AWS, where
        # asynchronous invocations retry them like any function error
        status = InvocationStatus.SUCCEEDED if outcome.outcome is Outcome.OK else InvocationStatus.FAILED
        changes = invocation.replace(**record_fields(outcome, self.id), status=status)
        condition = destinations.SUCCESS
        if status is InvocationStatus.FAILED:
            condition = destinations.RETRIES_EXHAUSTED
            if invocation.attempt <= settings.retry_attempts:
                retry_at = outcome.finished_at + self.options.retry_delay(invocation.attempt, random.random())
                if retry_at <= expires:
                    again = changes.replace(status=InvocationStatus.PENDING, finished_at=None)
                    step = Transition(InvocationStatus.PENDING, outcome.finished_at, self.id)
                    if self.store.finish(invocation.id, self.id, step, again, retry_at=retry_at):
                        self._on_finished(again)  # a failed attempt: counted as a retry
                    return
                condition = destinations.EVENT_AGE_EXCEEDED
        routed = self.router.route(changes, settings, config.dead_letter_target, condition)
        final = routed.apply(changes)
        if self.store.finish(invocation.id, self.id, Transition(status, outcome.finished_at, self.id), final):
            self._on_finished(final)

    def _stop_before_running(
        self,
        invocation: Invocation,
        config: FunctionConfig,
        settings: EventInvokeConfig,
        condition: str,
        message: str,
    ) -> None:
        """End a claimed invocation without running it (``ready -> terminated``) and route it as a failure."""
        now = time.time()
        stopped = invocation.replace(
            status=InvocationStatus.TERMINATED,
            error_type=condition,
            error_message=message,
            worker=self.id,
            finished_at=now,
        )
        final = self.router.route(stopped, settings, config.dead_letter_target, condition).apply(stopped)
        if self.store.finish(invocation.id, self.id, Transition(InvocationStatus.TERMINATED, now, self.id), final):
            self._on_finished(final)

    def _route_lost(self, ids: list[str]) -> None:
        """Route the invocations that ``recover_expired``/``hand_back`` failed (their workers were lost too often):
        a final failure like any other. The store has already stored it; the routing fields are added after."""
        for invocation_id in ids:
            found = self.store.get_invocation(invocation_id)
            if found is None or found.status is not InvocationStatus.FAILED or found.routed_to is not None:
                continue
            try:
                config, _spec = self.functions.resolve(found.function_name)
            except LambdaHostError:
                continue
            settings = self.event_configs.effective(config.name)
            routed = self.router.route(found, settings, config.dead_letter_target, destinations.RETRIES_EXHAUSTED)
            self.store.record_transition(
                found.id,
                found.transitions[-1],
                expected=InvocationStatus.FAILED,
                changes=routed.apply(found),
            )
            self._on_finished(routed.apply(found))

    def _admit(self, function_name: str, expires: float) -> bool | None:
        """A concurrency slot (whether it is shared, as ``Admission.acquire`` returns), waiting while throttled
        (no attempt is used meanwhile); None when the worker stops or the event gets older than its maximum age."""
        while not self._stop.is_set() and time.time() <= expires:
            try:
                return self.admission.acquire(function_name)
            except TooManyRequests:
                self._stop.wait(self.options.throttle_wait_s)
        return None

    def _finish_without_running(self, invocation: Invocation, error_type: str, message: str) -> None:
        now = time.time()
        if not self.store.start(invocation.id, self.id, now):
            return
        changes = invocation.replace(
            status=InvocationStatus.FAILED,
            error_type=error_type,
            error_message=message,
            function_error="Unhandled",
            finished_at=now,
            worker=self.id,
        )
        self.store.finish(invocation.id, self.id, Transition(InvocationStatus.FAILED, now, self.id), changes)


def _too_old(settings: EventInvokeConfig) -> str:
    return f"The event is older than the function's MaximumEventAgeInSeconds ({settings.max_event_age_s} s)."
