"""The API of event source mappings: ``Create/List/Get/Update/DeleteEventSourceMapping`` with botocore's paths
(``/2015-03-31/event-source-mappings/`` with or without the trailing slash, and ``.../{UUID}``), status codes (202
for Create, Update and Delete) and ``EventSourceMappingConfiguration`` shape (``LastModified`` in epoch seconds)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import json_body, json_response, max_items
from lambdahost.core.event_source_mappings import EventSourceMapping, MappingState, SourceKind

if TYPE_CHECKING:
    from lambdahost.engine.event_source_mappings import EventSourceMappings
    from lambdahost.server import Platform

PATH = "/2015-03-31/event-source-mappings"


def mapping_shape(
    mapping: EventSourceMapping, service: EventSourceMappings, state: MappingState | None = None
) -> dict[str, Any]:
    """``EventSourceMappingConfiguration``: the members of the mapping's kind (a queue mapping has no
    ``StartingPosition``, a stream mapping no ``ScalingConfig``)."""
    shape: dict[str, Any] = {"UUID": mapping.uuid}
    if mapping.source_kind is SourceKind.STREAM and mapping.starting_position is not None:
        shape["StartingPosition"] = mapping.starting_position.value
        if mapping.starting_position_timestamp is not None:
            shape["StartingPositionTimestamp"] = mapping.starting_position_timestamp
    shape["BatchSize"] = mapping.batch_size
    shape["MaximumBatchingWindowInSeconds"] = mapping.maximum_batching_window_s
    if mapping.source_kind is SourceKind.STREAM:
        shape["ParallelizationFactor"] = mapping.parallelization_factor
    shape["EventSourceArn"] = mapping.source_arn
    if mapping.filter_patterns:
        shape["FilterCriteria"] = {"Filters": [{"Pattern": pattern} for pattern in mapping.filter_patterns]}
    shape["FunctionArn"] = service.function_arn(mapping)
    shape["LastModified"] = mapping.last_modified
    shape["LastProcessingResult"] = mapping.last_processing_result
    shape["State"] = (state or mapping.state).value
    shape["StateTransitionReason"] = mapping.state_transition_reason
    if mapping.source_kind is SourceKind.STREAM:
        on_failure = {"Destination": mapping.on_failure_destination} if mapping.on_failure_destination else {}
        shape["DestinationConfig"] = {"OnFailure": on_failure}
        shape["MaximumRecordAgeInSeconds"] = mapping.maximum_record_age_s
        shape["BisectBatchOnFunctionError"] = mapping.bisect_batch_on_function_error
        shape["MaximumRetryAttempts"] = mapping.maximum_retry_attempts
    shape["FunctionResponseTypes"] = list(mapping.function_response_types)
    if mapping.source_kind is SourceKind.QUEUE and mapping.maximum_concurrency is not None:
        shape["ScalingConfig"] = {"MaximumConcurrency": mapping.maximum_concurrency}
    shape["EventSourceMappingArn"] = service.arn(mapping)
    return shape


def routes(platform: Platform) -> list[Route]:
    service = platform.event_source_mappings

    async def create(request: Request) -> Response:
        body = await json_body(request)
        mapping = await run_in_threadpool(service.create, body)
        return json_response(mapping_shape(mapping, service, MappingState.CREATING), 202)

    async def list_mappings(request: Request) -> Response:
        query = request.query_params
        page, marker = await run_in_threadpool(
            service.list,
            query.get("FunctionName"),
            query.get("EventSourceArn"),
            query.get("Marker"),
            max_items(request),
        )
        body: dict[str, Any] = {"EventSourceMappings": [mapping_shape(m, service) for m in page]}
        if marker:
            body["NextMarker"] = marker
        return json_response(body)

    async def get(request: Request) -> Response:
        mapping = await run_in_threadpool(service.get, request.path_params["uuid"])
        return json_response(mapping_shape(mapping, service))

    async def update(request: Request) -> Response:
        body = await json_body(request)
        mapping, state = await run_in_threadpool(service.update, request.path_params["uuid"], body)
        return json_response(mapping_shape(mapping, service, state), 202)

    async def delete(request: Request) -> Response:
        mapping = await run_in_threadpool(service.delete, request.path_params["uuid"])
        return json_response(mapping_shape(mapping, service), 202)

    return [
        Route(PATH, create, methods=["POST"]),
        Route(PATH + "/", create, methods=["POST"]),
        Route(PATH, list_mappings, methods=["GET"]),
        Route(PATH + "/", list_mappings, methods=["GET"]),
        Route(PATH + "/{uuid}", get, methods=["GET"]),
        Route(PATH + "/{uuid}", update, methods=["PUT"]),
        Route(PATH + "/{uuid}", delete, methods=["DELETE"]),
    ]
