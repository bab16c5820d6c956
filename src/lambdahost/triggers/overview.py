"""One view of everything that invokes a function: its schedules (next and last fire time), event source mappings
(state, last processing result, lag), HTTP routes and function URLs, read from the store, so any node shows what
every node does.

Lag: for a queue mapping, the queue's exact backlog (messages visible, in flight and delayed); for a stream
mapping, per shard the records put after the mapping's checkpoint and the iterator age (``StreamPoller.lag``),
with their sum and maximum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdahost.core.errors import LambdaHostError
from lambdahost.core.event_source_mappings import EventSourceMapping, SourceKind
from lambdahost.core.model import LATEST, ScheduleConfig
from lambdahost.engine.event_source_mappings import EventSourceMappings
from lambdahost.engine.function_urls import FunctionUrls
from lambdahost.engine.functions import FunctionService
from lambdahost.engine.http_routes import HttpRoutes
from lambdahost.engine.message_queues import MessageQueues
from lambdahost.engine.schedules import ScheduleService
from lambdahost.storage.base import Store
from lambdahost.triggers.stream_poller import ShardLag

MAX_SCHEDULES = 1000
MAX_MAPPINGS = 1000


class TriggerOverview:
    def __init__(
        self,
        store: Store,
        functions: FunctionService,
        schedules: ScheduleService,
        mappings: EventSourceMappings,
        queues: MessageQueues,
        stream_lag: Callable[[EventSourceMapping], list[ShardLag]],
        routes: HttpRoutes,
        urls: FunctionUrls,
        gateway_url: str,
    ) -> None:
        self.store = store
        self.functions = functions
        self.schedules = schedules
        self.mappings = mappings
        self.queues = queues
        self._stream_lag = stream_lag
        self.routes = routes
        self.urls = urls
        self.gateway_url = gateway_url.rstrip("/")

    def of(self, function_name: str) -> dict[str, Any]:
        """The triggers of ``function_name`` (any of Lambda's name forms; ``ResourceNotFoundException`` when it
        does not exist)."""
        config = self.functions.get(function_name)
        name = config.name
        mappings, _ = self.store.list_event_source_mappings(name, None, None, MAX_MAPPINGS)
        return {
            "FunctionName": name,
            "FunctionArn": self.functions.arn(name),
            "Schedules": [self._schedule(s) for s in self.store.schedules_of(name, MAX_SCHEDULES)],
            "EventSourceMappings": [self._mapping(m) for m in mappings],
            "Routes": [
                {
                    "RouteId": route.id,
                    "RouteKey": route.route_key,
                    "PayloadFormatVersion": route.payload_format,
                    "Qualifier": route.qualifier,
                    "Url": self.gateway_url + route.path,
                }
                for route in self.routes.list(name)
            ],
            "FunctionUrls": [
                {
                    "FunctionUrl": self.urls.url(url),
                    "Qualifier": None if url.qualifier == LATEST else url.qualifier,
                    "AuthType": url.auth_type,
                    "InvokeMode": url.invoke_mode,
                }
                for url in self.store.list_function_url_configs(name)
            ],
        }

    def _schedule(self, schedule: ScheduleConfig) -> dict[str, Any]:
        return {
            "Name": schedule.name,
            "Arn": self.schedules.arn(schedule.name),
            "ScheduleExpression": schedule.expression,
            "ScheduleExpressionTimezone": schedule.timezone,
            "State": "ENABLED" if schedule.enabled else "DISABLED",
            "NextFireTime": schedule.next_fire_at,
            "LastFireTime": schedule.last_fired_at,
        }

    def _mapping(self, mapping: EventSourceMapping) -> dict[str, Any]:
        return {
            "UUID": mapping.uuid,
            "EventSourceArn": mapping.source_arn,
            "Kind": str(mapping.source_kind),
            "State": str(mapping.state),
            "LastProcessingResult": mapping.last_processing_result,
            "BatchSize": mapping.batch_size,
            "Lag": self._lag(mapping),
        }

    def _lag(self, mapping: EventSourceMapping) -> dict[str, Any] | None:
        """None when the source is gone (a deleted queue or stream)."""
        try:
            if mapping.source_kind is SourceKind.QUEUE:
                counts = self.queues.counts(mapping.source_arn)
                return {"Visible": counts.visible, "InFlight": counts.in_flight, "Delayed": counts.delayed}
            shards = self._stream_lag(mapping)
        except LambdaHostError:
            return None
        ages = [s.iterator_age_s for s in shards if s.iterator_age_s is not None]
        return {
            "RecordsBehind": sum(s.records_behind for s in shards),
            "IteratorAgeSeconds": max(ages) if ages else None,
            "Shards": [
                {
                    "ShardId": s.shard_id,
                    "RecordsBehind": s.records_behind,
                    "IteratorAgeSeconds": s.iterator_age_s,
                    "Owner": s.owner,
                }
                for s in shards
            ],
        }
