"""The API of asynchronous settings: the AWS Lambda operations
``Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s)`` and ``Put/Get/Delete/ListProvisionedConcurrencyConfig(s)``
with botocore's paths and shapes, and lambdahost's own ``GET/PUT /lambdahost/v1/functions/{name}/lanes``
(``{"Lanes": [10, 2]}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import empty_response, json_body, json_response, max_items
from lambdahost.core.model import EventInvokeConfig

if TYPE_CHECKING:
    from lambdahost.server import Platform

EVENT_CONFIG = "/2019-09-25/functions/{name}/event-invoke-config"
PROVISIONED = "/2019-09-30/functions/{name}/provisioned-concurrency"
LANES = "/lambdahost/v1/functions/{name}/lanes"  # lambdahost's own: AWS has no lanes


def event_invoke_config_shape(config: EventInvokeConfig, function_arn: str) -> dict[str, Any]:
    destinations: dict[str, Any] = {}
    if config.on_success is not None:
        destinations["OnSuccess"] = {"Destination": config.on_success}
    if config.on_failure is not None:
        destinations["OnFailure"] = {"Destination": config.on_failure}
    shape: dict[str, Any] = {"LastModified": config.last_modified, "FunctionArn": function_arn}
    if config.maximum_retry_attempts is not None:
        shape["MaximumRetryAttempts"] = config.maximum_retry_attempts
    if config.maximum_event_age_s is not None:
        shape["MaximumEventAgeInSeconds"] = config.maximum_event_age_s
    shape["DestinationConfig"] = destinations
    return shape


def routes(platform: Platform) -> list[Route]:
    configs = platform.event_configs
    provisioning = platform.provisioning

    def shape(config: EventInvokeConfig) -> dict[str, Any]:
        return event_invoke_config_shape(config, configs.arn(config))

    async def put_event_config(request: Request) -> Response:
        body = await json_body(request)
        name, qualifier = request.path_params["name"], request.query_params.get("Qualifier")
        return json_response(shape(await run_in_threadpool(configs.put, name, qualifier, body)))

    async def update_event_config(request: Request) -> Response:
        body = await json_body(request)
        name, qualifier = request.path_params["name"], request.query_params.get("Qualifier")
        return json_response(shape(await run_in_threadpool(configs.update, name, qualifier, body)))

    async def get_event_config(request: Request) -> Response:
        name, qualifier = request.path_params["name"], request.query_params.get("Qualifier")
        return json_response(shape(await run_in_threadpool(configs.get, name, qualifier)))

    async def delete_event_config(request: Request) -> Response:
        name, qualifier = request.path_params["name"], request.query_params.get("Qualifier")
        await run_in_threadpool(configs.delete, name, qualifier)
        return empty_response(204)

    async def list_event_configs(request: Request) -> Response:
        page, marker = await run_in_threadpool(
            configs.list, request.path_params["name"], request.query_params.get("Marker"), max_items(request)
        )
        body: dict[str, Any] = {"FunctionEventInvokeConfigs": [shape(c) for c in page]}
        if marker:
            body["NextMarker"] = marker
        return json_response(body)

    async def put_provisioned(request: Request) -> Response:
        body = await json_body(request)
        name, qualifier = request.path_params["name"], request.query_params.get("Qualifier")
        config = await run_in_threadpool(provisioning.put, name, qualifier, body.get("ProvisionedConcurrentExecutions"))
        return json_response(provisioning.shape(config), 202)

    async def get_or_list_provisioned(request: Request) -> Response:
        name = request.path_params["name"]
        if request.query_params.get("List") == "ALL":
            page, marker = await run_in_threadpool(
                provisioning.list, name, request.query_params.get("Marker"), max_items(request)
            )
            listed: dict[str, Any] = {
                "ProvisionedConcurrencyConfigs": [provisioning.shape(c, with_arn=True) for c in page]
            }
            if marker:
                listed["NextMarker"] = marker
            return json_response(listed)
        config = await run_in_threadpool(provisioning.get, name, request.query_params.get("Qualifier"))
        return json_response(provisioning.shape(config))

    async def delete_provisioned(request: Request) -> Response:
        name, qualifier = request.path_params["name"], request.query_params.get("Qualifier")
        await run_in_threadpool(provisioning.delete, name, qualifier)
        return empty_response(204)

    functions = platform.functions

    def lanes_shape(name: str, lanes: tuple[int, ...] | None) -> dict[str, Any]:
        return {"FunctionName": name, "Lanes": list(lanes) if lanes else None}

    async def get_lanes(request: Request) -> Response:
        config = await run_in_threadpool(functions.get, request.path_params["name"])
        return json_response(lanes_shape(config.name, config.lanes))

    async def put_lanes(request: Request) -> Response:
        body = await json_body(request)
        config = await run_in_threadpool(functions.set_lanes, request.path_params["name"], body.get("Lanes"))
        return json_response(lanes_shape(config.name, config.lanes))

    return [
        Route(LANES, get_lanes, methods=["GET"]),
        Route(LANES, put_lanes, methods=["PUT"]),
        Route(EVENT_CONFIG, put_event_config, methods=["PUT"]),
        Route(EVENT_CONFIG, update_event_config, methods=["POST"]),
        Route(EVENT_CONFIG, get_event_config, methods=["GET"]),
        Route(EVENT_CONFIG, delete_event_config, methods=["DELETE"]),
        Route(EVENT_CONFIG + "/list", list_event_configs, methods=["GET"]),
        Route(PROVISIONED, put_provisioned, methods=["PUT"]),
        Route(PROVISIONED, get_or_list_provisioned, methods=["GET"]),
        Route(PROVISIONED, delete_provisioned, methods=["DELETE"]),
    ]
