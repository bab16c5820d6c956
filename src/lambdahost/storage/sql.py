"""``SqlStore``: the ``Store`` implemented once on top of a small transaction interface.

An adapter (``SqliteStore``, ``PostgresStore``) only provides connections and transactions (``_transaction``),
the migration lock (``_migration_transaction``), a table-existence query, the expression that appends a step to
an invocation's ``transitions`` (JSON text in SQLite, JSONB in PostgreSQL), and the translation of its driver's
errors to ``StorageError``. Everything else (queries, row mapping, the semantics of each method) lives here and
in ``queries``/``rows``, so the two backends cannot drift apart.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol

from lambdahost.core.errors import PreconditionFailed, ResourceConflict, ResourceNotFound
from lambdahost.core.ids import wall_clock
from lambdahost.core.lifecycle import check_transition
from lambdahost.core.model import (
    ClaimRequest,
    CodePackage,
    EventInvokeConfig,
    Finish,
    FunctionConfig,
    Invocation,
    InvocationStatus,
    ProvisionedConcurrency,
    QueueDepth,
    Transition,
    Worker,
)
from lambdahost.storage import queries as q
from lambdahost.storage import rows
from lambdahost.storage.artifacts_sql import ArtifactSqlStore
from lambdahost.storage.base import (
    WORKER_LOST,
    Store,
    check_finish,
    check_limit,
    finished_at,
    lanes_text,
    queued_record,
    queued_records,
    worker_lost_message,
)
from lambdahost.storage.event_source_mappings_sql import EventSourceMappingSqlStore
from lambdahost.storage.function_listing_sql import FunctionListingSqlStore
from lambdahost.storage.http_routes_sql import HttpRouteSqlStore
from lambdahost.storage.message_queues_sql import MessageQueueSqlStore
from lambdahost.storage.migrate import apply_migrations, load_migrations
from lambdahost.storage.parameters_sql import ParameterSqlStore
from lambdahost.storage.queue_activity_sql import QueueActivitySqlStore
from lambdahost.storage.rows import Params, Row
from lambdahost.storage.schedules_sql import ScheduleSqlStore
from lambdahost.storage.secrets_sql import SecretSqlStore
from lambdahost.storage.streams_sql import StreamSqlStore

REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to "
    "retrieve the latest Revision Id"
)

# How often ``record_transition`` without ``expected`` re-reads the status when another writer moved it first.
_CAS_ATTEMPTS = 10


class Tx(Protocol):
    """One open transaction. SQL uses ``:name`` placeholders (see ``queries``)."""

    def execute(self, sql: str, params: Params | None = None) -> int:
        """Run one statement; return the number of rows it changed."""

    def executemany(self, sql: str, params: Sequence[Params]) -> int:
        """Run one statement once per set of parameters; return the total number of rows they changed."""

    def rowcounts(self, sql: str, params: Sequence[Params]) -> list[int]:
        """Run one statement once per set of parameters (PostgreSQL: pipelined, one round trip); the number of
        rows each run changed."""

    def one(self, sql: str, params: Params | None = None) -> Row | None: ...

    def all(self, sql: str, params: Params | None = None) -> list[Row]: ...

    def script(self, sql: str) -> None:
        """Run a parameterless script of several statements (migrations)."""


class _BatchConflict(Exception):
    """Raised inside ``enqueue_many``'s transaction to roll it back when an id was taken."""


def _numbered(ids: Sequence[str]) -> dict[str, str]:
    return {f"id{n}": value for n, value in enumerate(ids)}


