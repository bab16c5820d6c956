"""Domain records shared by every layer: functions, code packages, invocations.

Plain dataclasses: storage maps them to rows, the API maps them to AWS wire shapes, the engine passes them around.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

LATEST = "$LATEST"

DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_EPHEMERAL_MB = 512


class FunctionState(enum.StrEnum):
    PENDING = "Pending"
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    FAILED = "Failed"


class UpdateStatus(enum.StrEnum):
    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"


@dataclass(frozen=True)
class CodePackage:
    """A validated zip, stored once by the hex sha256 of its bytes."""

    sha256_hex: str
    size: int
    unzipped_size: int
    entries: int
    created_at: float

    @property
    def code_sha256(self) -> str:
        """AWS's ``CodeSha256``: base64 of the raw digest."""
        import base64

        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode()


@dataclass(frozen=True)
class FunctionConfig:
    """One function's configuration (the ``$LATEST`` version)."""

    name: str
    runtime: str
    handler: str
    role: str
    code_sha256_hex: str
    code_size: int
    revision_id: str
    last_modified: float
    description: str = ""
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    ephemeral_storage_mb: int = DEFAULT_EPHEMERAL_MB
    environment: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    architectures: tuple[str, ...] = ("x86_64",)
    reserved_concurrency: int | None = None
    dead_letter_target: str | None = None
    log_format: str = "Text"
    log_group: str | None = None
    state: FunctionState = FunctionState.ACTIVE
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: UpdateStatus = UpdateStatus.SUCCESSFUL
    version: str = LATEST
    # The maximum concurrency of each lane of its asynchronous queue; None: one lane, limited only by the
    # function's reserved concurrency (or the account's limit).
    lanes: tuple[int, ...] | None = None

    def replace(self, **changes: Any) -> FunctionConfig:
        return dataclasses.replace(self, **changes)

    @property
    def effective_log_group(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"


DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2  # AWS: a failed asynchronous invocation runs twice more
DEFAULT_MAXIMUM_EVENT_AGE_S = 21600  # AWS: six hours


@dataclass(frozen=True)
class EventInvokeConfig:
    """How a function's asynchronous invocations are retried and where their records go
    (``PutFunctionEventInvokeConfig``); None takes AWS's default. Destinations are function or queue ARNs."""

    function_name: str
    qualifier: str = LATEST
    maximum_retry_attempts: int | None = None
    maximum_event_age_s: int | None = None
    on_success: str | None = None
    on_failure: str | None = None
    last_modified: float = 0.0

    def replace(self, **changes: Any) -> EventInvokeConfig:
        return dataclasses.replace(self, **changes)

    @property
    def retry_attempts(self) -> int:
        return DEFAULT_MAXIMUM_RETRY_ATTEMPTS if self.maximum_retry_attempts is None else self.maximum_retry_attempts

    @property
    def max_event_age_s(self) -> int:
        return DEFAULT_MAXIMUM_EVENT_AGE_S if self.maximum_event_age_s is None else self.maximum_event_age_s


@dataclass(frozen=True)
class ProvisionedConcurrency:
    """The warm environments a function keeps ready (``PutProvisionedConcurrencyConfig``)."""

    function_name: str
    qualifier: str
    requested: int
    last_modified: float


class InvocationType(enum.StrEnum):
    SYNC = "RequestResponse"
    EVENT = "Event"


class InvocationStatus(enum.StrEnum):
    """The invocation lifecycle (see ``core.lifecycle`` for the allowed transitions)."""

    CREATED = "created"
    PENDING = "pending"
    READY = "ready"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ORPHANED = "orphaned"
    TERMINATED = "terminated"

    @property
    def finished(self) -> bool:
        return self in (InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.TERMINATED)


@dataclass(frozen=True)
class Transition:
    status: InvocationStatus
    at: float
    worker: str | None = None


@dataclass(frozen=True)
class Invocation:
    """One request to run a function, with everything that is known about how it went."""

    id: str
    function_name: str
    version: str
    type: InvocationType
    status: InvocationStatus
    created_at: float
    transitions: tuple[Transition, ...] = ()
    lane: int = 0
    attempt: int = 1
    payload: bytes = b""
    result: bytes | None = None
    function_error: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    log: str = ""
    log_truncated: bool = False
    duration_ms: float | None = None
    billed_duration_ms: int | None = None
    init_duration_ms: float | None = None
    max_memory_mb: int | None = None
    memory_mb: int | None = None
    worker: str | None = None
    finished_at: float | None = None
    # The queue (asynchronous invocations): claimable from ``available_at`` (None: never queued; ``Store.enqueue``
    # stores ``created_at`` then); ``lease_owner`` is the worker holding a ready or running invocation until
    # ``lease_expires``, unless its heartbeat extends the lease.
    available_at: float | None = None
    lease_owner: str | None = None
    lease_expires: float | None = None
    # The X-Amzn-Trace-Id this invocation runs under; its Lineage counts the calls of the chain (loop protection).
    trace: str | None = None
    # Where the record of a finished asynchronous invocation was sent (a destination or dead-letter queue ARN) and
    # on which condition (Success, RetriesExhausted, EventAgeExceeded, ZeroReservedConcurrency, ...).
    routed_to: str | None = None
    route_condition: str | None = None

    def replace(self, **changes: Any) -> Invocation:
        """A copy with ``changes``. Several run per invocation on the queue's hot path, so this copies the fields
        directly instead of going through ``dataclasses.replace`` (which calls ``__init__``: ~10 us)."""
        unknown = changes.keys() - _INVOCATION_FIELDS
        if unknown:
            raise TypeError(f"Invocation has no field {sorted(unknown)[0]!r}")
        copy = object.__new__(Invocation)
        fields = copy.__dict__
        fields.update(self.__dict__)
        fields.update(changes)
        return copy


class Finish(NamedTuple):
    """One end of an attempt for ``Store.finish_many``: the arguments of ``Store.finish``."""

    invocation_id: str
    transition: Transition
    changes: Invocation | None = None
    retry_at: float | None = None
    consume: bool = True  # a retry uses an attempt (False: a platform error, retried without using one)


class ClaimRequest(NamedTuple):
    """What a worker asks of one lane in ``Store.claim``: up to ``want`` invocations of ``function_name``'s lane
    ``lane``, provided the lane then holds at most ``lane_max`` ready or running invocations (across all workers)."""

    function_name: str
    lane: int
    lane_max: int
    want: int
    start: bool = False  # also start them (``ready`` then ``running`` at once): the worker runs them right away


@dataclass(frozen=True, order=True)
class QueueDepth:
    """An exact count of one function's unfinished invocations in one lane and status."""

    function_name: str
    lane: int
    status: InvocationStatus
    count: int


@dataclass(frozen=True)
class Worker:
    """A worker process that claims queued invocations (a row of ``workers``)."""

    id: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float
    stopped_at: float | None = None


_INVOCATION_FIELDS = frozenset(f.name for f in dataclasses.fields(Invocation))


@dataclass(frozen=True)
class ScheduleConfig:
    """A schedule (EventBridge Scheduler's ``CreateSchedule``): ``expression`` (``rate()``, ``cron()`` or ``at()``,
    see ``core.schedules``) read in ``timezone``, invoking ``function_name``:``qualifier`` asynchronously with
    ``input`` (JSON text; None: an empty event). ``flexible_window_minutes`` 0 is OFF; ``start_date``/``end_date``
    bound the fire times (epoch seconds).

    Bookkeeping of the engine: ``next_fire_at`` is the next due time (None: it never fires again), ``last_fired_at``
    the due time it last fired for; ``Store.claim_due_schedules`` advances both. The rest is what EventBridge
    Scheduler's API says of a schedule (the target's retry policy and dead-letter queue apply when the platform
    cannot deliver the event: the function is gone)."""

    name: str
    expression: str
    function_name: str
    created_at: float
    last_modified: float
    qualifier: str = LATEST
    timezone: str = "UTC"
    input: str | None = None
    enabled: bool = True
    flexible_window_minutes: int = 0
    start_date: float | None = None
    end_date: float | None = None
    next_fire_at: float | None = None
    last_fired_at: float | None = None
    description: str = ""
    kind: str = "scheduler"  # SCHEDULER or RULE: the event delivered when there is no input
    role_arn: str | None = None
    retry_max_attempts: int | None = None  # Target.RetryPolicy; None: Scheduler's default (185)
    retry_max_event_age_s: int | None = None  # None: Scheduler's default (86,400)
    dead_letter_arn: str | None = None  # Target.DeadLetterConfig.Arn: a queue
    action_after_completion: str = "NONE"  # or DELETE: remove a schedule that fires no more
    kms_key_arn: str | None = None

    SCHEDULER: ClassVar[str] = "scheduler"  # EventBridge Scheduler's default notification
    RULE: ClassVar[str] = "rule"  # an EventBridge rule's "Scheduled Event"

    def replace(self, **changes: Any) -> ScheduleConfig:
        return dataclasses.replace(self, **changes)
