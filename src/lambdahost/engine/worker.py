"""Asynchronous invocation, the executing side: a worker that claims queued invocations with leases and runs them.

Everything runs on one asyncio loop in one thread, so the worker's own steps never wait for each other's threads:
each round it heartbeats (extending its leases; every ``heartbeat_s``), takes back the expired leases of lost
workers, writes the outcomes that finished since the last round in one transaction (``Store.finish_many``), and
claims pending invocations up to its free ``slots``, starting them in the same statement (one transaction for every
lane, ``Store.claim`` with ``ClaimRequest.start``), and runs each as a task that awaits its
environment's reply (``Environment.invoke_async``; a new environment is started on a thread). ``wake()`` (an
enqueue in this process) ends the loop's wait at once; work queued by other processes arrives through
``Store.subscribe`` (PostgreSQL LISTEN/NOTIFY, SQLite wake-up sockets); otherwise the loop looks every ``poll_s``.

Which lanes to claim from: the lanes this process queued work into (``wake(function, lane)``), the lanes of the
invocations it finishes, and every lane with pending work read from the store's exact depth (at start, every
``lanes_refresh_s``, and at once when another process queued work). A lane that gives fewer invocations than asked
is dropped until one of those brings it back. Free slots are shared among the lanes, starting from a different lane
each round, so a backlog in one lane never starves another; each lane of a function (``FunctionConfig.lanes``) has
its own maximum concurrency across all workers. Admission (account and reserved concurrency) is taken before a
claim: a throttled function's invocations stay ``pending``, using no attempt, until a slot frees.

A failed attempt (function error, timeout, crash) goes back to ``pending`` with ``attempt + 1`` and a backoff
(``retry_delays_s``, with jitter) until the function's MaximumRetryAttempts are used, then ends ``failed``; the
request id stays the same. How many retries, and how old an event may get, come from the function's event invoke
config (``EventInvokeConfigs.effective``); the record of a final outcome goes to its destinations and dead-letter
queue (``destinations.Router``) before the final status is stored. Some invocations are stopped before they run
(``ready -> terminated``, then routed as failures): an event older than its maximum age (``EventAgeExceeded``), a
function whose reserved concurrency is 0 (``ZeroReservedConcurrency``), the 17th run of a function in one chain of
calls (``RecursiveInvocationException``, see ``lineage``). ``close()`` (SIGTERM) stops claiming, lets running
invocations finish for up to ``shutdown_grace_s``, kills what still runs, and hands everything back.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lambdahost.core.errors import LambdaHostError, TooManyRequests
from lambdahost.core.model import (
    ClaimRequest,
    EventInvokeConfig,
    Finish,
    FunctionConfig,
    Invocation,
    InvocationStatus,
    Transition,
)
from lambdahost.engine import destinations, lineage
from lambdahost.engine.admission import Admission
from lambdahost.engine.artifacts import Artifacts
from lambdahost.engine.destinations import Router
from lambdahost.engine.event_config import EventInvokeConfigs
from lambdahost.engine.functions import FunctionService
from lambdahost.engine.invoker import record_fields
from lambdahost.engine.worker_options import LANES_REFRESH_MIN_S, WorkerOptions
from lambdahost.runtime.environment import Environment
from lambdahost.runtime.pool import EnvironmentPool
from lambdahost.runtime.spec import EnvironmentSpec, InvokeRequest, Outcome
from lambdahost.storage.base import Store

log = logging.getLogger(__name__)

Lane = tuple[str, int]
WORKER_ERROR = "Lambdahost.WorkerError"
DEFAULT_OPTIONS = WorkerOptions()


@dataclass(eq=False)
class _Held:
    """An invocation this worker has claimed and not finished yet."""

    invocation: Invocation
    config: FunctionConfig | None  # None: the function was deleted since it was queued
    slot: bool | None  # the admission token to give back (None: no slot held)
    env: Environment | None = None
    cancelled: bool = False  # terminated through cancel(): nothing to store
    handed_back: bool = False  # killed by close(): given back to the queue, not finished
    finish: Finish | None = None  # its outcome, waiting for the next flush
    record: Invocation | None = None  # what on_finished gets once the flush stored it

    @property
    def key(self) -> tuple[str, int]:
        return self.invocation.id, self.invocation.attempt


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
        options: WorkerOptions = DEFAULT_OPTIONS,
        on_finished: Callable[[Invocation], None] = lambda invocation: None,
        artifacts: Artifacts | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts  # stores outputs; its retention sweep runs with the heartbeat
        self.functions = functions
        self.pool = pool
        self.admission = admission
        self.id = worker_id
        self.event_configs = event_configs
        self.router = router
        self.options = options
        self._on_finished = on_finished
        self._lock = threading.Lock()  # guards _held and _hints, shared with cancel() and wake()
        self._held: dict[tuple[str, int], _Held] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lanes: dict[Lane, None] = {}  # lanes to claim from, in claim order
        self._hints: set[Lane] = set()  # lanes queued into by this process since the last round
        self._refresh_lanes = True  # read the lanes from the store in the next round
        self._rotation = itertools.count()
        self._last_refresh = 0.0  # time.monotonic() of the last read of the lanes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._wake_pending = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._unsubscribe: Callable[[], None] = lambda: None
        self._host = socket.gethostname()

    # -- control (any thread) ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._unsubscribe = self.store.subscribe(self.wake)  # work queued by other processes
            self._thread = threading.Thread(target=self._thread_main, name="queue-worker", daemon=True)
            self._thread.start()
            self._started.wait(10)

    def wake(self, function_name: str | None = None, lane: int = 0) -> None:
        """New work: in ``function_name``'s ``lane`` (queued by this process), or anywhere (another process)."""
        with self._lock:
            if function_name is None:
                self._refresh_lanes = True
            else:
                self._hints.add((function_name, lane))
            if self._wake_pending:
                return
            self._wake_pending = True
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._woken)
            except RuntimeError:  # the loop is closed: the worker stopped
                pass

    def _woken(self) -> None:
        with self._lock:
            self._wake_pending = False
        if self._event is not None:
            self._event.set()

    def cancel(self, invocation_id: str) -> bool:
        """Terminate an unfinished invocation: in the store (any worker then fails to finish it), and, when it
        runs here, by killing its environment. False when it is missing or already finished."""
        if not self.store.cancel(invocation_id, self.id, time.time()):
            return False
        with self._lock:
            mine = [h for h in self._held.values() if h.invocation.id == invocation_id]
            for held in mine:
                held.cancelled = True
        for held in mine:
            if held.env is not None:
                held.env.kill("cancelled")
        return True

    def close(self) -> None:
        """Stop claiming and give back what this worker holds: running invocations after they finish or, past
        ``shutdown_grace_s``, after their environments are killed (their leases are heartbeat meanwhile)."""
        self._stopping = True
        self._unsubscribe()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=self.options.shutdown_grace_s + 30)
            self._thread = None

    # -- the loop ----------------------------------------------------------------------------------------------
    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        finally:
            self._loop = None
            loop.close()

    async def _main(self) -> None:
        self._event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._started.set()
        next_heartbeat = next_lanes = 0.0
        while not self._stopping:
            try:
                now = time.time()
                if now >= next_heartbeat:
                    self._heartbeat(now)
                    if self.artifacts is not None:
                        self.artifacts.maybe_sweep()
                    next_heartbeat = now + self.options.heartbeat_s
                if now >= next_lanes:
                    self._refresh_lanes = True
                    next_lanes = now + self.options.lanes_refresh_s
                self._flush()
                self._claim()
            except Exception:  # a passing store error: try again after the poll interval
                log.exception("queue worker round failed", extra={"action": "worker_error", "worker": self.id})
            timeout = max(0.0, min(self.options.poll_s, next_heartbeat - time.time()))
            if self._refresh_lanes:  # asked for, but read less often than every LANES_REFRESH_MIN_S
                timeout = min(timeout, max(0.0, self._last_refresh + LANES_REFRESH_MIN_S - time.monotonic()))
            try:
                await asyncio.wait_for(self._event.wait(), timeout)
            except TimeoutError:
                pass
            self._event.clear()
        await self._shut_down()

    def _heartbeat(self, now: float) -> None:
        with self._lock:
            holding = [h.invocation.id for h in self._held.values()]
        # only the leases of what this worker tracks: one it lost track of (a bug) expires and is recovered
        extended = self.store.heartbeat(self.id, self._host, os.getpid(), now, self.options.lease_s, holding)
        if extended < len(holding):  # some ended meanwhile, or were cancelled through another process
            self._stop_cancelled_elsewhere()
        recovered = self.store.recover_expired(self.id, now, self.options.max_attempts)
        if recovered:
            self._route_lost(recovered)
            self._refresh_lanes = True

    def _stop_cancelled_elsewhere(self) -> None:
        """Kill the environments running invocations that were terminated through another process (``lambdahost
        invocations cancel`` answered by another server): found by the heartbeat, within ``heartbeat_s``."""
        with self._lock:
            running = [h for h in self._held.values() if h.env is not None]
        for held in running:
            found = self.store.get_invocation(held.invocation.id)
            if found is not None and found.status is InvocationStatus.TERMINATED and held.env is not None:
                held.cancelled = True
                log.info("cancelled elsewhere", extra={"action": "worker_cancelled", "id": held.invocation.id})
                held.env.kill("cancelled")

    # -- claiming ----------------------------------------------------------------------------------------------
    def _lanes_to_claim(self) -> list[Lane]:
        with self._lock:
            hints, self._hints = self._hints, set()
            refresh = self._refresh_lanes and time.monotonic() >= self._last_refresh + LANES_REFRESH_MIN_S
            if refresh:
                self._refresh_lanes = False
        if refresh:
            self._last_refresh = time.monotonic()
            self._lanes = dict.fromkeys(self.store.pending_lanes())
        for lane in hints:
            self._lanes.setdefault(lane)
        lanes = list(self._lanes)
        if len(lanes) > 1:
            start = next(self._rotation) % len(lanes)
            lanes = lanes[start:] + lanes[:start]  # a different lane goes first each round
        return lanes

    def _claim(self) -> None:
        with self._lock:
            free = self.options.slots - len(self._held)
        if free <= 0 or self._stopping:
            return
        lanes = self._lanes_to_claim()
        if not lanes:
            return
        share = max(1, free // len(lanes))
        requests: list[ClaimRequest] = []
        slots: dict[Lane, list[bool | None]] = {}
        configs: dict[str, FunctionConfig | None] = {}
        for function_name, lane in lanes:
            if free <= 0:
                break
            if function_name not in configs:
                configs[function_name] = self._config(function_name)
            config = configs[function_name]
            taken = self._admit(config, min(share, free))
            if not taken:
                self._lanes.pop((function_name, lane), None)  # throttled: back when a slot frees
                continue
            slots[function_name, lane] = taken
            runs = config is not None and config.reserved_concurrency != 0  # else claimed to be stopped, not run
            requests.append(ClaimRequest(function_name, lane, self._lane_max(config, lane), len(taken), start=runs))
            free -= len(taken)
        if not requests:
            return
        # the time of the claim itself: an invocation queued after this round began is claimable now
        try:
            claimed = self.store.claim(self.id, time.time(), self.options.lease_s, requests)
        except Exception:  # nothing was claimed: the admission slots go back
            for (function_name, _lane), taken in slots.items():
                for slot in taken:
                    self._release_slot(configs[function_name], slot)
            raise
        fresh: list[_Held] = []
        for invocation in claimed:
            taken = slots[invocation.function_name, invocation.lane]
            fresh.append(_Held(invocation, configs[invocation.function_name], taken.pop()))
        for lane_key, left in slots.items():
            if left:  # the lane gave fewer than asked: drained, or at its maximum
                self._lanes.pop(lane_key, None)
            config = configs[lane_key[0]]
            for slot in left:
                self._release_slot(config, slot)
        with self._lock:
            for held in fresh:
                self._held[held.key] = held
        self._start(fresh)

    def _config(self, function_name: str) -> FunctionConfig | None:
        try:
            return self.functions.resolve(function_name)[0]
        except LambdaHostError:
            return None

    def _admit(self, config: FunctionConfig | None, want: int) -> list[bool | None]:
        """Up to ``want`` admission slots for ``config``'s function (``None`` entries when it needs none: deleted,
        or reserved concurrency 0, whose invocations are claimed to be routed, not run)."""
        if config is None or config.reserved_concurrency == 0:
            return [None] * want
        taken: list[bool | None] = []
        try:
            while len(taken) < want:
                taken.append(self.admission.acquire(config.name))
        except TooManyRequests:
            pass
        return taken

    def _release_slot(self, config: FunctionConfig | None, slot: bool | None) -> None:
        if config is not None and slot is not None:
            self.admission.release(config.name, slot)

    def _lane_max(self, config: FunctionConfig | None, lane: int) -> int:
        """How many of the lane's invocations may be ready or running at once, across all workers: the lane's own
        maximum, within the function's reserved concurrency (at least 1: an invocation of a function with reserved
        concurrency 0 is claimed to be routed, not run) and the account's limit."""
        if config is None:
            return 1  # deleted: claimed one at a time to be failed
        cap = self.admission.max_concurrency
        if config.reserved_concurrency is not None:
            cap = min(cap, max(1, config.reserved_concurrency))
        if config.lanes is not None and lane < len(config.lanes):
            cap = min(cap, config.lanes[lane])
        return cap

    def _start(self, fresh: list[_Held]) -> None:
        """Stop what must not run, start the rest (its claim usually started it already) and run each as a task.
        A stop after the claim started it goes ``running -> terminated`` with no duration: nothing ran. One that
        cannot be handled (a store error) is let go: no longer heartbeat, its lease expires and it is recovered."""
        now = time.time()
        runnable: list[tuple[_Held, EventInvokeConfig, EnvironmentSpec, str]] = []
        for held in fresh:
            try:
                prepared = self._prepare(held, now)
            except Exception:
                log.exception("could not start an invocation", extra={"action": "worker_start", "id": held.key[0]})
                self._drop(held)
                continue
            if prepared is not None:
                runnable.append((held, *prepared))
        if not runnable:
            return
        for held, settings, spec, trace in runnable:  # each started by its claim
            task = asyncio.get_running_loop().create_task(self._run(held, settings, spec, trace))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _prepare(self, held: _Held, now: float) -> tuple[EventInvokeConfig, EnvironmentSpec, str] | None:
        """What a claimed invocation runs with, or None when it was stopped instead (and its end queued)."""
        invocation, config = held.invocation, held.config
        if config is None:
            self._stop_deleted(held, now)
            return None
        settings = self.event_configs.effective(config.name)
        trace, runs = lineage.extend(invocation.trace, config.name, now)
        held.invocation = invocation = invocation.replace(trace=trace)
        if config.reserved_concurrency == 0:
            message = "The function's reserved concurrency is 0: its asynchronous invocations do not run."
            self._stop(held, settings, destinations.ZERO_RESERVED_CONCURRENCY, message, now)
        elif runs > lineage.MAX_RUNS_PER_CHAIN:
            message = f"{lineage.RECURSION_MESSAGE} (run {runs} of {config.name} in one chain of calls)"
            self._stop(held, settings, destinations.RECURSIVE_LOOP, message, now)
        elif now > invocation.created_at + settings.max_event_age_s:
            self._stop(held, settings, destinations.EVENT_AGE_EXCEEDED, _too_old(settings), now)
        else:
            try:
                spec = self.functions.resolve(config.name)[1]
            except LambdaHostError:
                self._stop_deleted(held, now)
                return None
            if spec.refused is not None:  # a secret it references is missing: a configuration error, not retried
                self._refused(held, settings, spec.refused, now)
                return None
            return settings, spec, trace
        return None

    # -- one invocation ----------------------------------------------------------------------------------------
    async def _run(self, held: _Held, settings: EventInvokeConfig, spec: EnvironmentSpec, trace: str) -> None:
        invocation = held.invocation
        config = held.config
        assert config is not None
        try:
            warm = self.pool.try_acquire_warm(spec)
            env: Environment = warm if warm is not None else await asyncio.to_thread(self.pool.acquire, spec)
            held.env = env
            try:
                if held.cancelled:  # while its environment was starting
                    self._drop(held)
                    return
                request = InvokeRequest(invocation.id, invocation.payload, self.functions.arn(config.name), trace=trace)
                outcome = await env.invoke_async(request)
            finally:
                held.env = None
                self.pool.release(env)
        except Exception as exc:  # the platform could not run it (an environment that cannot start): not the
            # function's error, so, as AWS does with system errors, it is retried with backoff using no attempt
            log.exception("invocation failed in the worker", extra={"action": "worker_run", "id": invocation.id})
            self._platform_error(held, settings, invocation.replace(error_type=WORKER_ERROR, error_message=repr(exc)))
            return
        if outcome.artifacts is not None and self.artifacts is not None:  # it left files in its output directory
            await asyncio.to_thread(self.artifacts.save, invocation.id, outcome.artifacts.files)
        if held.cancelled or held.handed_back:  # terminated by cancel(), or given back by close()
            self._drop(held)
            return
        # a timeout or an environment lost to its memory limit is a failed attempt here, as on AWS, where
        # asynchronous invocations retry them like any function error
        changes = invocation.replace(**record_fields(outcome, self.id))
        if outcome.outcome is Outcome.OK:
            self._final(held, settings, changes.replace(status=InvocationStatus.SUCCEEDED), destinations.SUCCESS)
        else:
            self._failed_attempt(held, settings, changes)

    def _failed_attempt(self, held: _Held, settings: EventInvokeConfig, changes: Invocation) -> None:
        now = time.time()
        finished_at = changes.finished_at or now
        expires = changes.created_at + settings.max_event_age_s
        condition = destinations.RETRIES_EXHAUSTED
        if changes.attempt <= settings.retry_attempts:
            retry_at = finished_at + self.options.retry_delay(changes.attempt, random.random())
            if retry_at <= expires:
                again = changes.replace(status=InvocationStatus.PENDING, finished_at=None)
                step = Transition(InvocationStatus.PENDING, finished_at, self.id)
                self._queue_finish(held, Finish(again.id, step, again, retry_at), again)
                self._activate_at((again.function_name, again.lane), retry_at)
                return
            condition = destinations.EVENT_AGE_EXCEEDED
        failed = changes.replace(status=InvocationStatus.FAILED, finished_at=finished_at, worker=self.id)
        self._final(held, settings, failed, condition)

    def _platform_error(self, held: _Held, settings: EventInvokeConfig, changes: Invocation) -> None:
        """Back to ``pending`` using no attempt (``WorkerOptions.platform_retry_delay``), until it is too old."""
        now = time.time()
        earlier = sum(1 for t in changes.transitions if t.status is InvocationStatus.PENDING) - 1
        retry_at = now + self.options.platform_retry_delay(earlier, random.random())
        if retry_at > changes.created_at + settings.max_event_age_s:
            failed = changes.replace(status=InvocationStatus.FAILED, finished_at=now, worker=self.id)
            self._final(held, settings, failed, destinations.EVENT_AGE_EXCEEDED)
            return
        again = changes.replace(status=InvocationStatus.PENDING, finished_at=None, worker=self.id)
        step = Transition(InvocationStatus.PENDING, now, self.id)
        self._queue_finish(held, Finish(again.id, step, again, retry_at, consume=False), again)
        self._activate_at((again.function_name, again.lane), retry_at)

    def _final(self, held: _Held, settings: EventInvokeConfig, record: Invocation, condition: str) -> None:
        """Route the final outcome (destinations, dead-letter queue), then queue it for the next flush."""
        dead_letter = held.config.dead_letter_target if held.config is not None else None
        final = self.router.route(record, settings, dead_letter, condition).apply(record)
        step = Transition(final.status, final.finished_at or time.time(), self.id)
        self._queue_finish(held, Finish(final.id, step, final), final)

    def _stop(self, held: _Held, settings: EventInvokeConfig, condition: str, message: str, now: float) -> None:
        """End a claimed invocation without running it (``ready -> terminated``), routed as a failure."""
        stopped = held.invocation.replace(
            status=InvocationStatus.TERMINATED,
            error_type=condition,
            error_message=message,
            worker=self.id,
            finished_at=now,
        )
        self._final(held, settings, stopped, condition)

    def _refused(self, held: _Held, settings: EventInvokeConfig, error: LambdaHostError, now: float) -> None:
        """Fail a claimed invocation that cannot run (``running -> failed``, nothing ran, no retry), routed as a
        failure with the error's code as the condition."""
        failed = held.invocation.replace(
            status=InvocationStatus.FAILED,
            function_error="Unhandled",
            error_type=error.code,
            error_message=error.message,
            worker=self.id,
            finished_at=now,
        )
        self._final(held, settings, failed, error.code)

    def _stop_deleted(self, held: _Held, now: float) -> None:
        stopped = held.invocation.replace(
            status=InvocationStatus.TERMINATED,
            error_type="ResourceNotFoundException",
            error_message=f"Function not found: {self.functions.arn(held.invocation.function_name)}",
            worker=self.id,
            finished_at=now,
        )
        self._queue_finish(
            held, Finish(stopped.id, Transition(InvocationStatus.TERMINATED, now, self.id), stopped), stopped
        )

    def _queue_finish(self, held: _Held, finish: Finish, record: Invocation) -> None:
        held.finish, held.record = finish, record
        if self._event is not None:
            self._event.set()

    def _drop(self, held: _Held) -> None:
        """Forget an invocation this worker is done with, giving back its admission slot."""
        with self._lock:
            self._held.pop(held.key, None)
        self._release_slot(held.config, held.slot)
        held.slot = None

    def _flush(self) -> None:
        """Store every outcome queued since the last flush, in one transaction."""
        with self._lock:
            done = [h for h in self._held.values() if h.finish is not None]
        if not done:
            return
        stored = self.store.finish_many(self.id, [h.finish for h in done if h.finish is not None])
        for held, ok in zip(done, stored, strict=True):
            self._drop(held)
            lane = (held.invocation.function_name, held.invocation.lane)
            self._lanes.setdefault(lane)  # a slot of the lane is free again
            if ok and held.record is not None:
                self._on_finished(held.record)

    def _activate_at(self, lane: Lane, at: float) -> None:
        """Claim from ``lane`` again at ``at`` (the retry of one of its invocations becomes claimable)."""
        loop = asyncio.get_running_loop()
        loop.call_later(max(0.0, at - time.time()) + 0.001, self.wake, lane[0], lane[1])

    # -- stopping ----------------------------------------------------------------------------------------------
    async def _shut_down(self) -> None:
        deadline = time.monotonic() + self.options.shutdown_grace_s
        while self._tasks and time.monotonic() < deadline:
            self._flush()
            self._extend_leases()
            await asyncio.wait(set(self._tasks), timeout=min(self.options.heartbeat_s, deadline - time.monotonic()))
        if self._tasks:
            with self._lock:
                running = list(self._held.values())
            for held in running:
                held.handed_back = True
                if held.env is not None:
                    held.env.kill("shutdown")
            await asyncio.wait(set(self._tasks), timeout=30)
        try:
            self._flush()
            handed = self.store.hand_back(self.id, time.time(), self.options.max_attempts)
            if handed:
                log.info("handed back", extra={"action": "worker_hand_back", "worker": self.id, "n": len(handed)})
                self._route_lost(handed)
        except Exception:  # they come back anyway once their leases expire
            log.exception("could not hand back invocations", extra={"action": "worker_hand_back", "worker": self.id})

    def _extend_leases(self) -> None:
        with self._lock:
            holding = [h.invocation.id for h in self._held.values()]
        try:
            self.store.heartbeat(self.id, self._host, os.getpid(), time.time(), self.options.lease_s, holding)
        except Exception:
            log.exception("heartbeat failed", extra={"action": "worker_error", "worker": self.id})

    def _route_lost(self, ids: list[str]) -> None:
        """Route the invocations that ``recover_expired``/``hand_back`` failed (their workers were lost too often):
        a final failure like any other. The store has already stored it; the routing fields are added after."""
        for invocation_id in ids:
            found = self.store.get_invocation(invocation_id)
            if found is None or found.status is not InvocationStatus.FAILED or found.routed_to is not None:
                continue
            config = self._config(found.function_name)
            if config is None:
                continue
            settings = self.event_configs.effective(config.name)
            routed = self.router.route(found, settings, config.dead_letter_target, destinations.RETRIES_EXHAUSTED)
            done = routed.apply(found)
            if done.routed_to is not None and done.route_condition is not None:
                self.store.set_route(found.id, done.routed_to, done.route_condition)
            self._on_finished(done)


def _too_old(settings: EventInvokeConfig) -> str:
    return f"The event is older than the function's MaximumEventAgeInSeconds ({settings.max_event_age_s} s)."
