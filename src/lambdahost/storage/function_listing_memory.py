"""The in-memory fake of ``FunctionListingStore`` (a mixin of ``InMemoryStore``), built on its other reads, with
the SQL store's answers."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from lambdahost.core.event_source_mappings import EventSourceMapping
from lambdahost.core.function_urls import FunctionUrlConfig
from lambdahost.core.http_routes import HttpRoute
from lambdahost.core.model import Invocation, InvocationStatus, ScheduleConfig
from lambdahost.storage.function_listing import checked_names


class FunctionListingMemoryStore(abc.ABC):
    @abc.abstractmethod
    def list_invocations(
        self,
        function_name: str | None = None,
        status: InvocationStatus | None = None,
        limit: int = 50,
        before: float | None = None,
        before_id: str | None = None,
    ) -> list[Invocation]: ...

    @abc.abstractmethod
    def schedules_of(self, function_name: str, limit: int) -> list[ScheduleConfig]: ...

    @abc.abstractmethod
    def list_event_source_mappings(
        self, function_name: str | None, source_arn: str | None, marker: str | None, limit: int
    ) -> tuple[list[EventSourceMapping], str | None]: ...

    @abc.abstractmethod
    def list_http_routes(self, function_name: str | None = None) -> list[HttpRoute]: ...

    @abc.abstractmethod
    def list_function_url_configs(self, function_name: str | None = None) -> list[FunctionUrlConfig]: ...

    def last_invocations(self, function_names: Sequence[str]) -> dict[str, Invocation]:
        found = {}
        for name in checked_names(function_names):
            newest = self.list_invocations(name, None, 1)
            if newest:
                found[name] = newest[0]
        return found

    def trigger_counts(self, function_names: Sequence[str]) -> dict[str, int]:
        counts = {}
        for name in checked_names(function_names):
            n = (
                len(self.schedules_of(name, 10_000))
                + len(self.list_event_source_mappings(name, None, None, 10_000)[0])
                + len(self.list_http_routes(name))
                + len(self.list_function_url_configs(name))
            )
            if n:
                counts[name] = n
        return counts
