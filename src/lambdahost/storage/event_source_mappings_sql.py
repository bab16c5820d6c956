"""Event source mappings on SQL: ``EventSourceMappingSqlStore``, mixed into ``SqlStore`` (SQLite and PostgreSQL),
with its queries (``:name`` placeholders, valid in both dialects, as in ``queries``) and row mapping.

``filter_patterns`` and ``function_response_types`` are stored as JSON arrays of strings. Uniqueness of (source,
function, qualifier) is the unique index ``event_source_mappings_source``: an insert that would break it, like one
of a taken uuid, inserts nothing (``ON CONFLICT DO NOTHING``) and is reported as a conflict.
"""

from __future__ import annotations

import abc
import json
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from lambdahost.core.errors import ResourceConflict, ResourceNotFound, StorageError
from lambdahost.core.event_source_mappings import EventSourceMapping, MappingState, SourceKind, StartingPosition
from lambdahost.storage.base import check_limit
from lambdahost.storage.event_source_mappings import EventSourceMappingStore
from lambdahost.storage.rows import Row

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx

MAPPING_COLUMNS = (
    "uuid",
    "function_name",
    "qualifier",
    "source_arn",
    "source_kind",
    "enabled",
    "state",
    "state_transition_reason",
    "last_processing_result",
    "last_processing_at",
    "created_at",
    "last_modified",
    "batch_size",
    "maximum_batching_window_s",
    "filter_patterns",
    "function_response_types",
    "maximum_concurrency",
    "starting_position",
    "starting_position_timestamp",
    "parallelization_factor",
    "maximum_retry_attempts",
    "maximum_record_age_s",
    "bisect_batch_on_function_error",
    "on_failure_destination",
)
# What ``update_event_source_mapping`` replaces: everything but the key, the creation time and the pollers'
# processing result.
_UPDATED = tuple(
    c for c in MAPPING_COLUMNS if c not in ("uuid", "created_at", "last_processing_result", "last_processing_at")
)

# -- queries -------------------------------------------------------------------------------------------------------
_SELECT = f"SELECT {', '.join(MAPPING_COLUMNS)} FROM event_source_mappings"
INSERT_MAPPING = (
    f"INSERT INTO event_source_mappings ({', '.join(MAPPING_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in MAPPING_COLUMNS)}) ON CONFLICT DO NOTHING"
)
GET_MAPPING = f"{_SELECT} WHERE uuid = :uuid"
UPDATE_MAPPING = f"UPDATE event_source_mappings SET {', '.join(f'{c} = :{c}' for c in _UPDATED)} WHERE uuid = :uuid"
DELETE_MAPPING = "DELETE FROM event_source_mappings WHERE uuid = :uuid"
DELETE_SLOTS = "DELETE FROM mapping_slots WHERE mapping_uuid = :uuid"
HELD_SLOTS = "SELECT slot FROM mapping_slots WHERE mapping_uuid = :uuid AND expires > :now ORDER BY slot"
# Take a slot if it is free or expired; two nodes racing for one: the second's upsert changes no row.
TAKE_SLOT = (
    "INSERT INTO mapping_slots (mapping_uuid, slot, owner, expires) VALUES (:uuid, :slot, :owner, :expires) "
    "ON CONFLICT (mapping_uuid, slot) DO UPDATE SET owner = excluded.owner, expires = excluded.expires "
    "WHERE mapping_slots.expires <= :now"
)
RENEW_SLOTS = (
    "UPDATE mapping_slots SET expires = :expires WHERE owner = :owner AND expires > :now RETURNING mapping_uuid, slot"
)
RELEASE_SLOT = "DELETE FROM mapping_slots WHERE mapping_uuid = :uuid AND slot = :slot AND owner = :owner"
SET_PROCESSING_RESULT = (
    "UPDATE event_source_mappings SET last_processing_result = :result, last_processing_at = :at WHERE uuid = :uuid"
)


def list_mappings(by_function: bool, by_source: bool, after: bool) -> str:
    """The listing query with the conditions asked for; ``:limit`` rows in uuid order."""
    conditions = [
        condition
        for wanted, condition in (
            (by_function, "function_name = :function_name"),
            (by_source, "source_arn = :source_arn"),
            (after, "uuid > :marker"),
        )
        if wanted
    ]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"{_SELECT}{where} ORDER BY uuid LIMIT :limit"


# -- rows ----------------------------------------------------------------------------------------------------------
def mapping_params(mapping: EventSourceMapping) -> dict[str, Any]:
    params = {name: getattr(mapping, name) for name in MAPPING_COLUMNS}
    params.update(
        source_kind=mapping.source_kind.value,
        state=mapping.state.value,
        enabled=bool(mapping.enabled),
        bisect_batch_on_function_error=bool(mapping.bisect_batch_on_function_error),
        filter_patterns=json.dumps(list(mapping.filter_patterns)),
        function_response_types=json.dumps(list(mapping.function_response_types)),
        starting_position=mapping.starting_position.value if mapping.starting_position is not None else None,
    )
    return params


