"""The storage port. Every database access in lambdahost goes through ``Store``.

Implementations: ``SqliteStore`` (default, a WAL file in the data directory) and ``PostgresStore``. Both pass the
same contract suite (``tests/integration/test_store_contract.py``). Driver errors are translated to
``StorageError`` at the adapter; "not found" and "already exists" become the AWS errors the API returns.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence

from lambdahost.core.errors import InvalidParameterValue, ResourceConflict
from lambdahost.core.lifecycle import IllegalTransition, check_transition
from lambdahost.core.model import (
    ClaimRequest,
    CodePackage,
    EventInvokeConfig,
    Finish,
    FunctionConfig,
    Invocation,
    InvocationStatus,
    InvocationType,
    ProvisionedConcurrency,
    QueueDepth,
    ScheduleConfig,
    Transition,
    Worker,
)
from lambdahost.storage.artifacts import ArtifactStore
from lambdahost.storage.event_source_mappings import EventSourceMappingStore
from lambdahost.storage.function_listing import FunctionListingStore
from lambdahost.storage.http_routes import HttpRouteStore
from lambdahost.storage.message_queues import MessageQueueStore
from lambdahost.storage.parameters import ParameterStore
from lambdahost.storage.queue_activity import QueueActivityStore
from lambdahost.storage.secrets import SecretStore
from lambdahost.storage.streams import StreamStore

# ``error_type`` of an invocation that failed because the workers running it were lost too many times.
WORKER_LOST = "Runtime.WorkerLost"


class Store(
    MessageQueueStore,
    EventSourceMappingStore,
    StreamStore,
    HttpRouteStore,
    SecretStore,
    ArtifactStore,
    ParameterStore,
    QueueActivityStore,
    FunctionListingStore,
):
    """Durable state of the platform (named message queues: ``MessageQueueStore``)."""

    url: str
    # Writes are local and take tens of microseconds (an embedded database): callers may run them on an event loop.
    local_writes: bool = False

    # -- lifecycle -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def migrate(self) -> list[int]:
        """Apply pending numbered migrations; return the versions applied."""

    @abc.abstractmethod
    def schema_version(self) -> int: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    # -- code packages ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def put_package(self, package: CodePackage, data: bytes) -> CodePackage:
        """Record a package and its zip bytes (so every worker machine can fetch it); idempotent: returns the
        stored record if the sha256 already exists."""

    @abc.abstractmethod
    def get_package(self, sha256_hex: str) -> CodePackage | None: ...

    @abc.abstractmethod
    def get_package_data(self, sha256_hex: str) -> bytes | None:
        """The zip bytes of a package, or None."""

    @abc.abstractmethod
    def delete_package(self, sha256_hex: str) -> None: ...

    @abc.abstractmethod
    def package_in_use(self, sha256_hex: str) -> bool:
        """True when any function still references the package."""

    # -- functions -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_function(self, config: FunctionConfig) -> FunctionConfig:
        """Insert; raises ``ResourceConflict`` ("Function already exist: NAME") if the name is taken."""

    @abc.abstractmethod
    def get_function(self, name: str) -> FunctionConfig | None: ...

    @abc.abstractmethod
    def list_functions(self, marker: str | None, limit: int) -> tuple[list[FunctionConfig], str | None]:
        """Functions ordered by name, after ``marker``; returns (page, next marker or None)."""

    @abc.abstractmethod
    def update_function(self, config: FunctionConfig, expected_revision: str | None = None) -> FunctionConfig:
        """Replace the stored config. With ``expected_revision``, fail with ``PreconditionFailed`` when the
        stored revision differs (optimistic concurrency). Raises ``ResourceNotFound`` when absent."""

    @abc.abstractmethod
    def delete_function(self, name: str) -> bool:
        """Delete, with its event invoke configs and provisioned concurrency; True if it existed."""

    @abc.abstractmethod
    def total_reserved_concurrency(self, excluding: str | None = None) -> int:
        """Sum of reserved concurrency over all functions (optionally leaving one out)."""

    # -- asynchronous settings of functions (deleted with their function) ------------------------------------
    @abc.abstractmethod
    def put_event_invoke_config(self, config: EventInvokeConfig) -> EventInvokeConfig:
        """Insert or replace the config of ``(config.function_name, config.qualifier)``."""

    @abc.abstractmethod
    def get_event_invoke_config(self, function_name: str, qualifier: str) -> EventInvokeConfig | None: ...

    @abc.abstractmethod
    def list_event_invoke_configs(self, function_name: str) -> list[EventInvokeConfig]:
        """A function's configs, ordered by qualifier."""

    @abc.abstractmethod
    def delete_event_invoke_config(self, function_name: str, qualifier: str) -> bool:
        """Delete; True if it existed."""

    @abc.abstractmethod
    def put_provisioned_concurrency(self, config: ProvisionedConcurrency) -> ProvisionedConcurrency:
        """Insert or replace the provisioned concurrency of ``(config.function_name, config.qualifier)``."""

    @abc.abstractmethod
    def get_provisioned_concurrency(self, function_name: str, qualifier: str) -> ProvisionedConcurrency | None: ...

    @abc.abstractmethod
    def list_provisioned_concurrency(self, function_name: str | None = None) -> list[ProvisionedConcurrency]:
        """Every provisioned concurrency config (of one function, or of all), ordered by function and qualifier."""

    @abc.abstractmethod
    def delete_provisioned_concurrency(self, function_name: str, qualifier: str) -> bool:
        """Delete; True if it existed."""

    # -- invocations -----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_invocations(self, invocations: Sequence[Invocation]) -> None:
        """Insert finished or new invocation records with their transitions, in one transaction."""

    @abc.abstractmethod
    def record_transition(
        self,
        invocation_id: str,
        transition: Transition,
        *,
        expected: InvocationStatus | None = None,
        changes: Invocation | None = None,
    ) -> bool:
        """Move an invocation to ``transition.status``. With ``expected``, only if it is currently in that
        status (returns False otherwise). ``changes`` carries result fields to store with a final status."""

    @abc.abstractmethod
    def get_invocation(self, invocation_id: str) -> Invocation | None:
        """The invocation with its transitions in order."""

    @abc.abstractmethod
    def list_invocations(
        self,
        function_name: str | None = None,
        status: InvocationStatus | None = None,
        limit: int = 50,
        before: float | None = None,
        before_id: str | None = None,
    ) -> list[Invocation]:
        """Newest first (by created_at, then id), without payload/result/log bodies loaded (empty) for speed.
        ``before`` pages by created_at: the invocations created before it; with ``before_id`` (the last row's id),
        those after the row ``(before, before_id)`` in that order, so invocations created in the same instant (a
        batch) are neither skipped nor repeated across pages."""

    @abc.abstractmethod
    def invocation_logs_after(self, function_name: str, after: tuple[float, str], limit: int = 100) -> list[Invocation]:
        """A page of a function's finished invocations, logs included (for ``lambdahost logs``): those whose
        ``(finished_at, id)`` comes after ``after``, ordered by ``(finished_at, id)``. Pass the key of the last
        invocation of a page to get the next one: every invocation is returned once even when many share one
        ``finished_at``. ``(t, "")`` starts at the first invocation that finished at ``t`` or later."""

    @abc.abstractmethod
    def delete_invocations_of(self, function_name: str) -> int: ...

    # -- the queue (asynchronous invocations, claimed by workers with leases) ---------------------------------------
    # Times are the caller's clock (``now``); a lease belongs to its owner until ``recover_expired`` takes it away,
    # even after ``lease_expires``, so a late heartbeat does not by itself make a worker lose its work.

    @abc.abstractmethod
    def enqueue(self, invocation: Invocation) -> Invocation:
        """Insert an asynchronous invocation into the queue, committed when this returns; return it as stored.

        ``invocation`` must be of type ``EVENT`` and in status ``pending`` with its transitions already recorded
        by the caller (typically ``created`` then ``pending``; the last one must be ``pending``), otherwise
        ``InvalidParameterValue``. ``available_at`` None is stored as ``created_at`` (claimable at once), and one
        earlier than the ``pending`` step as that step's time (never claimable before it was queued); the lease
        fields must be None. An existing id raises ``ResourceConflict`` and changes nothing."""

    @abc.abstractmethod
    def enqueue_many(self, invocations: Sequence[Invocation]) -> list[Invocation]:
        """``enqueue`` for a batch, all or nothing, in one transaction: every record is checked as ``enqueue``
        checks it before anything is written (``InvalidParameterValue``); an id that already exists, or that
        appears twice in the batch, raises ``ResourceConflict`` and inserts none of them. Committed when this
        returns; returns the records as stored, in the order given. Other processes' workers are told once for
        the whole batch (PostgreSQL: one NOTIFY). An empty batch writes nothing."""

    @abc.abstractmethod
    def claim(self, worker: str, now: float, lease_s: float, requests: Sequence[ClaimRequest]) -> list[Invocation]:
        """Lease queued invocations to ``worker``, atomically (one transaction).

        For each request: up to ``min(want, lane_max - ready_or_running)`` pending invocations of that function
        and lane with ``available_at <= now``, oldest ``available_at`` first (then id), where
        ``ready_or_running`` counts the lane's invocations in ``ready`` or ``running`` across all workers.
        Each moves ``pending -> ready`` with ``lease_owner = worker``, ``lease_expires = now + lease_s`` and the
        transition ``(ready, now, worker)``. Concurrent claimers never take one invocation twice and never
        together exceed a lane's maximum (SQLite: the database write lock; PostgreSQL: ``FOR UPDATE SKIP LOCKED``
        and a transaction-scoped advisory lock per function and lane). Pending rows whose ``available_at`` is
        NULL (never enqueued) are not claimable. Returns the claimed invocations, payload and transitions
        included, in request order and claim order within a request. A request with ``start`` also moves its
        invocations on to ``running`` (transitions ``(ready, now, worker)`` then ``(running, now, worker)``), as
        ``start`` would right after: one transaction less for a worker that runs them at once."""

    @abc.abstractmethod
    def start(self, invocation_id: str, worker: str, now: float) -> bool:
        """``ready -> running`` (transition ``(running, now, worker)``), only if ``worker`` holds the lease;
        False (nothing changed) when the invocation is missing, not ready or leased to someone else."""

    def finish_many(self, worker: str, finishes: Sequence[Finish]) -> list[bool]:
        """``finish`` for several invocations in one transaction (each its own compare-and-set, exactly as
        ``finish``); returns whether each one finished, in order."""
        return [
            self.finish(f.invocation_id, worker, f.transition, f.changes, retry_at=f.retry_at, consume=f.consume)
            for f in finishes
        ]

    @abc.abstractmethod
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
        """End a running invocation's attempt, only if ``worker`` still holds its lease (False otherwise, nothing
        changed). ``transition.status`` is ``succeeded`` or ``failed`` (final), or ``pending``: a retry, which
        needs ``retry_at`` (the new ``available_at``, not before ``transition.at``: ``InvalidParameterValue``) and
        increments ``attempt`` (unless ``consume`` is False: a platform error, not the function's, uses no
        attempt); or ``terminated``, which also ends a ``ready`` invocation (the worker stopped it before it ran:
        too old, reserved concurrency 0, a recursive loop). Any other status raises ``IllegalTransition``. The
        lease is cleared. ``changes`` carries the result fields to store (as in ``record_transition``), for a retry
        the outcome of the failed attempt; its ``attempt`` must be the stored one (False otherwise): the result of
        an attempt that a frozen worker finishes after the invocation was taken back and claimed again is not
        stored as the later attempt's. A final status always stores a ``finished_at``: the one of ``changes``,
        else the transition's time."""

    @abc.abstractmethod
    def heartbeat(
        self, worker: str, host: str, pid: int, now: float, lease_s: float, holding: Sequence[str] | None = None
    ) -> int:
        """Record that ``worker`` is alive (insert its row, or update ``heartbeat_at``, ``host`` and ``pid``) and
        extend to ``now + lease_s`` the lease of every ready or running invocation it holds (with ``holding``: of
        those among these ids only, so one the worker lost track of expires and is recovered, not kept forever);
        return how many."""

    @abc.abstractmethod
    def recover_expired(self, worker: str, now: float, max_attempts: int) -> list[str]:
        """Take back every ready or running invocation whose ``lease_expires < now``, in one transaction, with
        transitions attributed to ``worker`` (the recovering one) and the lease cleared; return their ids.

        - ``running``: the handler may have run, so the attempt counts: ``running -> orphaned``, then
          ``-> pending`` with ``attempt + 1`` and ``available_at = now`` when ``attempt < max_attempts``, else
          ``-> failed`` with ``error_type`` ``WORKER_LOST`` ("Runtime.WorkerLost"), an ``error_message`` saying
          which worker lost it, and ``finished_at = now``.
        - ``ready``: claimed but never started, so nothing ran: back to ``pending`` (``available_at = now``)
          without consuming an attempt (the lifecycle has no ``ready -> orphaned``)."""

    @abc.abstractmethod
    def hand_back(self, worker: str, now: float, max_attempts: int) -> list[str]:
        """``recover_expired`` for every invocation leased to ``worker``, expired or not: what a worker that stops
        gives back (a ready one to ``pending`` without using an attempt; a running one, whose handler it could
        not let finish, through ``orphaned`` as if the worker were lost). Returns their ids."""

    @abc.abstractmethod
    def set_route(self, invocation_id: str, routed_to: str, condition: str) -> bool:
        """Record where a finished invocation's outcome was sent (``routed_to``, ``route_condition``), for one the
        store itself ended (a lost worker's last attempt failed by ``recover_expired``/``hand_back``), routed
        after; only if it is finished and not routed yet (False otherwise, nothing changed)."""

    @abc.abstractmethod
    def cancel(self, invocation_id: str, worker: str | None, now: float) -> bool:
        """Any unfinished status ``-> terminated`` (transition ``(terminated, now, worker)``, ``finished_at =
        now``, lease cleared); False when the invocation is missing or already finished."""

    @abc.abstractmethod
    def pending_lanes(self) -> list[tuple[str, int]]:
        """The (function, lane) pairs that have at least one pending invocation, ordered: what a worker claims from.
        Its cost follows the number of such lanes, not of the invocations waiting in them."""

    @abc.abstractmethod
    def queue_depth(self, function_name: str | None = None) -> list[QueueDepth]:
        """Exact counts of unfinished invocations (pending, ready, running, orphaned) per function, lane and
        status, ordered by those; combinations without any invocation are left out. With ``function_name``, that
        function's only (a range of its index: the cost of its own queue, not every function's)."""

    @abc.abstractmethod
    def workers(self) -> list[Worker]:
        """Every worker that ever heartbeat, ordered by id."""

    def subscribe(self, callback: Callable[[str | None, int], None]) -> Callable[[], None]:
        """Call ``callback(function_name, lane)`` (from another thread) for each lane another process queued work
        into, or ``callback(None, 0)`` when it may have queued work anywhere; returns the function that stops it
        (PostgreSQL: LISTEN/NOTIFY; SQLite: Unix sockets beside the file, see ``wakeups``). A store that cannot tell
        (the in-memory fake) never calls it: workers of one process are woken directly, and the others find work
        by polling."""
        return lambda: None

    # -- schedules -------------------------------------------------------------------------------------------
    # Storage computes no fire times: the engine does (``core.schedules``), in ``next_fire_at`` when it creates or
    # updates a schedule and through ``claim_due_schedules``'s ``advance`` when one fires.

    @abc.abstractmethod
    def create_schedule(self, schedule: ScheduleConfig) -> ScheduleConfig:
        """Insert; raises ``ResourceConflict`` ("Schedule NAME already exists.") if the name is taken."""

    @abc.abstractmethod
    def get_schedule(self, name: str) -> ScheduleConfig | None: ...

    @abc.abstractmethod
    def list_schedules(self, marker: str | None, limit: int) -> tuple[list[ScheduleConfig], str | None]:
        """Schedules ordered by name, after ``marker``; returns (page, next marker or None)."""

    @abc.abstractmethod
    def schedules_of(self, function_name: str, limit: int) -> list[ScheduleConfig]:
        """Up to ``limit`` schedules whose target is ``function_name``, by name (index ``schedules_function``)."""

    @abc.abstractmethod
    def update_schedule(self, schedule: ScheduleConfig) -> ScheduleConfig:
        """Replace every field of the stored schedule of that name; ``ResourceNotFound`` when absent."""

    @abc.abstractmethod
    def delete_schedule(self, name: str) -> bool:
        """Delete; True if it existed."""

    @abc.abstractmethod
    def claim_due_schedules(
        self,
        now: float,
        limit: int,
        advance: Callable[[ScheduleConfig, float], float | None],
        queue: Callable[[ScheduleConfig, float], Invocation | None] | None = None,
    ) -> list[tuple[ScheduleConfig, float]]:
        """Fire the due schedules, in one transaction: up to ``limit`` enabled schedules with ``next_fire_at <=
        now``, earliest first (then by name). Each gets ``last_fired_at`` = its due time (the ``next_fire_at`` it
        had) and ``next_fire_at = advance(schedule, now)``: the engine's next fire time strictly after ``now``
        (``InvalidParameterValue``, nothing changed, otherwise), or None when it never fires again (a one-time
        schedule, an end date passed). So a schedule due several times over (after downtime) fires once, and
        concurrent claimers (many nodes) never fire one due time twice (SQLite: the write lock; PostgreSQL:
        ``FOR UPDATE SKIP LOCKED``, a claimer then seeing the advanced ``next_fire_at``). An exception from
        ``advance`` rolls the whole claim back. Returns each schedule as stored after the claim with the due time
        it fires for, in claim order.

        ``queue(schedule, due)`` (the schedule as it was before the claim) makes the invocation a firing queues,
        or None for none: those are inserted as ``enqueue_many`` inserts them, in the same transaction, so a due
        time is claimed if and only if its event is queued (an exception from ``queue``, or an id already taken,
        rolls everything back)."""


