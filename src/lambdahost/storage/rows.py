"""Row <-> domain record mapping, shared by every SQL adapter.

A row is a mapping of column name to a driver value. Both drivers hand back the same Python types for the columns
used here (str, int, float, bytes, None), except booleans, which SQLite stores as integers (``bool()`` covers
both), and an invocation's ``transitions``, JSON that SQLite hands back as text and psycopg decodes (JSONB).
Dicts and tuples are stored as JSON text.

``transitions`` is a JSON array of the invocation's lifecycle steps in order, each a compact array
``[status, at, worker]``: ``[["created",1700000000.5,null],["ready",1700000000.6,"host-1:4242"]]``.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.model import (
    CodePackage,
    EventInvokeConfig,
    FunctionConfig,
    FunctionState,
    Invocation,
    InvocationStatus,
    InvocationType,
    ProvisionedConcurrency,
    ScheduleConfig,
    Transition,
    UpdateStatus,
    Worker,
)

Row = Mapping[str, Any]
Params = Mapping[str, Any]

PACKAGE_COLUMNS = ("sha256_hex", "size", "unzipped_size", "entries", "created_at")

FUNCTION_COLUMNS = (
    "name",
    "runtime",
    "handler",
    "role",
    "code_sha256_hex",
    "code_size",
    "revision_id",
    "last_modified",
    "description",
    "timeout_s",
    "memory_mb",
    "ephemeral_storage_mb",
    "environment",
    "tags",
    "architectures",
    "reserved_concurrency",
    "dead_letter_target",
    "log_format",
    "log_group",
    "state",
    "state_reason",
    "state_reason_code",
    "last_update_status",
    "version",
    "lanes",
)

# Bodies that listings leave out: they can be megabytes per row.
BODY_COLUMNS = ("payload", "result", "log")

# The fields ``record_transition(changes=...)`` stores with a new status.
RESULT_COLUMNS = (
    "result",
    "function_error",
    "error_type",
    "error_message",
    "log",
    "log_truncated",
    "duration_ms",
    "billed_duration_ms",
    "init_duration_ms",
    "max_memory_mb",
    "worker",
    "finished_at",
    "trace",
    "routed_to",
    "route_condition",
)

INVOCATION_COLUMNS = (
    "id",
    "function_name",
    "version",
    "type",
    "status",
    "created_at",
    "lane",
    "attempt",
    "payload",
    "result",
    "function_error",
    "error_type",
    "error_message",
    "log",
    "log_truncated",
    "duration_ms",
    "billed_duration_ms",
    "init_duration_ms",
    "max_memory_mb",
    "memory_mb",
    "worker",
    "finished_at",
    "transitions",
    "available_at",
    "lease_owner",
    "lease_expires",
    "trace",
    "routed_to",
    "route_condition",
)

EVENT_INVOKE_CONFIG_COLUMNS = (
    "function_name",
    "qualifier",
    "maximum_retry_attempts",
    "maximum_event_age_s",
    "on_success",
    "on_failure",
    "last_modified",
)

PROVISIONED_COLUMNS = ("function_name", "qualifier", "requested", "last_modified")

WORKER_COLUMNS = ("id", "host", "pid", "started_at", "heartbeat_at", "stopped_at")

# What listings read: no bodies, no transitions.
SUMMARY_COLUMNS = tuple(c for c in INVOCATION_COLUMNS if c not in (*BODY_COLUMNS, "transitions"))

_JSON_FIELDS = frozenset({"environment", "tags", "architectures"})

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Free text written by user code (logs, exception messages): stored after ``clean_text``.
_USER_TEXT = frozenset({"log", "error_message", "error_type", "function_error"})


def clean_text(text: str) -> str:
    """``text`` made storable in every backend: NUL (which PostgreSQL ``text`` rejects) and lone surrogates
    (which are not UTF-8) become U+FFFD. A record that can never be written would block the recorder."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSTORABLE.sub("\ufffd", text)


def _to_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)  # ASCII: storable whatever the text


def _as_bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else bytes(value)  # type: ignore[call-overload]


# -- packages ------------------------------------------------------------------------------------------------------
def package_params(package: CodePackage, data: bytes) -> dict[str, Any]:
    return {name: getattr(package, name) for name in PACKAGE_COLUMNS} | {"data": data}


