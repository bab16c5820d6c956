"""``EventSourceMappings``: Create/Get/List/Update/DeleteEventSourceMapping, for the Lambda API, the CLI and the
pollers.

The settings are checked by ``core.event_source_mapping_rules``; here what needs the outside world: the function
(any of AWS's name forms; the qualifier from the name or ARN) must exist, the source must exist (one
``source_exists`` callable per ``SourceKind``: queues ask ``MessageQueues.exists``, streams the streams' check), a
stream's on-failure destination must be an existing queue, a queue must hide a received message at least as long
as the function may run (its visibility timeout at least the function's timeout, as AWS checks), and one source is
mapped to one function (and qualifier) once (``ResourceConflictException`` with the existing mapping's UUID).

The stored ``State`` is a resting one (``Enabled`` or ``Disabled``); the responses of Create, Update and Delete
carry the transitional state AWS reports at that moment (``Creating``, ``Enabling``/``Disabling``/``Updating``,
``Deleting``), since here a change applies at once: every poller re-reads the mappings within
``config_recheck_s`` (one in this process is told at once through ``on_change``).
"""

from __future__ import annotations

import builtins
import uuid as uuids
from collections.abc import Callable, Mapping
from typing import Any

from lambdahost.core import event_source_mapping_rules as rules
from lambdahost.core.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from lambdahost.core.event_source_mappings import EventSourceMapping, MappingState, SourceKind
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.model import LATEST
from lambdahost.core.names import parse_function_ref
from lambdahost.engine.functions import FunctionService
from lambdahost.storage.base import Store

MAX_LIST_ITEMS = 100  # a page of ListEventSourceMappings, whatever MaxItems asks


def not_found(uuid: str) -> ResourceNotFound:
    return ResourceNotFound(f"The resource you requested does not exist. (Service: Lambda, UUID: {uuid})")