# -- rules every implementation of the queue shares --------------------------------------------------------------


MAX_LANES_TEXT = 4000  # longer: the wake-up says "anywhere" (PostgreSQL's NOTIFY payload is at most 8,000 bytes)


def lanes_text(invocations: Sequence[Invocation]) -> str:
    """What a wake-up says about where work was queued: ``function<TAB>lane`` per line, each lane once ("" when
    too long to say: anywhere)."""
    text = "\n".join(sorted({f"{inv.function_name}\t{inv.lane}" for inv in invocations}))
    return text if len(text) <= MAX_LANES_TEXT else ""


def parse_lanes(text: str) -> list[tuple[str, int]] | None:
    """The lanes of a wake-up's ``lanes_text``; None when it does not say (work may be anywhere)."""
    lanes: list[tuple[str, int]] = []
    for line in text.splitlines():
        name, _, lane = line.partition("\t")
        if not name or not lane.isdigit():
            return None
        lanes.append((name, int(lane)))
    return lanes or None


def deliver_wakeup(callback: Callable[[str | None, int], None], texts: Sequence[str]) -> None:
    """Call ``callback`` once per lane named by the wake-ups ``texts`` (or once with None if one does not say)."""
    found: set[tuple[str, int]] = set()
    for text in texts:
        lanes = parse_lanes(text)
        if lanes is None:
            callback(None, 0)
            return
        found.update(lanes)
    for name, lane in sorted(found):
        callback(name, lane)