def package_from_row(row: Row) -> CodePackage:
    return CodePackage(
        sha256_hex=row["sha256_hex"],
        size=row["size"],
        unzipped_size=row["unzipped_size"],
        entries=row["entries"],
        created_at=row["created_at"],
    )


# -- functions -----------------------------------------------------------------------------------------------------
def function_params(config: FunctionConfig) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in FUNCTION_COLUMNS:
        value = getattr(config, name)
        if name in _JSON_FIELDS:
            value = _to_json(list(value) if isinstance(value, tuple) else value)
        elif name in ("state", "last_update_status"):
            value = value.value
        elif name == "lanes":
            value = None if value is None else _to_json(list(value))
        params[name] = value
    return params


def function_from_row(row: Row) -> FunctionConfig:
    return FunctionConfig(
        name=row["name"],
        runtime=row["runtime"],
        handler=row["handler"],
        role=row["role"],
        code_sha256_hex=row["code_sha256_hex"],
        code_size=row["code_size"],
        revision_id=row["revision_id"],
        last_modified=row["last_modified"],
        description=row["description"],
        timeout_s=row["timeout_s"],
        memory_mb=row["memory_mb"],
        ephemeral_storage_mb=row["ephemeral_storage_mb"],
        environment=json.loads(row["environment"]),
        tags=json.loads(row["tags"]),
        architectures=tuple(json.loads(row["architectures"])),
        reserved_concurrency=row["reserved_concurrency"],
        dead_letter_target=row["dead_letter_target"],
        log_format=row["log_format"],
        log_group=row["log_group"],
        state=FunctionState(row["state"]),
        state_reason=row["state_reason"],
        state_reason_code=row["state_reason_code"],
        last_update_status=UpdateStatus(row["last_update_status"]),
        version=row["version"],
        lanes=None if row["lanes"] is None else tuple(json.loads(row["lanes"])),
    )


def event_invoke_config_params(config: EventInvokeConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in EVENT_INVOKE_CONFIG_COLUMNS}


def event_invoke_config_from_row(row: Row) -> EventInvokeConfig:
    return EventInvokeConfig(**{name: row[name] for name in EVENT_INVOKE_CONFIG_COLUMNS})


def provisioned_params(config: ProvisionedConcurrency) -> dict[str, Any]:
    return {name: getattr(config, name) for name in PROVISIONED_COLUMNS}


def provisioned_from_row(row: Row) -> ProvisionedConcurrency:
    return ProvisionedConcurrency(**{name: row[name] for name in PROVISIONED_COLUMNS})


# -- invocations ---------------------------------------------------------------------------------------------------
def _invocation_value(invocation: Invocation, name: str) -> Any:
    value = getattr(invocation, name)
    if name in ("type", "status"):
        return value.value
    if name == "log_truncated":
        return bool(value)
    if name in _USER_TEXT and isinstance(value, str):
        return clean_text(value)
    return value


# ``invocation_params`` runs for every recorded invocation: the columns stored as they are come in one C call.
_CONVERTED = frozenset({"type", "status", "log_truncated", "transitions", *_USER_TEXT})
_PLAIN_COLUMNS = tuple(c for c in INVOCATION_COLUMNS if c not in _CONVERTED)
_plain_values = operator.attrgetter(*_PLAIN_COLUMNS)


def invocation_params(invocation: Invocation) -> dict[str, Any]:
    params = dict(zip(_PLAIN_COLUMNS, _plain_values(invocation), strict=True))
    for name in _USER_TEXT:
        value = getattr(invocation, name)
        params[name] = clean_text(value) if isinstance(value, str) else value
    params["type"] = invocation.type.value
    params["status"] = invocation.status.value
    params["log_truncated"] = bool(invocation.log_truncated)
    params["transitions"] = transitions_json(invocation.transitions)
    return params


def result_params(changes: Invocation) -> dict[str, Any]:
    """The result fields of ``changes``, for an update of a row's outcome."""
    return {name: _invocation_value(changes, name) for name in RESULT_COLUMNS}