class EventSourceMappings:
    def __init__(
        self,
        store: Store,
        functions: FunctionService,
        source_exists: Mapping[SourceKind, Callable[[str], bool]],
        clock: Clock = wall_clock,
        on_change: Callable[[], None] | None = None,
        queue_visibility_s: Callable[[str], int] | None = None,
    ) -> None:
        self.store = store
        self.functions = functions
        self.source_exists = dict(source_exists)
        self.region = functions.settings.region
        self.account = functions.settings.account_id
        self._clock = clock
        self.on_change = on_change
        self._queue_visibility_s = queue_visibility_s

    # -- names ---------------------------------------------------------------------------------------------------
    def arn(self, mapping: EventSourceMapping) -> str:
        """``EventSourceMappingArn``."""
        return f"arn:aws:lambda:{self.region}:{self.account}:event-source-mapping:{mapping.uuid}"

    def function_arn(self, mapping: EventSourceMapping) -> str:
        """``FunctionArn``: qualified unless the mapping is of ``$LATEST``."""
        qualifier = None if mapping.qualifier == LATEST else mapping.qualifier
        return self.functions.arn(mapping.function_name, qualifier)

    # -- the API -------------------------------------------------------------------------------------------------
    def create(self, request: dict[str, Any]) -> EventSourceMapping:
        """CreateEventSourceMapping; the mapping as stored (its ``state`` the resting one)."""
        source_arn = request.get("EventSourceArn")
        kind = rules.source_kind(source_arn)
        assert isinstance(source_arn, str)
        name, qualifier = self._function(request.get("FunctionName"))
        settings = rules.settings_from(request, kind, creating=True)
        self._check_source(kind, source_arn)
        now = self._clock()
        mapping = EventSourceMapping(
            uuid=str(uuids.uuid4()),
            function_name=name,
            qualifier=qualifier,
            source_arn=source_arn,
            source_kind=kind,
            last_modified=now,
            created_at=now,
            batch_size=rules.DEFAULT_BATCH_SIZE[kind],
        ).replace(**settings)
        mapping = rules.check_mapping(mapping.replace(state=self._resting(mapping.enabled)))
        self._check_destination(mapping)
        self._check_visibility(mapping)
        self._check_unmapped(mapping)
        self.store.create_event_source_mapping(mapping)
        self._changed()
        return mapping

    def get(self, uuid: str) -> EventSourceMapping:
        found = self.store.get_event_source_mapping(uuid)
        if found is None:
            raise not_found(uuid)
        return found

    def list(
        self, function_name: str | None, source_arn: str | None, marker: str | None, max_items: int | None
    ) -> tuple[list[EventSourceMapping], str | None]:
        """ListEventSourceMappings, filtered by function (any name form) and/or source."""
        limit = MAX_LIST_ITEMS if max_items is None else rules.bounded(max_items, "maxItems", 1, 10_000)
        name = parse_function_ref(function_name).name if function_name else None
        return self.store.list_event_source_mappings(
            name, source_arn or None, marker or None, min(limit, MAX_LIST_ITEMS)
        )

    def all(self) -> builtins.list[EventSourceMapping]:
        """Every mapping (for the pollers)."""
        found: builtins.list[EventSourceMapping] = []
        marker: str | None = None
        while True:
            page, marker = self.store.list_event_source_mappings(None, None, marker, 1000)
            found += page
            if marker is None:
                return found

    def update(self, uuid: str, request: dict[str, Any]) -> tuple[EventSourceMapping, MappingState]:
        """UpdateEventSourceMapping: the members present change, the others stay. Returns the mapping as stored
        and the state to report (``Enabling``, ``Disabling`` or ``Updating``)."""
        current = self.get(uuid)
        settings = rules.settings_from(request, current.source_kind, creating=False)
        if request.get("FunctionName") is not None:
            settings["function_name"], settings["qualifier"] = self._function(request["FunctionName"])
        changed = current.replace(last_modified=self._clock(), **settings)
        changed = rules.check_mapping(changed.replace(state=self._resting(changed.enabled)))
        if "on_failure_destination" in settings:
            self._check_destination(changed)
        if (changed.function_name, changed.qualifier) != (current.function_name, current.qualifier):
            self._check_visibility(changed)
            self._check_unmapped(changed)
        stored = self.store.update_event_source_mapping(changed)
        self._changed()
        if stored.enabled != current.enabled:
            return stored, MappingState.ENABLING if stored.enabled else MappingState.DISABLING
        return stored, MappingState.UPDATING

    def delete(self, uuid: str) -> EventSourceMapping:
        """DeleteEventSourceMapping; the mapping as it was (reported with state ``Deleting``)."""
        found = self.get(uuid)
        if not self.store.delete_event_source_mapping(uuid):
            raise not_found(uuid)
        self.store.delete_shard_leases(uuid)  # a stream mapping's progress goes with it
        self._changed()
        return found.replace(state=MappingState.DELETING)

    def set_enabled(self, uuid: str, enabled: bool) -> EventSourceMapping:
        return self.update(uuid, {"Enabled": enabled})[0]

    # -- helpers -------------------------------------------------------------------------------------------------
    @staticmethod
    def _resting(enabled: bool) -> MappingState:
        return MappingState.ENABLED if enabled else MappingState.DISABLED

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _function(self, function_name: Any) -> tuple[str, str]:
        if not isinstance(function_name, str) or not function_name:
            raise InvalidParameterValue("FunctionName is required.")
        ref = parse_function_ref(function_name)
        config = self.functions.get(ref.name, ref.qualifier)
        return config.name, ref.qualifier or LATEST

    def _check_source(self, kind: SourceKind, arn: str) -> None:
        exists = self.source_exists.get(kind)
        if exists is not None and exists(arn):
            return
        if kind is SourceKind.QUEUE:
            raise InvalidParameterValue(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
                "SQS Error Message: The specified queue does not exist or you do not have access to it."
            )
        raise InvalidParameterValue(f"Stream not found: {arn}")

    def _check_visibility(self, mapping: EventSourceMapping) -> None:
        """AWS's rule: a queue hides a received message at least as long as the function may run, or a message
        could be received again while its batch still runs."""
        if mapping.source_kind is not SourceKind.QUEUE or self._queue_visibility_s is None:
            return
        visibility_s = self._queue_visibility_s(mapping.source_arn)
        timeout_s = self.functions.get(mapping.function_name).timeout_s
        if visibility_s < timeout_s:
            raise InvalidParameterValue(
                f"Queue visibility timeout: {visibility_s} seconds is less than Function timeout: {timeout_s} seconds"
            )

    def _check_destination(self, mapping: EventSourceMapping) -> None:
        destination = mapping.on_failure_destination
        if destination is None:
            return
        exists = self.source_exists.get(SourceKind.QUEUE)
        if exists is None or not exists(destination):
            raise InvalidParameterValue(f"The destination ARN {destination} is invalid: no such queue.")

    def _check_unmapped(self, mapping: EventSourceMapping) -> None:
        page, _ = self.store.list_event_source_mappings(mapping.function_name, mapping.source_arn, None, 1000)
        for other in page:
            if other.qualifier == mapping.qualifier and other.uuid != mapping.uuid:
                function = mapping.function_name
                if mapping.source_kind is SourceKind.QUEUE:
                    message = (
                        f'An event source mapping with SQS arn (" {mapping.source_arn} ") and function '
                        f'(" {function} ") already exists.'
                    )
                else:
                    message = (
                        f'The event source arn (" {mapping.source_arn} ") and function (" {function} ") '
                        "provided mapping already exists."
                    )
                raise ResourceConflict(f"{message} Please update or delete the existing mapping with UUID {other.uuid}")