def check_limit(limit: int) -> None:
    """A page size: SQLite reads a negative LIMIT as "no limit", PostgreSQL rejects it; both refuse it the same."""
    if limit < 1:
        raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")


def worker_lost_message(lease_owner: str | None) -> str:
    """The ``error_message`` of an invocation failed by ``recover_expired``."""
    return f"The worker {lease_owner} running this invocation stopped heartbeating and no attempt is left."


def queued_record(invocation: Invocation) -> Invocation:
    """``invocation`` as ``enqueue`` stores it, or ``InvalidParameterValue`` when it cannot be queued."""
    if invocation.type is not InvocationType.EVENT:
        raise InvalidParameterValue(f"Only asynchronous (Event) invocations are queued, not {invocation.type.value}.")
    if invocation.status is not InvocationStatus.PENDING or not invocation.transitions:
        raise InvalidParameterValue("A queued invocation must be pending, its transitions ending with pending.")
    if invocation.transitions[-1].status is not InvocationStatus.PENDING:
        raise InvalidParameterValue("A queued invocation must be pending, its transitions ending with pending.")
    if invocation.lease_owner is not None or invocation.lease_expires is not None:
        raise InvalidParameterValue("A queued invocation cannot be leased yet.")
    # claimable from its available_at (None: its creation), never before it entered the queue: what
    # ``queue_activity`` relies on to leave out the invocations that waited all along
    entered = invocation.transitions[-1].at
    available = max(invocation.created_at if invocation.available_at is None else invocation.available_at, entered)
    return invocation if available == invocation.available_at else invocation.replace(available_at=available)


