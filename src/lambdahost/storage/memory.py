"""An in-memory ``Store``: the fake beside the port, for unit tests of the layers above storage.

Same semantics as the real stores (conflicts, not-found, revision checks, lifecycle checks), no durability.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from lambdahost.core.errors import InvalidParameterValue, PreconditionFailed, ResourceConflict, ResourceNotFound
from lambdahost.core.lifecycle import check_transition
from lambdahost.core.model import (
    ClaimRequest,
    CodePackage,
    EventInvokeConfig,
    FunctionConfig,
    Invocation,
    InvocationStatus,
    ProvisionedConcurrency,
    QueueDepth,
    ScheduleConfig,
    Transition,
    Worker,
)
from lambdahost.storage.artifacts_memory import ArtifactMemoryStore
from lambdahost.storage.base import (
    WORKER_LOST,
    Store,
    advanced,
    check_finish,
    finished_at,
    queued_record,
    queued_records,
    worker_lost_message,
)
from lambdahost.storage.event_source_mappings_memory import EventSourceMappingMemoryStore
from lambdahost.storage.function_listing import checked_names
from lambdahost.storage.http_routes_memory import HttpRouteMemoryStore
from lambdahost.storage.message_queues_memory import MessageQueueMemoryStore
from lambdahost.storage.parameters_memory import ParameterMemoryStore
from lambdahost.storage.queue_activity_memory import QueueActivityMemoryStore
from lambdahost.storage.rows import RESULT_COLUMNS
from lambdahost.storage.secrets_memory import SecretMemoryStore
from lambdahost.storage.streams_memory import StreamMemoryStore

_LEASED = (InvocationStatus.READY, InvocationStatus.RUNNING)
_UNFINISHED = (InvocationStatus.PENDING, *_LEASED, InvocationStatus.ORPHANED)


class InMemoryStore(
    MessageQueueMemoryStore,
    EventSourceMappingMemoryStore,
    StreamMemoryStore,
    HttpRouteMemoryStore,
    SecretMemoryStore,
    ArtifactMemoryStore,
    ParameterMemoryStore,
    QueueActivityMemoryStore,
    Store,
):
    def __init__(self) -> None:
        self.url = "memory://"
        self._lock = threading.Lock()
        self._packages: dict[str, tuple[CodePackage, bytes]] = {}
        self._functions: dict[str, FunctionConfig] = {}
        self._invocations: dict[str, Invocation] = {}
        self._workers: dict[str, Worker] = {}
        self._init_message_queues()
        self._init_streams()
        self._init_http_routes()
        self._init_secrets()
        self._init_artifacts()
        self._init_parameters()
        self._init_event_source_mappings()
        self._event_configs: dict[tuple[str, str], EventInvokeConfig] = {}
        self._provisioned: dict[tuple[str, str], ProvisionedConcurrency] = {}
        self._schedules: dict[str, ScheduleConfig] = {}

    def migrate(self) -> list[int]:
        return []

    def schema_version(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def put_package(self, package: CodePackage, data: bytes) -> CodePackage:
        with self._lock:
            return self._packages.setdefault(package.sha256_hex, (package, data))[0]

    def get_package(self, sha256_hex: str) -> CodePackage | None:
        entry = self._packages.get(sha256_hex)
        return entry[0] if entry else None

    def get_package_data(self, sha256_hex: str) -> bytes | None:
        entry = self._packages.get(sha256_hex)
        return entry[1] if entry else None

    def delete_package(self, sha256_hex: str) -> None:
        with self._lock:
            self._packages.pop(sha256_hex, None)

    def package_in_use(self, sha256_hex: str) -> bool:
        return any(f.code_sha256_hex == sha256_hex for f in self._functions.values())

    def create_function(self, config: FunctionConfig) -> FunctionConfig:
        with self._lock:
            if config.name in self._functions:
                raise ResourceConflict(f"Function already exist: {config.name}")
            self._functions[config.name] = config
            return config

    def get_function(self, name: str) -> FunctionConfig | None:
        return self._functions.get(name)

    def list_functions(self, marker: str | None, limit: int) -> tuple[list[FunctionConfig], str | None]:
        names = sorted(n for n in self._functions if marker is None or n > marker)
        page = [self._functions[n] for n in names[:limit]]
        return page, (page[-1].name if len(names) > limit else None)

    def update_function(self, config: FunctionConfig, expected_revision: str | None = None) -> FunctionConfig:
        with self._lock:
            current = self._functions.get(config.name)
            if current is None:
                raise ResourceNotFound(f"Function not found: {config.name}")
            if expected_revision is not None and current.revision_id != expected_revision:
                raise PreconditionFailed(
                    "The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetFunction/GetAlias API to retrieve the latest Revision Id"
                )
            self._functions[config.name] = config
            return config

    def delete_function(self, name: str) -> bool:
        with self._lock:
            for table in (self._event_configs, self._provisioned):
                for key in [key for key in table if key[0] == name]:
                    del table[key]
            self._delete_http_triggers_of(name)
            self._parameters.pop(name, None)
            return self._functions.pop(name, None) is not None

    def total_reserved_concurrency(self, excluding: str | None = None) -> int:
        return sum(f.reserved_concurrency or 0 for f in self._functions.values() if f.name != excluding)

    def put_event_invoke_config(self, config: EventInvokeConfig) -> EventInvokeConfig:
        with self._lock:
            self._event_configs[config.function_name, config.qualifier] = config
        return config

    def get_event_invoke_config(self, function_name: str, qualifier: str) -> EventInvokeConfig | None:
        return self._event_configs.get((function_name, qualifier))

    def list_event_invoke_configs(self, function_name: str) -> list[EventInvokeConfig]:
        return [c for key, c in sorted(self._event_configs.items()) if key[0] == function_name]

    def delete_event_invoke_config(self, function_name: str, qualifier: str) -> bool:
        with self._lock:
            return self._event_configs.pop((function_name, qualifier), None) is not None

    def put_provisioned_concurrency(self, config: ProvisionedConcurrency) -> ProvisionedConcurrency:
        with self._lock:
            self._provisioned[config.function_name, config.qualifier] = config
        return config

    def get_provisioned_concurrency(self, function_name: str, qualifier: str) -> ProvisionedConcurrency | None:
        return self._provisioned.get((function_name, qualifier))

    def list_provisioned_concurrency(self, function_name: str | None = None) -> list[ProvisionedConcurrency]:
        return [c for key, c in sorted(self._provisioned.items()) if function_name in (None, key[0])]

    def delete_provisioned_concurrency(self, function_name: str, qualifier: str) -> bool:
        with self._lock:
            return self._provisioned.pop((function_name, qualifier), None) is not None

    def insert_invocations(self, invocations: Sequence[Invocation]) -> None:
        with self._lock:
            for inv in invocations:
                self._invocations[inv.id] = inv

    def record_transition(
        self,
        invocation_id: str,
        transition: Transition,
        *,
        expected: InvocationStatus | None = None,
        changes: Invocation | None = None,
    ) -> bool:
        with self._lock:
            inv = self._invocations.get(invocation_id)
            if inv is None or (expected is not None and inv.status is not expected):
                return False
            check_transition(inv.status, transition.status)
            fields = {name: getattr(changes, name) for name in RESULT_COLUMNS} if changes else {}
            self._invocations[invocation_id] = inv.replace(
                status=transition.status, transitions=(*inv.transitions, transition), **fields
            )
            return True

    def get_invocation(self, invocation_id: str) -> Invocation | None:
        return self._invocations.get(invocation_id)

    def list_invocations(
        self,
        function_name: str | None = None,
        status: InvocationStatus | None = None,
        limit: int = 50,
        before: float | None = None,
        before_id: str | None = None,
    ) -> list[Invocation]:
        cursor = None if before is None else (before, before_id)
        rows = [
            inv.replace(payload=b"", result=None, log="", transitions=())
            for inv in self._invocations.values()
            if (function_name is None or inv.function_name == function_name)
            and (status is None or inv.status is status)
            and (cursor is None or _before(inv, cursor))
        ]
        return sorted(rows, key=lambda inv: (inv.created_at, inv.id), reverse=True)[:limit]

    def invocation_logs_after(self, function_name: str, after: tuple[float, str], limit: int = 100) -> list[Invocation]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        keyed: list[tuple[tuple[float, str], Invocation]] = [
            ((inv.finished_at, inv.id), inv)
            for inv in self._invocations.values()
            if inv.function_name == function_name and inv.finished_at is not None
        ]
        page = sorted((pair for pair in keyed if pair[0] > after), key=lambda pair: pair[0])[:limit]
        return [inv.replace(payload=b"", result=None, transitions=()) for _, inv in page]

    def delete_invocations_of(self, function_name: str) -> int:
        with self._lock:
            doomed = [k for k, v in self._invocations.items() if v.function_name == function_name]
            for key in doomed:
                del self._invocations[key]
            return len(doomed)

    # -- the queue ---------------------------------------------------------------------------------------------
    def _step(
        self, inv: Invocation, statuses: Sequence[InvocationStatus], at: float, worker: str | None, **fields: object
    ) -> None:
        steps = tuple(Transition(status, at, worker) for status in statuses)
        self._invocations[inv.id] = inv.replace(status=statuses[-1], transitions=(*inv.transitions, *steps), **fields)

    def enqueue(self, invocation: Invocation) -> Invocation:
        stored = queued_record(invocation)
        with self._lock:
            if stored.id in self._invocations:
                raise ResourceConflict(f"Invocation already exists: {stored.id}")
            self._invocations[stored.id] = stored
        return stored

    def enqueue_many(self, invocations: Sequence[Invocation]) -> list[Invocation]:
        stored = queued_records(invocations)
        with self._lock:
            taken = next((inv.id for inv in stored if inv.id in self._invocations), None)
            if taken is not None:
                raise ResourceConflict(f"Invocation already exists: {taken}")
            self._invocations.update((inv.id, inv) for inv in stored)
        return stored

    def claim(self, worker: str, now: float, lease_s: float, requests: Sequence[ClaimRequest]) -> list[Invocation]:
        claimed: list[Invocation] = []
        with self._lock:
            for request in requests:
                lane = [
                    inv
                    for inv in self._invocations.values()
                    if inv.function_name == request.function_name and inv.lane == request.lane
                ]
                busy = sum(1 for inv in lane if inv.status in _LEASED)
                free = min(request.want, request.lane_max - busy)
                ready = sorted(
                    (
                        inv
                        for inv in lane
                        if inv.status is InvocationStatus.PENDING
                        and inv.available_at is not None
                        and inv.available_at <= now
                    ),
                    key=lambda inv: (inv.available_at or 0.0, inv.id),
                )
                steps = (
                    [InvocationStatus.READY, InvocationStatus.RUNNING] if request.start else [InvocationStatus.READY]
                )
                for inv in ready[: max(free, 0)]:
                    leased = {"lease_owner": worker, "lease_expires": now + lease_s}
                    self._step(inv, steps, now, worker, **leased)
                    claimed.append(self._invocations[inv.id])
        return claimed

    def start(self, invocation_id: str, worker: str, now: float) -> bool:
        with self._lock:
            inv = self._invocations.get(invocation_id)
            if inv is None or inv.status is not InvocationStatus.READY or inv.lease_owner != worker:
                return False
            self._step(inv, [InvocationStatus.RUNNING], now, worker)
            return True

    def finish(
        self,
        invocation_id: str,
        worker: str,
        transition: Transition,
        changes: Invocation | None = None,
        *,
        retry_at: float | None = None,
        consume: bool = True,
    ) -> bool:
        retry = check_finish(transition, retry_at)
        with self._lock:
            inv = self._invocations.get(invocation_id)
            allowed = _LEASED if transition.status is InvocationStatus.TERMINATED else (InvocationStatus.RUNNING,)
            if inv is None or inv.status not in allowed or inv.lease_owner != worker:
                return False
            if changes is not None and changes.attempt != inv.attempt:
                return False  # a stale attempt of an invocation claimed again
            fields: dict[str, object] = {name: getattr(changes, name) for name in RESULT_COLUMNS} if changes else {}
            ended = finished_at(transition, changes)
            if ended is not None:
                fields["finished_at"] = ended
            if retry:
                fields |= {"attempt": inv.attempt + (1 if consume else 0), "available_at": retry_at}
            self._invocations[inv.id] = inv.replace(
                status=transition.status,
                transitions=(*inv.transitions, transition),
                lease_owner=None,
                lease_expires=None,
                **fields,
            )
            return True

    def heartbeat(
        self, worker: str, host: str, pid: int, now: float, lease_s: float, holding: Sequence[str] | None = None
    ) -> int:
        with self._lock:
            known = self._workers.get(worker)
            started = known.started_at if known else now
            stopped = known.stopped_at if known else None
            self._workers[worker] = Worker(worker, host, pid, started, now, stopped)
            held = [
                inv
                for inv in self._invocations.values()
                if inv.lease_owner == worker and inv.status in _LEASED and (holding is None or inv.id in holding)
            ]
            for inv in held:
                self._invocations[inv.id] = inv.replace(lease_expires=now + lease_s)
            return len(held)

    def recover_expired(self, worker: str, now: float, max_attempts: int) -> list[str]:
        return self._take_back(worker, now, max_attempts, owned=False)

    def hand_back(self, worker: str, now: float, max_attempts: int) -> list[str]:
        return self._take_back(worker, now, max_attempts, owned=True)

    def _take_back(self, worker: str, now: float, max_attempts: int, *, owned: bool) -> list[str]:
        recovered: list[str] = []
        with self._lock:
            expired = sorted(
                (
                    inv
                    for inv in self._invocations.values()
                    if inv.status in _LEASED
                    and (
                        inv.lease_owner == worker
                        if owned
                        else inv.lease_expires is not None and inv.lease_expires < now
                    )
                ),
                key=lambda inv: (inv.lease_expires or 0.0, inv.id),
            )
            for inv in expired:
                cleared: dict[str, object] = {"lease_owner": None, "lease_expires": None}
                pending = InvocationStatus.PENDING
                if inv.status is InvocationStatus.READY:
                    self._step(inv, [pending], now, worker, available_at=now, **cleared)
                elif inv.attempt < max_attempts:
                    steps = [InvocationStatus.ORPHANED, pending]
                    self._step(inv, steps, now, worker, attempt=inv.attempt + 1, available_at=now, **cleared)
                else:
                    self._step(
                        inv,
                        [InvocationStatus.ORPHANED, InvocationStatus.FAILED],
                        now,
                        worker,
                        error_type=WORKER_LOST,
                        error_message=worker_lost_message(inv.lease_owner),
                        finished_at=now,
                        **cleared,
                    )
                recovered.append(inv.id)
        return recovered

    def set_route(self, invocation_id: str, routed_to: str, condition: str) -> bool:
        with self._lock:
            inv = self._invocations.get(invocation_id)
            if inv is None or not inv.status.finished or inv.routed_to is not None:
                return False
            self._invocations[invocation_id] = inv.replace(routed_to=routed_to, route_condition=condition)
            return True

    def cancel(self, invocation_id: str, worker: str | None, now: float) -> bool:
        with self._lock:
            inv = self._invocations.get(invocation_id)
            if inv is None or inv.status.finished:
                return False
            self._step(
                inv, [InvocationStatus.TERMINATED], now, worker, lease_owner=None, lease_expires=None, finished_at=now
            )
            return True

    def last_invocations(self, function_names: Sequence[str]) -> dict[str, Invocation]:
        found = {}
        for name in checked_names(function_names):
            newest = self.list_invocations(name, None, 1)
            if newest:
                found[name] = newest[0]
        return found

    def trigger_counts(self, function_names: Sequence[str]) -> dict[str, int]:
        counts = {}
        for name in checked_names(function_names):
            n = len(self.schedules_of(name, 10_000)) + len(self.list_event_source_mappings(name, None, None, 10_000)[0])
            n += len(self.list_http_routes(name)) + len(self.list_function_url_configs(name))
            if n:
                counts[name] = n
        return counts

    def pending_lanes(self) -> list[tuple[str, int]]:
        with self._lock:
            return sorted(
                {(i.function_name, i.lane) for i in self._invocations.values() if i.status is InvocationStatus.PENDING}
            )

    def queue_depth(self, function_name: str | None = None) -> list[QueueDepth]:
        counts: dict[tuple[str, int, InvocationStatus], int] = {}
        with self._lock:
            for inv in self._invocations.values():
                if inv.status in _UNFINISHED and function_name in (None, inv.function_name):
                    key = (inv.function_name, inv.lane, inv.status)
                    counts[key] = counts.get(key, 0) + 1
        return sorted(QueueDepth(*key, count) for key, count in counts.items())

    def workers(self) -> list[Worker]:
        with self._lock:
            return sorted(self._workers.values(), key=lambda w: w.id)

    # -- schedules ---------------------------------------------------------------------------------------------
    def create_schedule(self, schedule: ScheduleConfig) -> ScheduleConfig:
        with self._lock:
            if schedule.name in self._schedules:
                raise ResourceConflict(f"Schedule {schedule.name} already exists.")
            self._schedules[schedule.name] = schedule
            return schedule

    def get_schedule(self, name: str) -> ScheduleConfig | None:
        return self._schedules.get(name)

    def list_schedules(self, marker: str | None, limit: int) -> tuple[list[ScheduleConfig], str | None]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        with self._lock:
            names = sorted(n for n in self._schedules if marker is None or n > marker)
            page = [self._schedules[n] for n in names[:limit]]
        return page, (page[-1].name if len(names) > limit else None)

    def schedules_of(self, function_name: str, limit: int) -> list[ScheduleConfig]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        with self._lock:
            names = sorted(n for n, s in self._schedules.items() if s.function_name == function_name)
            return [self._schedules[n] for n in names[:limit]]

    def update_schedule(self, schedule: ScheduleConfig) -> ScheduleConfig:
        with self._lock:
            if schedule.name not in self._schedules:
                raise ResourceNotFound(f"Schedule {schedule.name} does not exist.")
            self._schedules[schedule.name] = schedule
            return schedule

    def delete_schedule(self, name: str) -> bool:
        with self._lock:
            return self._schedules.pop(name, None) is not None

    def claim_due_schedules(
        self,
        now: float,
        limit: int,
        advance: Callable[[ScheduleConfig, float], float | None],
        queue: Callable[[ScheduleConfig, float], Invocation | None] | None = None,
    ) -> list[tuple[ScheduleConfig, float]]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        with self._lock:
            due = sorted(
                (
                    (s.next_fire_at, s.name)
                    for s in self._schedules.values()
                    if s.enabled and s.next_fire_at is not None and s.next_fire_at <= now
                ),
            )[:limit]
            # every advance first: an exception (or a bad fire time) leaves everything as it was
            claimed = [
                (advanced(self._schedules[name], now, advance(self._schedules[name], now)), at) for at, name in due
            ]
            made = [queue(self._schedules[name], at) for at, name in due] if queue is not None else []
            queued = queued_records([inv for inv in made if inv is not None])
            if any(inv.id in self._invocations for inv in queued):
                raise ResourceConflict("An invocation id of a scheduled event is taken.")
            self._schedules.update((s.name, s) for s, _ in claimed)
            self._invocations.update((inv.id, inv) for inv in queued)
        return claimed


def _before(inv: Invocation, cursor: tuple[float, str | None]) -> bool:
    """Whether ``inv`` comes after the row ``cursor`` in newest-first order (``list_invocations``)."""
    created_at, last_id = cursor
    if last_id is None:
        return inv.created_at < created_at
    return (inv.created_at, inv.id) < (created_at, last_id)
