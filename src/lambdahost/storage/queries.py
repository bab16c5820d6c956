"""SQL shared by the SQLite and PostgreSQL adapters, written once with ``:name`` placeholders.

SQLite runs these as they are; the PostgreSQL adapter rewrites the placeholders to psycopg's ``%(name)s``
(``to_pyformat``). So a query here must be valid in both dialects and must not contain ``:word`` inside a string
literal. Dialect-specific SQL lives in the adapter that needs it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from lambdahost.storage.rows import (
    EVENT_INVOKE_CONFIG_COLUMNS,
    FUNCTION_COLUMNS,
    INVOCATION_COLUMNS,
    PACKAGE_COLUMNS,
    PROVISIONED_COLUMNS,
    RESULT_COLUMNS,
    SCHEDULE_COLUMNS,
    SUMMARY_COLUMNS,
    WORKER_COLUMNS,
)

_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``WHERE a = :a`` -> ``WHERE a = %(a)s`` (literal ``%`` doubled; ``::type`` casts left alone)."""
    return _PLACEHOLDER.sub(r"%(\1)s", sql.replace("%", "%%"))


def _cols(columns: Sequence[str]) -> str:
    return ", ".join(columns)


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({_cols(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


def _assign(columns: Sequence[str]) -> str:
    return ", ".join(f"{c} = :{c}" for c in columns)


# -- migrations ----------------------------------------------------------------------------------------------------
CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)
APPLIED_VERSIONS = "SELECT version FROM schema_migrations ORDER BY version"
RECORD_MIGRATION = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :applied_at)"
SCHEMA_VERSION = "SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations"

# -- packages ------------------------------------------------------------------------------------------------------
INSERT_PACKAGE = _insert("packages", (*PACKAGE_COLUMNS, "data")) + " ON CONFLICT (sha256_hex) DO NOTHING"
GET_PACKAGE = f"SELECT {_cols(PACKAGE_COLUMNS)} FROM packages WHERE sha256_hex = :sha256_hex"
GET_PACKAGE_DATA = "SELECT data FROM packages WHERE sha256_hex = :sha256_hex"
DELETE_PACKAGE = "DELETE FROM packages WHERE sha256_hex = :sha256_hex"
PACKAGE_IN_USE = "SELECT 1 AS used FROM functions WHERE code_sha256_hex = :sha256_hex LIMIT 1"

# -- functions -----------------------------------------------------------------------------------------------------
_SELECT_FUNCTIONS = f"SELECT {_cols(FUNCTION_COLUMNS)} FROM functions"
INSERT_FUNCTION = _insert("functions", FUNCTION_COLUMNS) + " ON CONFLICT (name) DO NOTHING"
GET_FUNCTION = f"{_SELECT_FUNCTIONS} WHERE name = :name"
LIST_FUNCTIONS = f"{_SELECT_FUNCTIONS} ORDER BY name LIMIT :limit"
LIST_FUNCTIONS_AFTER = f"{_SELECT_FUNCTIONS} WHERE name > :marker ORDER BY name LIMIT :limit"
UPDATE_FUNCTION = f"UPDATE functions SET {_assign(FUNCTION_COLUMNS[1:])} WHERE name = :name"
UPDATE_FUNCTION_AT_REVISION = f"{UPDATE_FUNCTION} AND revision_id = :expected_revision"
FUNCTION_EXISTS = "SELECT 1 AS present FROM functions WHERE name = :name"
DELETE_FUNCTION = "DELETE FROM functions WHERE name = :name"
TOTAL_RESERVED = "SELECT COALESCE(SUM(reserved_concurrency), 0) AS total FROM functions"
TOTAL_RESERVED_EXCLUDING = f"{TOTAL_RESERVED} WHERE name <> :excluding"

# -- asynchronous settings of functions ----------------------------------------------------------------------------
UPSERT_EVENT_INVOKE_CONFIG = (
    _insert("event_invoke_configs", EVENT_INVOKE_CONFIG_COLUMNS)
    + " ON CONFLICT (function_name, qualifier) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in EVENT_INVOKE_CONFIG_COLUMNS[2:])
)
_SELECT_EVENT_INVOKE_CONFIGS = f"SELECT {_cols(EVENT_INVOKE_CONFIG_COLUMNS)} FROM event_invoke_configs"
GET_EVENT_INVOKE_CONFIG = (
    f"{_SELECT_EVENT_INVOKE_CONFIGS} WHERE function_name = :function_name AND qualifier = :qualifier"
)
LIST_EVENT_INVOKE_CONFIGS = f"{_SELECT_EVENT_INVOKE_CONFIGS} WHERE function_name = :function_name ORDER BY qualifier"
DELETE_EVENT_INVOKE_CONFIG = (
    "DELETE FROM event_invoke_configs WHERE function_name = :function_name AND qualifier = :qualifier"
)
DELETE_EVENT_INVOKE_CONFIGS_OF = "DELETE FROM event_invoke_configs WHERE function_name = :name"
UPSERT_PROVISIONED = (
    _insert("provisioned_concurrency", PROVISIONED_COLUMNS)
    + " ON CONFLICT (function_name, qualifier) DO UPDATE SET requested = excluded.requested, "
    + "last_modified = excluded.last_modified"
)
_SELECT_PROVISIONED = f"SELECT {_cols(PROVISIONED_COLUMNS)} FROM provisioned_concurrency"
GET_PROVISIONED = f"{_SELECT_PROVISIONED} WHERE function_name = :function_name AND qualifier = :qualifier"
LIST_PROVISIONED = f"{_SELECT_PROVISIONED} ORDER BY function_name, qualifier"
LIST_PROVISIONED_OF = f"{_SELECT_PROVISIONED} WHERE function_name = :function_name ORDER BY qualifier"
DELETE_PROVISIONED = (
    "DELETE FROM provisioned_concurrency WHERE function_name = :function_name AND qualifier = :qualifier"
)
DELETE_PROVISIONED_OF = "DELETE FROM provisioned_concurrency WHERE function_name = :name"

# -- invocations ---------------------------------------------------------------------------------------------------
UPSERT_INVOCATION = (
    _insert("invocations", INVOCATION_COLUMNS)
    + " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in INVOCATION_COLUMNS[1:])
)
INVOCATION_STATUS = "SELECT status FROM invocations WHERE id = :id"
GET_INVOCATION = f"SELECT {_cols(INVOCATION_COLUMNS)} FROM invocations WHERE id = :id"


SET_ROUTE = (
    "UPDATE invocations SET routed_to = :routed_to, route_condition = :condition "
    "WHERE id = :id AND status IN ('succeeded', 'failed', 'terminated') AND routed_to IS NULL"
)


@functools.cache
def set_status(append_transition: str, *, with_result: bool) -> str:
    """A lifecycle step in one statement: compare-and-set of the status (``:current`` -> ``:status``) and the append
    of the step to ``transitions``, by ``append_transition``, the dialect's expression of the column with the
    JSON text ``:transition`` appended. ``with_result`` also stores the ``RESULT_COLUMNS``."""
    result = f", {_assign(RESULT_COLUMNS)}" if with_result else ""
    return (
        f"UPDATE invocations SET status = :status, transitions = {append_transition}{result} "
        "WHERE id = :id AND status = :current"
    )


# Keyset paging by (finished_at, id), a range scan of the index invocations_function_finished_id. Unfinished
# invocations (finished_at NULL) compare as unknown and are left out.
LOGS_AFTER = (
    f"SELECT {_cols(SUMMARY_COLUMNS)}, log FROM invocations "
    "WHERE function_name = :function_name AND (finished_at, id) > (:after_finished_at, :after_id) "
    "ORDER BY finished_at, id LIMIT :limit"
)
DELETE_INVOCATIONS_OF = "DELETE FROM invocations WHERE function_name = :function_name"


def list_invocations(
    function_name: str | None, status: str | None, before: float | None, before_id: str | None, limit: int
) -> tuple[str, dict[str, Any]]:
    """The listing query for the given filters (only the filters that are set appear in the SQL)."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if function_name is not None:
        where.append("function_name = :function_name")
        params["function_name"] = function_name
    if status is not None:
        where.append("status = :status")
        params["status"] = status
    if before is not None and before_id is not None:  # after the row (before, before_id): a range of the index
        where.append("created_at <= :before AND (created_at < :before OR id < :before_id)")
        params |= {"before": before, "before_id": before_id}
    elif before is not None:
        where.append("created_at < :before")
        params["before"] = before
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {_cols(SUMMARY_COLUMNS)} FROM invocations{clause} ORDER BY created_at DESC, id DESC LIMIT :limit"
    return sql, params


# -- the queue -----------------------------------------------------------------------------------------------------
# The status predicates repeat the partial indexes' own (migration 0004) word for word: SQLite uses a partial
# index only when the query's WHERE clause contains each term of the index's WHERE clause.
_UNFINISHED = "status IN ('pending', 'ready', 'running', 'orphaned')"
_LEASED = "status IN ('ready', 'running')"
_CLEAR_LEASE = "lease_owner = NULL, lease_expires = NULL"

INSERT_QUEUED = _insert("invocations", INVOCATION_COLUMNS) + " ON CONFLICT (id) DO NOTHING"


def existing_invocation_ids(count: int) -> str:
    """Which of ``count`` ids (``:id0`` ... ``:id{count - 1}``) are taken: names the conflict of a batch enqueue."""
    return f"SELECT id FROM invocations WHERE id IN ({', '.join(f':id{n}' for n in range(count))})"


# How many invocations of a lane are ready or running: read from the partial index invocations_leased, which holds
# only those (the condition must be the index's own for SQLite to use it; with the pending ones included, as
# through invocations_unfinished, the read scanned the lane's whole backlog).
LANE_OCCUPANCY = (
    f"SELECT COUNT(*) AS n FROM invocations WHERE function_name = :function_name AND lane = :lane AND {_LEASED}"
)
QUEUE_DEPTH = (
    f"SELECT function_name, lane, status, COUNT(*) AS n FROM invocations WHERE {_UNFINISHED} "
    "GROUP BY function_name, lane, status"
)


@functools.cache
def pending_lanes(hint: str) -> str:
    """The (function, lane) pairs with a pending invocation, in order, by a loose scan of ``invocations_pending``
    (function_name, lane, ...): from each pair found, one seek for the function's next lane with a pending row,
    else one for the next function and one for its first such lane. So the cost follows the number of lanes, not
    of pending invocations (a backlog of a million is skipped over, not counted). ``hint`` is the dialect's way to
    name that index (SQLite's ``INDEXED BY``; PostgreSQL's planner finds it)."""
    pending = f"FROM invocations i{hint} WHERE i.status = 'pending'"
    next_lane = f"(SELECT i.lane {pending} AND i.function_name = lanes.f AND i.lane > lanes.l ORDER BY i.lane LIMIT 1)"
    next_function = f"(SELECT i.function_name {pending} AND i.function_name > lanes.f ORDER BY i.function_name LIMIT 1)"
    first_lane = f"(SELECT i.lane {pending} AND i.function_name = {next_function} ORDER BY i.lane LIMIT 1)"
    return (
        "WITH RECURSIVE lanes(f, l) AS ("
        f"SELECT * FROM (SELECT i.function_name, i.lane {pending} ORDER BY i.function_name, i.lane LIMIT 1) first "
        f"UNION ALL SELECT CASE WHEN {next_lane} IS NULL THEN {next_function} ELSE lanes.f END, "
        f"COALESCE({next_lane}, {first_lane}) FROM lanes WHERE lanes.f IS NOT NULL"
        ") SELECT f AS function_name, l AS lane FROM lanes WHERE f IS NOT NULL"
    )


QUEUE_DEPTH_OF = (
    f"SELECT function_name, lane, status, COUNT(*) AS n FROM invocations WHERE {_UNFINISHED} "
    "AND function_name = :function_name GROUP BY function_name, lane, status"
)
UPSERT_WORKER = (
    "INSERT INTO workers (id, host, pid, started_at, heartbeat_at, stopped_at) "
    "VALUES (:id, :host, :pid, :now, :now, NULL) "
    "ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, heartbeat_at = excluded.heartbeat_at"
)
EXTEND_LEASES = f"UPDATE invocations SET lease_expires = :lease_expires WHERE lease_owner = :owner AND {_LEASED}"


def extend_leases_of(count: int) -> str:
    """``EXTEND_LEASES`` for ``count`` ids only (``:id0`` ... ``:id{count - 1}``)."""
    return f"{EXTEND_LEASES} AND id IN ({', '.join(f':id{n}' for n in range(count))})"


EXPIRED_LEASES = (
    f"SELECT id, status, attempt, lease_owner FROM invocations WHERE {_LEASED} AND lease_expires < :now "
    "ORDER BY lease_expires"
)
OWNED_LEASES = (
    f"SELECT id, status, attempt, lease_owner FROM invocations WHERE lease_owner = :owner AND {_LEASED} "
    "ORDER BY lease_expires"
)
LIST_WORKERS = f"SELECT {_cols(WORKER_COLUMNS)} FROM workers"


@functools.cache
def claim(append_transition: str, lock_rows: str, start: bool = False) -> str:
    """Lease up to ``:limit`` of a lane's claimable invocations to ``:owner``: the oldest ``available_at`` first,
    chosen by a range scan of invocations_pending; ``lock_rows`` is the dialect's row-locking clause of that
    choice (PostgreSQL: ``FOR UPDATE SKIP LOCKED``). With ``start``, they go on to ``running`` in the same
    statement (``:transition`` then holds both steps). Returns the claimed rows."""
    # The choice is a materialized CTE joined by key: PostgreSQL may run a ``LIMIT`` subquery inside ``IN (...)``
    # more than once per statement, each run locking and taking more rows.
    return (
        "WITH picked AS MATERIALIZED ("
        "SELECT id FROM invocations WHERE status = 'pending' AND function_name = :function_name AND lane = :lane "
        f"AND available_at <= :now ORDER BY available_at, id LIMIT :limit{lock_rows}) "
        f"UPDATE invocations SET status = '{'running' if start else 'ready'}', transitions = {append_transition}, "
        "lease_owner = :owner, "
        "lease_expires = :lease_expires "
        "FROM picked WHERE invocations.id = picked.id AND invocations.status = 'pending' "
        f"RETURNING {_cols(['invocations.' + c for c in INVOCATION_COLUMNS])}"
    )


@functools.cache
def start(append_transition: str) -> str:
    return (
        f"UPDATE invocations SET status = 'running', transitions = {append_transition} "
        "WHERE id = :id AND status = 'ready' AND lease_owner = :owner"
    )


@functools.cache
def finish(
    append_transition: str,
    *,
    with_result: bool,
    retry: bool,
    terminate: bool = False,
    consume: bool = True,
    stamp: bool = False,
) -> str:
    """The end of a running attempt by the lease's owner: ``:status`` final, or ``pending`` again with ``retry``
    (``attempt + 1``, ``available_at = :available_at``); with ``terminate``, of a ready or running one. With
    ``with_result``, only the attempt ``:attempt`` (the one the result belongs to) may finish; with ``stamp`` (a
    final status without result columns), ``finished_at = :finished_at``."""
    result = f", {_assign(RESULT_COLUMNS)}" if with_result else ", finished_at = :finished_at" if stamp else ""
    again = (", attempt = attempt + 1" if consume else "") + ", available_at = :available_at" if retry else ""
    current = _LEASED if terminate else "status = 'running'"
    fence = " AND attempt = :attempt" if with_result else ""
    return (
        f"UPDATE invocations SET status = :status, transitions = {append_transition}, {_CLEAR_LEASE}{result}{again} "
        f"WHERE id = :id AND {current} AND lease_owner = :owner{fence}"
    )


@functools.cache
def requeue_expired(append_transition: str, *, owned: bool = False) -> str:
    """An expired lease's invocation (with ``owned``: one leased to ``:owner``) back to ``pending``
    (``attempt + :consumed``), if still as it was read."""
    lease = "lease_owner = :owner" if owned else "lease_expires < :now"
    return (
        f"UPDATE invocations SET status = 'pending', transitions = {append_transition}, {_CLEAR_LEASE}, "
        "attempt = attempt + :consumed, available_at = :now "
        f"WHERE id = :id AND status = :current AND {lease}"
    )


@functools.cache
def fail_expired(append_transition: str, *, owned: bool = False) -> str:
    """A running invocation whose lease expired (with ``owned``: leased to ``:owner``) with no attempt left ->
    ``failed``."""
    lease = "lease_owner = :owner" if owned else "lease_expires < :now"
    return (
        f"UPDATE invocations SET status = 'failed', transitions = {append_transition}, {_CLEAR_LEASE}, "
        "error_type = :error_type, error_message = :error_message, finished_at = :now "
        f"WHERE id = :id AND status = 'running' AND {lease}"
    )


@functools.cache
def cancel(append_transition: str) -> str:
    return (
        f"UPDATE invocations SET status = 'terminated', transitions = {append_transition}, {_CLEAR_LEASE}, "
        "finished_at = :now "
        "WHERE id = :id AND status IN ('created', 'pending', 'ready', 'running', 'orphaned')"
    )


# -- schedules -----------------------------------------------------------------------------------------------------
_SELECT_SCHEDULES = f"SELECT {_cols(SCHEDULE_COLUMNS)} FROM schedules"
INSERT_SCHEDULE = _insert("schedules", SCHEDULE_COLUMNS) + " ON CONFLICT (name) DO NOTHING"
GET_SCHEDULE = f"{_SELECT_SCHEDULES} WHERE name = :name"
LIST_SCHEDULES = f"{_SELECT_SCHEDULES} ORDER BY name LIMIT :limit"
LIST_SCHEDULES_AFTER = f"{_SELECT_SCHEDULES} WHERE name > :marker ORDER BY name LIMIT :limit"
SCHEDULES_OF = f"{_SELECT_SCHEDULES} WHERE function_name = :function_name ORDER BY name LIMIT :limit"
UPDATE_SCHEDULE = f"UPDATE schedules SET {_assign(SCHEDULE_COLUMNS[1:])} WHERE name = :name"
DELETE_SCHEDULE = "DELETE FROM schedules WHERE name = :name"
ADVANCE_SCHEDULE = "UPDATE schedules SET next_fire_at = :next_fire_at, last_fired_at = :due WHERE name = :name"


@functools.cache
def due_schedules(lock_rows: str) -> str:
    """Up to ``:limit`` enabled schedules due at ``:now``, earliest first, by a range scan of schedules_due (whose
    condition ``enabled = TRUE`` is repeated word for word, for SQLite); ``lock_rows`` is the dialect's row-locking
    clause (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, which re-checks the condition on a row another claimer just
    advanced)."""
    return (
        f"{_SELECT_SCHEDULES} WHERE enabled = TRUE AND next_fire_at <= :now "
        f"ORDER BY next_fire_at, name LIMIT :limit{lock_rows}"
    )
