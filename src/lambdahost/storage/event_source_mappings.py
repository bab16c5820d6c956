"""The storage port of event source mappings, which ``Store`` inherits.

Implemented once for SQL (``event_source_mappings_sql.EventSourceMappingSqlStore``, SQLite and PostgreSQL) and once
for the in-memory fake (``event_source_mappings_memory``); one contract suite
(``tests/integration/test_store_contract_event_source_mappings.py``) covers all three. Storage validates nothing but
identity: the engine (``engine.event_source_mappings``) applies AWS's rules before anything is stored.
"""

from __future__ import annotations

import abc

from lambdahost.core.event_source_mappings import EventSourceMapping


class EventSourceMappingStore(abc.ABC):
    """Durable event source mappings, one per (source ARN, function, qualifier), and the slots that cap a queue
    mapping's concurrent batches across nodes."""

    @abc.abstractmethod
    def acquire_mapping_slot(self, uuid: str, owner: str, limit: int, now: float, lease_s: float) -> int | None:
        """Lease the lowest slot ``0 .. limit - 1`` of mapping ``uuid`` that nobody holds (or whose lease expired) to
        ``owner`` until ``now + lease_s``; the slot, or None when all ``limit`` are held."""

    @abc.abstractmethod
    def renew_mapping_slots(self, owner: str, now: float, lease_s: float) -> set[tuple[str, int]]:
        """Extend every slot ``owner`` still holds to ``now + lease_s``; returns them as (mapping uuid, slot)."""

    @abc.abstractmethod
    def release_mapping_slot(self, uuid: str, slot: int, owner: str) -> None:
        """Give a slot back (nothing when ``owner`` no longer holds it)."""

    @abc.abstractmethod
    def create_event_source_mapping(self, mapping: EventSourceMapping) -> EventSourceMapping:
        """Insert; ``ResourceConflict`` (nothing stored) when the uuid is taken or a mapping of the same source,
        function and qualifier exists."""

    @abc.abstractmethod
    def get_event_source_mapping(self, uuid: str) -> EventSourceMapping | None: ...

    @abc.abstractmethod
    def list_event_source_mappings(
        self, function_name: str | None, source_arn: str | None, marker: str | None, limit: int
    ) -> tuple[list[EventSourceMapping], str | None]:
        """Mappings in uuid order after ``marker``, of ``function_name`` (any qualifier) and/or ``source_arn`` when
        given; returns (up to ``limit`` of them, the next marker or None)."""

    @abc.abstractmethod
    def update_event_source_mapping(self, mapping: EventSourceMapping) -> EventSourceMapping:
        """Replace every field of the stored mapping with its uuid but ``last_processing_result`` and
        ``last_processing_at`` (the pollers' to set); ``ResourceNotFound`` when absent. Returns it as stored."""

    @abc.abstractmethod
    def delete_event_source_mapping(self, uuid: str) -> bool:
        """Delete; True when it existed."""

    @abc.abstractmethod
    def set_processing_result(self, uuid: str, result: str, at: float) -> bool:
        """Set ``last_processing_result`` and ``last_processing_at`` (and nothing else); False when absent."""