def queued_records(invocations: Sequence[Invocation]) -> list[Invocation]:
    """``queued_record`` of each, in order; ``ResourceConflict`` when an id appears twice in the batch."""
    stored = [queued_record(invocation) for invocation in invocations]
    if len({invocation.id for invocation in stored}) != len(stored):
        seen: set[str] = set()
        for invocation in stored:
            if invocation.id in seen:
                raise ResourceConflict(f"Invocation {invocation.id} appears twice in the batch.")
            seen.add(invocation.id)
    return stored


def check_finish(transition: Transition, retry_at: float | None) -> bool:
    """Whether ``finish`` with ``transition`` is a retry; ``IllegalTransition`` or ``InvalidParameterValue`` when
    it is not a valid end of an attempt."""
    check_transition(InvocationStatus.RUNNING, transition.status)
    if transition.status not in (
        InvocationStatus.SUCCEEDED,
        InvocationStatus.FAILED,
        InvocationStatus.PENDING,
        InvocationStatus.TERMINATED,
    ):
        raise IllegalTransition(f"An attempt cannot finish as {transition.status.value}.")
    retry = transition.status is InvocationStatus.PENDING
    if retry != (retry_at is not None):
        raise InvalidParameterValue("retry_at is required for a retry (pending) and only then.")
    if retry_at is not None and retry_at < transition.at:
        raise InvalidParameterValue(
            f"retry_at ({retry_at!r}) cannot be before the retry's transition ({transition.at!r}): an invocation is "
            "not claimable before it is queued again."
        )
    return retry


