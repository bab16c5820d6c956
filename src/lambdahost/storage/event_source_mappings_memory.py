"""Event source mappings in memory: the fake's ``EventSourceMappingStore`` (mixed into ``InMemoryStore``), with the
same semantics as the SQL stores (uniqueness of uuid and of source + function + qualifier, uuid-ordered pages)."""

from __future__ import annotations

import threading

from lambdahost.core.event_source_mappings import EventSourceMapping
from lambdahost.storage.base import check_limit
from lambdahost.storage.event_source_mappings import EventSourceMappingStore
from lambdahost.storage.event_source_mappings_sql import conflict, not_found


class EventSourceMappingMemoryStore(EventSourceMappingStore):
    _esm_lock: threading.Lock
    _mappings: dict[str, EventSourceMapping]

    _slots: dict[tuple[str, int], tuple[str, float]]  # (uuid, slot) -> (owner, expires)

    def _init_event_source_mappings(self) -> None:
        self._esm_lock = threading.Lock()
        self._mappings = {}
        self._slots = {}

    def acquire_mapping_slot(self, uuid: str, owner: str, limit: int, now: float, lease_s: float) -> int | None:
        with self._esm_lock:
            for slot in range(limit):
                held = self._slots.get((uuid, slot))
                if held is None or held[1] <= now:
                    self._slots[(uuid, slot)] = (owner, now + lease_s)
                    return slot
        return None

    def renew_mapping_slots(self, owner: str, now: float, lease_s: float) -> set[tuple[str, int]]:
        with self._esm_lock:
            mine = {key for key, (holder, expires) in self._slots.items() if holder == owner and expires > now}
            self._slots.update((key, (owner, now + lease_s)) for key in mine)
        return mine

    def release_mapping_slot(self, uuid: str, slot: int, owner: str) -> None:
        with self._esm_lock:
            if self._slots.get((uuid, slot), ("", 0.0))[0] == owner:
                del self._slots[(uuid, slot)]

    def create_event_source_mapping(self, mapping: EventSourceMapping) -> EventSourceMapping:
        with self._esm_lock:
            key = (mapping.source_arn, mapping.function_name, mapping.qualifier)
            if mapping.uuid in self._mappings or any(
                (m.source_arn, m.function_name, m.qualifier) == key for m in self._mappings.values()
            ):
                raise conflict(mapping)
            self._mappings[mapping.uuid] = mapping
            return mapping

    def get_event_source_mapping(self, uuid: str) -> EventSourceMapping | None:
        return self._mappings.get(uuid)

    def list_event_source_mappings(
        self, function_name: str | None, source_arn: str | None, marker: str | None, limit: int
    ) -> tuple[list[EventSourceMapping], str | None]:
        check_limit(limit)
        with self._esm_lock:
            found = sorted(
                (
                    m
                    for m in self._mappings.values()
                    if (function_name is None or m.function_name == function_name)
                    and (source_arn is None or m.source_arn == source_arn)
                    and (marker is None or m.uuid > marker)
                ),
                key=lambda m: m.uuid,
            )
        page = found[:limit]
        return page, (page[-1].uuid if len(found) > limit else None)

    def update_event_source_mapping(self, mapping: EventSourceMapping) -> EventSourceMapping:
        with self._esm_lock:
            current = self._mappings.get(mapping.uuid)
            if current is None:
                raise not_found(mapping.uuid)
            key = (mapping.source_arn, mapping.function_name, mapping.qualifier)
            if any(
                (m.source_arn, m.function_name, m.qualifier) == key and u != mapping.uuid
                for u, m in self._mappings.items()
            ):
                raise conflict(mapping)
            stored = mapping.replace(
                created_at=current.created_at,
                last_processing_result=current.last_processing_result,
                last_processing_at=current.last_processing_at,
            )
            self._mappings[mapping.uuid] = stored
            return stored

    def delete_event_source_mapping(self, uuid: str) -> bool:
        with self._esm_lock:
            self._slots = {key: held for key, held in self._slots.items() if key[0] != uuid}
            return self._mappings.pop(uuid, None) is not None

    def set_processing_result(self, uuid: str, result: str, at: float) -> bool:
        with self._esm_lock:
            current = self._mappings.get(uuid)
            if current is None:
                return False
            self._mappings[uuid] = current.replace(last_processing_result=result, last_processing_at=at)
            return True
