"""The event source mapping operations of ``Client`` (the AWS Lambda API's Create/Get/List/Update/Delete
EventSourceMapping), as a mixin: ``Client`` provides ``_json``, one request with a JSON body and a JSON answer.
Requests and answers use AWS's member names (``FunctionName``, ``EventSourceArn``, ``BatchSize``, ...)."""

from __future__ import annotations

import abc
from typing import Any
from urllib.parse import quote

MAPPINGS = "/2015-03-31/event-source-mappings"


def _mapping(uuid: str) -> str:
    return f"{MAPPINGS}/{quote(uuid, safe='')}"


class EventSourceMappingClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    def create_event_source_mapping(self, function_name: str, source_arn: str, **settings: Any) -> dict[str, Any]:
        """CreateEventSourceMapping; ``settings`` are AWS's request members (``BatchSize=50``, ...)."""
        body = {"FunctionName": function_name, "EventSourceArn": source_arn, **settings}
        created: dict[str, Any] = self._json("POST", MAPPINGS, body)
        return created

    def get_event_source_mapping(self, uuid: str) -> dict[str, Any]:
        found: dict[str, Any] = self._json("GET", _mapping(uuid))
        return found

    def list_event_source_mappings(
        self, function_name: str | None = None, source_arn: str | None = None
    ) -> list[dict[str, Any]]:
        """Every mapping (following ``NextMarker``), of a function and/or a source when given."""
        query: dict[str, Any] = {}
        if function_name:
            query["FunctionName"] = function_name
        if source_arn:
            query["EventSourceArn"] = source_arn
        found: list[dict[str, Any]] = []
        while True:
            page = self._json("GET", MAPPINGS, query=query)
            found += page["EventSourceMappings"]
            if not page.get("NextMarker"):
                return found
            query["Marker"] = page["NextMarker"]

    def update_event_source_mapping(self, uuid: str, **settings: Any) -> dict[str, Any]:
        """UpdateEventSourceMapping: the members given change (``Enabled=False``, ``BatchSize=5``, ...)."""
        updated: dict[str, Any] = self._json("PUT", _mapping(uuid), settings)
        return updated

    def delete_event_source_mapping(self, uuid: str) -> dict[str, Any]:
        deleted: dict[str, Any] = self._json("DELETE", _mapping(uuid))
        return deleted