def finished_at(transition: Transition, changes: Invocation | None) -> float | None:
    """The ``finished_at`` that ``finish`` stores with ``transition``: for a final status, the one ``changes``
    carries, else the transition's time (a finished invocation always has one); None for a retry."""
    if not transition.status.finished:
        return None
    if changes is not None and changes.finished_at is not None:
        return changes.finished_at
    return transition.at


def advanced(schedule: ScheduleConfig, now: float, following: float | None) -> ScheduleConfig:
    """``schedule`` as ``claim_due_schedules`` stores it after firing at ``now`` for its due time, with
    ``following`` (what ``advance`` returned) as ``next_fire_at``; ``InvalidParameterValue`` unless that is after
    ``now`` (a schedule left due would fire again at once)."""
    if following is not None and not following > now:
        raise InvalidParameterValue(
            f"The next fire time of schedule {schedule.name} must be after {now!r}, not {following!r}."
        )
    return schedule.replace(next_fire_at=following, last_fired_at=schedule.next_fire_at)


def open_store(url: str) -> Store:
    """Open a store from a URL: ``sqlite:///path/to/file.db``, ``postgresql://...`` or ``memory://`` (tests)."""
    if url == "memory://":
        from lambdahost.storage.memory import InMemoryStore

        return InMemoryStore()
    if url.startswith("sqlite:///"):
        from lambdahost.storage.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from lambdahost.storage.postgres import PostgresStore

        return PostgresStore(url)
    from lambdahost.core.errors import InvalidParameterValue

    raise InvalidParameterValue(f"Unsupported store URL {url!r}: use sqlite:///PATH or postgresql://...")
