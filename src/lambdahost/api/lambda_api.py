"""The AWS Lambda API (rest-json), route for route as botocore's model names them (Invoke, the hot path, is the
raw ASGI endpoint in ``invoke.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api import shapes
from lambdahost.api.wire import empty_response, json_body, json_response
from lambdahost.core.errors import InvalidParameterValue

if TYPE_CHECKING:
    from lambdahost.server import Platform

F = "/2015-03-31/functions"


def routes(platform: Platform) -> list[Route]:
    functions = platform.functions

    def configuration(config: object) -> dict[str, object]:
        from lambdahost.core.model import FunctionConfig

        assert isinstance(config, FunctionConfig)
        return shapes.function_configuration(config, functions.arn(config.name))

    async def create_function(request: Request) -> Response:
        body = await json_body(request)
        config = await run_in_threadpool(functions.create, body)
        return json_response(configuration(config), 201)

    async def list_functions(request: Request) -> Response:
        query = request.query_params
        max_items = query.get("MaxItems")
        try:
            limit = int(max_items) if max_items is not None else None
        except ValueError:
            raise InvalidParameterValue("MaxItems must be an integer.") from None
        page, marker = await run_in_threadpool(functions.list, query.get("Marker"), limit)
        body: dict[str, object] = {"Functions": [configuration(c) for c in page]}
        if marker:
            body["NextMarker"] = marker
        return json_response(body)

    async def get_function(request: Request) -> Response:
        name = request.path_params["name"]
        config = await run_in_threadpool(functions.get, name, request.query_params.get("Qualifier"))
        location = f"{str(request.base_url).rstrip('/')}/lambdahost/v1/packages/{config.code_sha256_hex}.zip"
        return json_response(shapes.get_function(config, functions.arn(config.name), location))

    async def get_configuration(request: Request) -> Response:
        config = await run_in_threadpool(
            functions.get, request.path_params["name"], request.query_params.get("Qualifier")
        )
        return json_response(configuration(config))

    async def update_code(request: Request) -> Response:
        body = await json_body(request)
        config = await run_in_threadpool(functions.update_code, request.path_params["name"], body)
        return json_response(configuration(config))

    async def update_configuration(request: Request) -> Response:
        body = await json_body(request)
        config = await run_in_threadpool(functions.update_configuration, request.path_params["name"], body)
        return json_response(configuration(config))

    async def delete_function(request: Request) -> Response:
        await run_in_threadpool(functions.delete, request.path_params["name"], request.query_params.get("Qualifier"))
        return empty_response(204)

    async def put_concurrency(request: Request) -> Response:
        body = await json_body(request)
        config = await run_in_threadpool(
            functions.put_concurrency, request.path_params["name"], body.get("ReservedConcurrentExecutions")
        )
        return json_response({"ReservedConcurrentExecutions": config.reserved_concurrency})

    async def get_concurrency(request: Request) -> Response:
        config = await run_in_threadpool(functions.get, request.path_params["name"])
        if config.reserved_concurrency is None:
            return json_response({})
        return json_response({"ReservedConcurrentExecutions": config.reserved_concurrency})

    async def delete_concurrency(request: Request) -> Response:
        await run_in_threadpool(functions.delete_concurrency, request.path_params["name"])
        return empty_response(204)

    async def account_settings(request: Request) -> Response:
        return json_response(await run_in_threadpool(functions.account_settings))

    return [
        Route(F, create_function, methods=["POST"]),
        Route(F + "/", create_function, methods=["POST"]),
        Route(F, list_functions, methods=["GET"]),
        Route(F + "/", list_functions, methods=["GET"]),
        Route(F + "/{name}", get_function, methods=["GET"]),
        Route(F + "/{name}", delete_function, methods=["DELETE"]),
        Route(F + "/{name}/configuration", get_configuration, methods=["GET"]),
        Route(F + "/{name}/configuration", update_configuration, methods=["PUT"]),
        Route(F + "/{name}/code", update_code, methods=["PUT"]),
        Route("/2017-10-31/functions/{name}/concurrency", put_concurrency, methods=["PUT"]),
        Route("/2017-10-31/functions/{name}/concurrency", delete_concurrency, methods=["DELETE"]),
        Route("/2019-09-30/functions/{name}/concurrency", get_concurrency, methods=["GET"]),
        Route("/2016-08-19/account-settings", account_settings, methods=["GET"]),
        Route("/2016-08-19/account-settings/", account_settings, methods=["GET"]),
    ]