def mapping_from_row(row: Row) -> EventSourceMapping:
    values = {name: row[name] for name in MAPPING_COLUMNS}
    values.update(
        source_kind=SourceKind(row["source_kind"]),
        state=MappingState(row["state"]),
        enabled=bool(row["enabled"]),
        bisect_batch_on_function_error=bool(row["bisect_batch_on_function_error"]),
        filter_patterns=tuple(json.loads(row["filter_patterns"])),
        function_response_types=tuple(json.loads(row["function_response_types"])),
        starting_position=StartingPosition(row["starting_position"]) if row["starting_position"] else None,
    )
    return EventSourceMapping(**values)


def conflict(mapping: EventSourceMapping) -> ResourceConflict:
    return ResourceConflict(
        f"The event source arn ({mapping.source_arn}) and function ({mapping.function_name}) provided mapping "
        "already exists. Please update or delete the existing mapping."
    )


def not_found(uuid: str) -> ResourceNotFound:
    return ResourceNotFound(f"The resource you requested does not exist. (Service: Lambda, UUID: {uuid})")


class EventSourceMappingSqlStore(EventSourceMappingStore):
    """The event source mapping methods of ``Store`` for ``SqlStore``, which provides the transactions."""

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def create_event_source_mapping(self, mapping: EventSourceMapping) -> EventSourceMapping:
        with self._transaction(write=True) as tx:
            inserted = tx.execute(INSERT_MAPPING, mapping_params(mapping))
        if inserted != 1:
            raise conflict(mapping)
        return mapping

    def get_event_source_mapping(self, uuid: str) -> EventSourceMapping | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_MAPPING, {"uuid": uuid})
        return mapping_from_row(row) if row is not None else None

    def list_event_source_mappings(
        self, function_name: str | None, source_arn: str | None, marker: str | None, limit: int
    ) -> tuple[list[EventSourceMapping], str | None]:
        check_limit(limit)
        sql = list_mappings(function_name is not None, source_arn is not None, marker is not None)
        params = {"function_name": function_name, "source_arn": source_arn, "marker": marker, "limit": limit + 1}
        with self._transaction(write=False) as tx:
            found = tx.all(sql, {k: v for k, v in params.items() if v is not None})
        page = [mapping_from_row(row) for row in found[:limit]]
        return page, (page[-1].uuid if len(found) > limit else None)

    def update_event_source_mapping(self, mapping: EventSourceMapping) -> EventSourceMapping:
        """A change that would map the same (source, function, qualifier) twice (two nodes updating at once) breaks
        the unique index: reported as the conflict it is."""
        params = mapping_params(mapping)
        try:
            with self._transaction(write=True) as tx:
                changed = tx.execute(UPDATE_MAPPING, {c: params[c] for c in (*_UPDATED, "uuid")})
                row = tx.one(GET_MAPPING, {"uuid": mapping.uuid}) if changed == 1 else None
        except StorageError:
            same = {"function_name": mapping.function_name, "source_arn": mapping.source_arn, "limit": 1000}
            with self._transaction(write=False) as tx:
                taken = tx.all(list_mappings(True, True, False), same)
            if any(r["uuid"] != mapping.uuid and r["qualifier"] == mapping.qualifier for r in taken):
                raise conflict(mapping) from None
            raise
        if row is None:
            raise not_found(mapping.uuid)
        return mapping_from_row(row)

    def delete_event_source_mapping(self, uuid: str) -> bool:
        with self._transaction(write=True) as tx:
            tx.execute(DELETE_SLOTS, {"uuid": uuid})
            return tx.execute(DELETE_MAPPING, {"uuid": uuid}) > 0

    def acquire_mapping_slot(self, uuid: str, owner: str, limit: int, now: float, lease_s: float) -> int | None:
        with self._transaction(write=True) as tx:
            held = {int(row["slot"]) for row in tx.all(HELD_SLOTS, {"uuid": uuid, "now": now})}
            for slot in (n for n in range(limit) if n not in held):
                params = {"uuid": uuid, "slot": slot, "owner": owner, "expires": now + lease_s, "now": now}
                if tx.execute(TAKE_SLOT, params) == 1:
                    return slot
        return None

    def renew_mapping_slots(self, owner: str, now: float, lease_s: float) -> set[tuple[str, int]]:
        with self._transaction(write=True) as tx:
            found = tx.all(RENEW_SLOTS, {"owner": owner, "now": now, "expires": now + lease_s})
        return {(str(row["mapping_uuid"]), int(row["slot"])) for row in found}

    def release_mapping_slot(self, uuid: str, slot: int, owner: str) -> None:
        with self._transaction(write=True) as tx:
            tx.execute(RELEASE_SLOT, {"uuid": uuid, "slot": slot, "owner": owner})

    def set_processing_result(self, uuid: str, result: str, at: float) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(SET_PROCESSING_RESULT, {"uuid": uuid, "result": result, "at": at}) > 0