class SqlStore(
    MessageQueueSqlStore,
    ScheduleSqlStore,
    EventSourceMappingSqlStore,
    StreamSqlStore,
    HttpRouteSqlStore,
    SecretSqlStore,
    ArtifactSqlStore,
    ParameterSqlStore,
    QueueActivitySqlStore,
    FunctionListingSqlStore,
    Store,
):
    """The shared implementation; subclasses supply connections, transactions and error translation."""

    dialect: ClassVar[str]
    table_exists_sql: ClassVar[str]  # one parameter, ``:name``; returns a row when the table exists
    # The column ``transitions`` with ``:transition`` appended: one step's JSON text (``rows.transition_json``), or
    # several joined by commas.
    append_transition_sql: ClassVar[str]
    # Appended to the query that chooses the invocations a claim takes: the dialect's row-locking clause, if any.
    lock_rows_sql: ClassVar[str] = ""
    # After ``FROM invocations i`` in ``pending_lanes``: how the dialect names the pending index, if it must.
    pending_index_hint: ClassVar[str] = ""
    # Run in the transaction that queues an invocation, with ``:lanes`` (``lanes_text``): tells other processes'
    # workers (PostgreSQL NOTIFY, which is delivered when the transaction commits), if the dialect can.
    notify_queued_sql: ClassVar[str | None] = None

    def _work_queued(self, lanes: str) -> None:
        """Called after a commit that made invocations claimable in ``lanes`` (``lanes_text``; "" for anywhere:
        a hand back): tells other processes' workers, where the dialect does it outside the transaction (SQLite).
        Nothing by default; never raises."""

    def _serialize(self, tx: Tx, name: str, number: int) -> None:
        """Make the rest of ``tx`` exclusive among transactions serializing on the same ``(name, number)`` (until
        it ends). Nothing by default: a database whose write transactions already exclude each other (SQLite)
        needs nothing more."""

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]:
        """A transaction that commits on success and rolls back on any exception. ``write=False`` promises only
        reads (a consistent snapshot); ``write=True`` takes the write lock where the database needs one.
        Driver errors leave it as ``StorageError``."""

    @abc.abstractmethod
    def _migration_transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction that also excludes every other process migrating the same database."""

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        migrations = load_migrations(self.dialect)
        with self._migration_transaction() as tx:
            return apply_migrations(tx, migrations, wall_clock())

    def schema_version(self) -> int:
        with self._transaction(write=False) as tx:
            if tx.one(self.table_exists_sql, {"name": "schema_migrations"}) is None:
                return 0
            row = tx.one(q.SCHEMA_VERSION)
            return int(row["version"]) if row else 0

    # -- code packages -----------------------------------------------------------------------------------------
    def put_package(self, package: CodePackage, data: bytes) -> CodePackage:
        key = {"sha256_hex": package.sha256_hex}
        with self._transaction(write=False) as tx:
            existing = tx.one(q.GET_PACKAGE, key)
        if existing is not None:  # already stored: do not send the bytes again
            return rows.package_from_row(existing)
        with self._transaction(write=True) as tx:
            if tx.execute(q.INSERT_PACKAGE, rows.package_params(package, data)) == 1:
                return package
            stored = tx.one(q.GET_PACKAGE, key)  # another writer won the race
        return rows.package_from_row(stored) if stored is not None else package

    def get_package(self, sha256_hex: str) -> CodePackage | None:
        with self._transaction(write=False) as tx:
            row = tx.one(q.GET_PACKAGE, {"sha256_hex": sha256_hex})
        return rows.package_from_row(row) if row is not None else None

    def get_package_data(self, sha256_hex: str) -> bytes | None:
        with self._transaction(write=False) as tx:
            row = tx.one(q.GET_PACKAGE_DATA, {"sha256_hex": sha256_hex})
        return bytes(row["data"]) if row is not None else None

    def delete_package(self, sha256_hex: str) -> None:
        with self._transaction(write=True) as tx:
            tx.execute(q.DELETE_PACKAGE, {"sha256_hex": sha256_hex})

    def package_in_use(self, sha256_hex: str) -> bool:
        with self._transaction(write=False) as tx:
            return tx.one(q.PACKAGE_IN_USE, {"sha256_hex": sha256_hex}) is not None

    # -- functions ---------------------------------------------------------------------------------------------
    def create_function(self, config: FunctionConfig) -> FunctionConfig:
        with self._transaction(write=True) as tx:
            inserted = tx.execute(q.INSERT_FUNCTION, rows.function_params(config))
        if inserted != 1:
            raise ResourceConflict(f"Function already exist: {config.name}")
        return config

    def get_function(self, name: str) -> FunctionConfig | None:
        with self._transaction(write=False) as tx:
            row = tx.one(q.GET_FUNCTION, {"name": name})
        return rows.function_from_row(row) if row is not None else None

    def list_functions(self, marker: str | None, limit: int) -> tuple[list[FunctionConfig], str | None]:
        check_limit(limit)
        params: dict[str, Any] = {"limit": limit + 1, "marker": marker}
        with self._transaction(write=False) as tx:
            found = tx.all(q.LIST_FUNCTIONS if marker is None else q.LIST_FUNCTIONS_AFTER, params)
        page = [rows.function_from_row(row) for row in found[:limit]]
        return page, (page[-1].name if len(found) > limit else None)

    def update_function(self, config: FunctionConfig, expected_revision: str | None = None) -> FunctionConfig:
        params = rows.function_params(config)
        with self._transaction(write=True) as tx:
            if expected_revision is None:
                changed = tx.execute(q.UPDATE_FUNCTION, params)
            else:
                changed = tx.execute(q.UPDATE_FUNCTION_AT_REVISION, {**params, "expected_revision": expected_revision})
            exists = changed == 1 or tx.one(q.FUNCTION_EXISTS, {"name": config.name}) is not None
        if not exists:
            raise ResourceNotFound(f"Function not found: {config.name}")
        if changed != 1:
            raise PreconditionFailed(REVISION_MISMATCH)
        return config

    def delete_function(self, name: str) -> bool:
        with self._transaction(write=True) as tx:
            tx.execute(q.DELETE_EVENT_INVOKE_CONFIGS_OF, {"name": name})
            tx.execute(q.DELETE_PROVISIONED_OF, {"name": name})
            self._delete_http_triggers_of(tx, name)
            self._delete_parameters_of(tx, name)
            return tx.execute(q.DELETE_FUNCTION, {"name": name}) > 0

    def total_reserved_concurrency(self, excluding: str | None = None) -> int:
        with self._transaction(write=False) as tx:
            if excluding is None:
                row = tx.one(q.TOTAL_RESERVED)
            else:
                row = tx.one(q.TOTAL_RESERVED_EXCLUDING, {"excluding": excluding})
        return int(row["total"]) if row is not None else 0

    # -- asynchronous settings of functions ---------------------------------------------------------------------
    def put_event_invoke_config(self, config: EventInvokeConfig) -> EventInvokeConfig:
        with self._transaction(write=True) as tx:
            tx.execute(q.UPSERT_EVENT_INVOKE_CONFIG, rows.event_invoke_config_params(config))
        return config

    def get_event_invoke_config(self, function_name: str, qualifier: str) -> EventInvokeConfig | None:
        with self._transaction(write=False) as tx:
            row = tx.one(q.GET_EVENT_INVOKE_CONFIG, {"function_name": function_name, "qualifier": qualifier})
        return rows.event_invoke_config_from_row(row) if row is not None else None

    def list_event_invoke_configs(self, function_name: str) -> list[EventInvokeConfig]:
        with self._transaction(write=False) as tx:
            found = tx.all(q.LIST_EVENT_INVOKE_CONFIGS, {"function_name": function_name})
        return [rows.event_invoke_config_from_row(row) for row in found]

    def delete_event_invoke_config(self, function_name: str, qualifier: str) -> bool:
        with self._transaction(write=True) as tx:
            key = {"function_name": function_name, "qualifier": qualifier}
            return tx.execute(q.DELETE_EVENT_INVOKE_CONFIG, key) > 0

    def put_provisioned_concurrency(self, config: ProvisionedConcurrency) -> ProvisionedConcurrency:
        with self._transaction(write=True) as tx:
            tx.execute(q.UPSERT_PROVISIONED, rows.provisioned_params(config))
        return config

    def get_provisioned_concurrency(self, function_name: str, qualifier: str) -> ProvisionedConcurrency | None:
        with self._transaction(write=False) as tx:
            row = tx.one(q.GET_PROVISIONED, {"function_name": function_name, "qualifier": qualifier})
        return rows.provisioned_from_row(row) if row is not None else None

    def list_provisioned_concurrency(self, function_name: str | None = None) -> list[ProvisionedConcurrency]:
        with self._transaction(write=False) as tx:
            if function_name is None:
                found = tx.all(q.LIST_PROVISIONED)
            else:
                found = tx.all(q.LIST_PROVISIONED_OF, {"function_name": function_name})
        return [rows.provisioned_from_row(row) for row in found]

    def delete_provisioned_concurrency(self, function_name: str, qualifier: str) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(q.DELETE_PROVISIONED, {"function_name": function_name, "qualifier": qualifier}) > 0

    # -- invocations -------------------------------------------------------------------------------------------
    def insert_invocations(self, invocations: Sequence[Invocation]) -> None:
        """Insert (or replace, by id) the records, their transitions included: one batched upsert, one transaction.
        Replacing makes a retried batch harmless; of several records with one id, the last wins."""
        if not invocations:
            return
        unique = {inv.id: inv for inv in invocations}  # the last record of an id, each id written once
        records = [rows.invocation_params(inv) for inv in unique.values()]
        with self._transaction(write=True) as tx:
            tx.executemany(q.UPSERT_INVOCATION, records)

    def record_transition(
        self,
        invocation_id: str,
        transition: Transition,
        *,
        expected: InvocationStatus | None = None,
        changes: Invocation | None = None,
    ) -> bool:
        """Compare-and-set the status and append the transition, in one ``UPDATE ... WHERE status = current``.

        An illegal lifecycle step raises ``IllegalTransition`` and changes nothing. Without ``expected`` the
        current status is read first and used as the compare value (re-read if another writer moved it).
        """
        if expected is not None:
            check_transition(expected, transition.status)
        params: dict[str, Any] = {
            "id": invocation_id,
            "status": transition.status.value,
            "transition": rows.transition_json(transition),
        }
        if changes is not None:
            params |= rows.result_params(changes)
        update = q.set_status(self.append_transition_sql, with_result=changes is not None)
        with self._transaction(write=True) as tx:
            for _ in range(_CAS_ATTEMPTS):
                current = expected
                if current is None:
                    row = tx.one(q.INVOCATION_STATUS, {"id": invocation_id})
                    if row is None:
                        return False
                    current = InvocationStatus(row["status"])
                    check_transition(current, transition.status)
                if tx.execute(update, {**params, "current": current.value}) == 1:
                    return True
                if expected is not None:
                    return False
        return False

    def get_invocation(self, invocation_id: str) -> Invocation | None:
        with self._transaction(write=False) as tx:
            row = tx.one(q.GET_INVOCATION, {"id": invocation_id})
        return rows.invocation_from_row(row) if row is not None else None

    def list_invocations(
        self,
        function_name: str | None = None,
        status: InvocationStatus | None = None,
        limit: int = 50,
        before: float | None = None,
        before_id: str | None = None,
    ) -> list[Invocation]:
        """Newest first; payload, result and log left empty and transitions not loaded."""
        check_limit(limit)
        sql, params = q.list_invocations(function_name, status.value if status else None, before, before_id, limit)
        with self._transaction(write=False) as tx:
            return [rows.invocation_from_row(row) for row in tx.all(sql, params)]

    def invocation_logs_after(self, function_name: str, after: tuple[float, str], limit: int = 100) -> list[Invocation]:
        """Finished ones ordered by (finished_at, id) after ``after``, with logs; payload and result left empty."""
        check_limit(limit)
        finished_at, invocation_id = after
        params = {
            "function_name": function_name,
            "after_finished_at": finished_at,
            "after_id": invocation_id,
            "limit": limit,
        }
        with self._transaction(write=False) as tx:
            return [rows.invocation_from_row(row) for row in tx.all(q.LOGS_AFTER, params)]

    def delete_invocations_of(self, function_name: str) -> int:
        """Delete a function's invocations (their transitions are in their rows)."""
        with self._transaction(write=True) as tx:
            return tx.execute(q.DELETE_INVOCATIONS_OF, {"function_name": function_name})

    # -- the queue ---------------------------------------------------------------------------------------------
    def enqueue(self, invocation: Invocation) -> Invocation:
        stored = queued_record(invocation)
        with self._transaction(write=True) as tx:
            inserted = tx.execute(q.INSERT_QUEUED, rows.invocation_params(stored))
            lanes = lanes_text([stored])
            if inserted == 1 and self.notify_queued_sql:
                tx.execute(self.notify_queued_sql, {"lanes": lanes})
        if inserted != 1:
            raise ResourceConflict(f"Invocation already exists: {invocation.id}")
        self._work_queued(lanes)
        return stored

    def enqueue_many(self, invocations: Sequence[Invocation]) -> list[Invocation]:
        """``INSERT_QUEUED`` (as ``enqueue``) once per record in one ``executemany``; fewer rows inserted than
        records means an id was taken, and the transaction is rolled back."""
        stored = queued_records(invocations)
        if not stored:
            return []
        records = [rows.invocation_params(inv) for inv in stored]
        try:
            with self._transaction(write=True) as tx:
                if tx.executemany(q.INSERT_QUEUED, records) != len(records):
                    raise _BatchConflict  # rolls the batch back
                lanes = lanes_text(stored)
                if self.notify_queued_sql:
                    tx.execute(self.notify_queued_sql, {"lanes": lanes})
        except _BatchConflict:
            raise ResourceConflict(f"Invocation already exists: {self._first_taken(stored)}") from None
        self._work_queued(lanes)
        return stored

    def _first_taken(self, invocations: Sequence[Invocation]) -> str:
        """The first of ``invocations`` (in order) whose id is stored (the error path of ``enqueue_many``)."""
        chunk = 500  # bound parameters per query, well within both databases' limits
        with self._transaction(write=False) as tx:
            for start in range(0, len(invocations), chunk):
                ids = [inv.id for inv in invocations[start : start + chunk]]
                found = {row["id"] for row in tx.all(q.existing_invocation_ids(len(ids)), _numbered(ids))}
                taken = next((i for i in ids if i in found), None)
                if taken is not None:
                    return taken
        return "one of the batch (taken by a concurrent writer, since removed)"

    def claim(self, worker: str, now: float, lease_s: float, requests: Sequence[ClaimRequest]) -> list[Invocation]:
        """One transaction; on PostgreSQL the lanes are locked in (function, lane) order, so two claimers asking
        for the same lanes in different orders cannot deadlock."""
        ready = rows.transition_json(Transition(InvocationStatus.READY, now, worker))
        started = ready + "," + rows.transition_json(Transition(InvocationStatus.RUNNING, now, worker))
        claimed: dict[int, list[Invocation]] = {}
        order = sorted(range(len(requests)), key=lambda n: (requests[n].function_name, requests[n].lane))
        with self._transaction(write=True) as tx:
            for n in order:
                request = requests[n]
                lane = {"function_name": request.function_name, "lane": request.lane}
                self._serialize(tx, request.function_name, request.lane)
                row = tx.one(q.LANE_OCCUPANCY, lane)
                free = min(request.want, request.lane_max - (int(row["n"]) if row else 0))
                if free < 1:
                    continue
                params = {
                    **lane,
                    "owner": worker,
                    "now": now,
                    "lease_expires": now + lease_s,
                    "limit": free,
                    "transition": started if request.start else ready,
                }
                update = q.claim(self.append_transition_sql, self.lock_rows_sql, request.start)
                found = [rows.invocation_from_row(row) for row in tx.all(update, params)]
                claimed[n] = sorted(found, key=lambda inv: (inv.available_at or 0.0, inv.id))
        return [inv for n in range(len(requests)) for inv in claimed.get(n, [])]

    def start(self, invocation_id: str, worker: str, now: float) -> bool:
        params = {
            "id": invocation_id,
            "owner": worker,
            "transition": rows.transition_json(Transition(InvocationStatus.RUNNING, now, worker)),
        }
        with self._transaction(write=True) as tx:
            return tx.execute(q.start(self.append_transition_sql), params) == 1

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
        return self.finish_many(worker, [Finish(invocation_id, transition, changes, retry_at, consume)])[0]

    def finish_many(self, worker: str, finishes: Sequence[Finish]) -> list[bool]:
        statements = [self._finish_statement(worker, f) for f in finishes]  # every check before the transaction
        by_sql: dict[str, list[int]] = {}
        for n, (update, _params) in enumerate(statements):
            by_sql.setdefault(update, []).append(n)
        done = [False] * len(statements)
        with self._transaction(write=True) as tx:
            for update, numbers in by_sql.items():
                counts = tx.rowcounts(update, [statements[n][1] for n in numbers])
                for n, count in zip(numbers, counts, strict=True):
                    done[n] = count == 1
        return done

    def _finish_statement(self, worker: str, finish: Finish) -> tuple[str, dict[str, Any]]:
        transition, changes = finish.transition, finish.changes
        retry = check_finish(transition, finish.retry_at)
        params: dict[str, Any] = {
            "id": finish.invocation_id,
            "owner": worker,
            "status": transition.status.value,
            "transition": rows.transition_json(transition),
            "available_at": finish.retry_at,
        }
        if changes is not None:
            params |= rows.result_params(changes)
            params["attempt"] = changes.attempt
        ended = finished_at(transition, changes)
        if ended is not None:
            params["finished_at"] = ended
        terminate = transition.status is InvocationStatus.TERMINATED
        update = q.finish(
            self.append_transition_sql,
            with_result=changes is not None,
            retry=retry,
            terminate=terminate,
            consume=finish.consume,
            stamp=changes is None and ended is not None,
        )
        return update, params

    def heartbeat(
        self, worker: str, host: str, pid: int, now: float, lease_s: float, holding: Sequence[str] | None = None
    ) -> int:
        params: dict[str, Any] = {"owner": worker, "lease_expires": now + lease_s}
        with self._transaction(write=True) as tx:
            tx.execute(q.UPSERT_WORKER, {"id": worker, "host": host, "pid": pid, "now": now})
            if holding is None:
                return tx.execute(q.EXTEND_LEASES, params)
            if not holding:
                return 0
            ids = {f"id{n}": invocation_id for n, invocation_id in enumerate(holding)}
            return tx.execute(q.extend_leases_of(len(ids)), params | ids)

    def recover_expired(self, worker: str, now: float, max_attempts: int) -> list[str]:
        """Reads the expired leases (index invocations_lease_expires), then moves each by its key with a
        compare-and-set on what was read. Recoverers are serialized, so two never take the same invocation."""
        return self._take_back(worker, now, max_attempts, owned=False)

    def hand_back(self, worker: str, now: float, max_attempts: int) -> list[str]:
        handed = self._take_back(worker, now, max_attempts, owned=True)
        if handed:
            self._work_queued("")
        return handed

    def _take_back(self, worker: str, now: float, max_attempts: int, *, owned: bool) -> list[str]:
        recovered: list[str] = []
        with self._transaction(write=True) as tx:
            self._serialize(tx, "lambdahost.recover", 0)
            found = tx.all(q.OWNED_LEASES, {"owner": worker}) if owned else tx.all(q.EXPIRED_LEASES, {"now": now})
            for row in found:
                params: dict[str, Any] = {"id": row["id"], "now": now, "owner": worker}
                if row["status"] == InvocationStatus.READY.value:
                    steps = [InvocationStatus.PENDING]
                    sql = q.requeue_expired(self.append_transition_sql, owned=owned)
                    params |= {"current": row["status"], "consumed": 0}
                elif row["attempt"] < max_attempts:
                    steps = [InvocationStatus.ORPHANED, InvocationStatus.PENDING]
                    sql = q.requeue_expired(self.append_transition_sql, owned=owned)
                    params |= {"current": row["status"], "consumed": 1}
                else:
                    steps = [InvocationStatus.ORPHANED, InvocationStatus.FAILED]
                    sql = q.fail_expired(self.append_transition_sql, owned=owned)
                    params |= {"error_type": WORKER_LOST, "error_message": worker_lost_message(row["lease_owner"])}
                params["transition"] = ",".join(rows.transition_json(Transition(s, now, worker)) for s in steps)
                if tx.execute(sql, params) == 1:
                    recovered.append(row["id"])
        return recovered

    def set_route(self, invocation_id: str, routed_to: str, condition: str) -> bool:
        params = {"id": invocation_id, "routed_to": routed_to, "condition": condition}
        with self._transaction(write=True) as tx:
            return tx.execute(q.SET_ROUTE, params) == 1

    def cancel(self, invocation_id: str, worker: str | None, now: float) -> bool:
        params = {
            "id": invocation_id,
            "now": now,
            "transition": rows.transition_json(Transition(InvocationStatus.TERMINATED, now, worker)),
        }
        with self._transaction(write=True) as tx:
            return tx.execute(q.cancel(self.append_transition_sql), params) == 1

    def pending_lanes(self) -> list[tuple[str, int]]:
        with self._transaction(write=False) as tx:
            found = tx.all(q.pending_lanes(self.pending_index_hint))
        return [(row["function_name"], int(row["lane"])) for row in found]

    def queue_depth(self, function_name: str | None = None) -> list[QueueDepth]:
        with self._transaction(write=False) as tx:
            if function_name is None:
                found = tx.all(q.QUEUE_DEPTH)
            else:
                found = tx.all(q.QUEUE_DEPTH_OF, {"function_name": function_name})
        depth = [QueueDepth(r["function_name"], r["lane"], InvocationStatus(r["status"]), int(r["n"])) for r in found]
        return sorted(depth)

    def workers(self) -> list[Worker]:
        with self._transaction(write=False) as tx:
            found = tx.all(q.LIST_WORKERS)
        return sorted((rows.worker_from_row(row) for row in found), key=lambda w: w.id)
