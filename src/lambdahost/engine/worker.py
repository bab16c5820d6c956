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
request id stays the same. Not yet here: per-function event invoke config, destinations and dead-letter queues,
configurable lanes.
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
from lambdahost.core.model import ClaimRequest, Invocation, InvocationStatus, Transition
from lambdahost.engine.admission import Admission
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
    max_retry_attempts: int = 2  # AWS's default MaximumRetryAttempts: a failed attempt runs again twice
    retry_delays_s: tuple[float, ...] = (60.0, 120.0)  # AWS's ~1 min then ~2 min; shortened for tests and dev
    retry_jitter: float = 0.1  # each delay varies by up to this fraction, so failed bursts spread out
    throttle_wait_s: float = 0.05

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
        options: WorkerOptions = WorkerOptions(),
    ) -> None:
        self.store = store
        self.functions = functions
        self.pool = pool
        self.admission = admission
        self.id = worker_id
        self.options = options
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
        """Stop claiming; let the running invocations finish (their leases stay valid meanwhile)."""
        self._stop.set()
        self._wake.set()
        self._unsubscribe()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._executor.shutdown(wait=True)

    # -- the loop ----------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        next_heartbeat = 0.0
        while not self._stop.is_set():
            try:
                now = time.time()
                if now >= next_heartbeat:
                    self.store.heartbeat(self.id, socket.gethostname(), os.getpid(), now, self.options.lease_s)
                    self.store.recover_expired(self.id, now, self.options.max_attempts)
                    next_heartbeat = now + self.options.heartbeat_s
                self._claim(now)
            except Exception:  # a passing store error: try again after the poll interval
                log.exception("queue worker iteration failed", extra={"action": "worker_error", "worker": self.id})
            self._wake.wait(min(self.options.poll_s, max(0.0, next_heartbeat - time.time())))
            self._wake.clear()

    def _claim(self, now: float) -> None:
        with self._lock:
            free = self.options.slots - self._running
        if free <= 0:
            return
        pending = [d for d in self.store.queue_depth() if d.status is InvocationStatus.PENDING]
        if not pending:
            return
        share = max(1, free // len(pending))  # every lane with work gets its turn
        requests = [
            ClaimRequest(d.function_name, d.lane, self._lane_max(d.function_name), min(share, d.count)) for d in pending
        ]
        for invocation in self.store.claim(self.id, now, self.options.lease_s, requests)[:free]:
            with self._lock:
                self._running += 1
                self._held.add(invocation.id)
            self._executor.submit(self._run, invocation)

    def _lane_max(self, function_name: str) -> int:
        try:
            config, _spec = self.functions.resolve(function_name)
        except LambdaHostError:
            return self.admission.max_concurrency
        reserved = config.reserved_concurrency
        return self.admission.max_concurrency if reserved is None else max(1, reserved)

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
            self._wake.set()

    def _execute(self, invocation: Invocation) -> None:
        try:
            config, spec = self.functions.resolve(invocation.function_name)
        except LambdaHostError as exc:  # deleted since it was queued
            self._finish_without_running(invocation, type(exc).__name__, str(exc))
            return
        shared = self._admit(config.name)
        if shared is None:
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
                outcome = env.invoke(InvokeRequest(invocation.id, invocation.payload, self.functions.arn(config.name)))
            finally:
                with self._lock:
                    del self._environments[invocation.id]
                self.pool.release(env)
        finally:
            self.admission.release(config.name, shared)
        # a timeout or an environment lost to its memory limit is a failed attempt here, as on AWS, where
        # asynchronous invocations retry them like any function error
        status = InvocationStatus.SUCCEEDED if outcome.outcome is Outcome.OK else InvocationStatus.FAILED
        changes = invocation.replace(**record_fields(outcome, self.id), status=status)
        if status is InvocationStatus.FAILED and invocation.attempt < self.options.max_attempts:
            retry_at = outcome.finished_at + self.options.retry_delay(invocation.attempt, random.random())
            self.store.finish(
                invocation.id,
                self.id,
                Transition(InvocationStatus.PENDING, outcome.finished_at, self.id),
                changes.replace(status=InvocationStatus.PENDING, finished_at=None),
                retry_at=retry_at,
            )
            return
        self.store.finish(invocation.id, self.id, Transition(status, outcome.finished_at, self.id), changes)

    def _admit(self, function_name: str) -> bool | None:
        """A concurrency slot (whether it is shared, as ``Admission.acquire`` returns), waiting while throttled;
        None when the worker stops meanwhile."""
        while not self._stop.is_set():
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