def invocation_from_row(row: Row) -> Invocation:
    """Build an ``Invocation``; body columns absent from ``row`` come back empty (``b""``, ``None``, ``""``), and
    so do the transitions (``()``)."""
    result = row.get("result")
    steps = row.get("transitions")
    return Invocation(
        id=row["id"],
        function_name=row["function_name"],
        version=row["version"],
        type=InvocationType(row["type"]),
        status=InvocationStatus(row["status"]),
        created_at=row["created_at"],
        transitions=() if steps is None else transitions_from_json(steps),
        lane=row["lane"],
        attempt=row["attempt"],
        payload=_as_bytes(row.get("payload", b"")),
        result=None if result is None else _as_bytes(result),
        function_error=row["function_error"],
        error_type=row["error_type"],
        error_message=row["error_message"],
        log=row.get("log", ""),
        log_truncated=bool(row["log_truncated"]),
        duration_ms=row["duration_ms"],
        billed_duration_ms=row["billed_duration_ms"],
        init_duration_ms=row["init_duration_ms"],
        max_memory_mb=row["max_memory_mb"],
        memory_mb=row["memory_mb"],
        worker=row["worker"],
        finished_at=row["finished_at"],
        available_at=row["available_at"],
        lease_owner=row["lease_owner"],
        lease_expires=row["lease_expires"],
        trace=row["trace"],
        routed_to=row["routed_to"],
        route_condition=row["route_condition"],
    )


def worker_from_row(row: Row) -> Worker:
    return Worker(
        id=row["id"],
        host=row["host"],
        pid=row["pid"],
        started_at=row["started_at"],
        heartbeat_at=row["heartbeat_at"],
        stopped_at=row["stopped_at"],
    )


# -- transitions (the JSON of the ``transitions`` column) ----------------------------------------------------------
_QUOTED_STATUS = {status: f'"{status.value}"' for status in InvocationStatus}
_json_string = json.encoder.encode_basestring_ascii  # a JSON string literal, non-ASCII escaped
_float_text = float.__repr__  # what json writes for a float: the shortest text that reads back as the same double


def transition_json(transition: Transition) -> str:
    """One step as a JSON array ``["ready",1700000000.123456,"host-1:4242"]``, the text ``json.dumps`` writes
    (compact, ASCII). Written by hand: this runs five times per recorded invocation, and ``json.dumps`` of the same
    list costs nearly twice as much."""
    at = float(transition.at)
    if not math.isfinite(at):
        raise InvalidParameterValue(f"A transition time must be a finite number, not {at!r}.")
    worker = "null" if transition.worker is None else _json_string(transition.worker)
    return f"[{_QUOTED_STATUS[transition.status]},{_float_text(at)},{worker}]"


def transitions_json(transitions: Iterable[Transition]) -> str:
    return "[" + ",".join(map(transition_json, transitions)) + "]"


def transitions_from_json(value: str | list[list[Any]]) -> tuple[Transition, ...]:
    """The steps of a ``transitions`` column value: JSON text (SQLite) or the decoded list (PostgreSQL)."""
    steps = json.loads(value) if isinstance(value, str) else value
    return tuple(Transition(InvocationStatus(status), float(at), worker) for status, at, worker in steps)


_STATUS_OF = {status.value: status for status in InvocationStatus}


def steps_from_json(value: str | list[list[Any]]) -> tuple[tuple[InvocationStatus, float], ...]:
    """``transitions_from_json`` without the workers, as (status, time) pairs: what the queue-depth sweep reads, a
    thousand invocations at a time (a pair costs a fifth of a ``Transition``)."""
    steps = json.loads(value) if isinstance(value, str) else value
    return tuple((_STATUS_OF[status], float(at)) for status, at, _worker in steps)


# -- schedules -----------------------------------------------------------------------------------------------------
SCHEDULE_COLUMNS = (
    "name",
    "expression",
    "timezone",
    "function_name",
    "qualifier",
    "input",
    "enabled",
    "flexible_window_minutes",
    "start_date",
    "end_date",
    "created_at",
    "last_modified",
    "next_fire_at",
    "last_fired_at",
    "description",
    "kind",
    "role_arn",
    "retry_max_attempts",
    "retry_max_event_age_s",
    "dead_letter_arn",
    "action_after_completion",
    "kms_key_arn",
)


def schedule_params(schedule: ScheduleConfig) -> dict[str, Any]:
    return {name: getattr(schedule, name) for name in SCHEDULE_COLUMNS} | {"enabled": bool(schedule.enabled)}


def schedule_from_row(row: Row) -> ScheduleConfig:
    return ScheduleConfig(**{name: row[name] for name in SCHEDULE_COLUMNS} | {"enabled": bool(row["enabled"])})
