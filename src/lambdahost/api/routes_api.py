"""lambdahost's own API of HTTP routes (AWS has no single operation for them: API Gateway's are spread over APIs,
resources, methods and integrations): ``/lambdahost/v1/routes``.

- ``POST /lambdahost/v1/routes`` ``{"Method": "GET", "Path": "/items/{id}", "FunctionName": "f",
  "Qualifier"?: "$LATEST", "PayloadFormatVersion"?: "2.0"}`` (or ``"RouteKey": "GET /items/{id}"``): 201, the route.
- ``GET /lambdahost/v1/routes[?FunctionName=f]``: ``{"Routes": [...]}`` ordered by path and method.
- ``GET /lambdahost/v1/routes/{id}``: the route; ``DELETE``: 204.

A route's shape: ``{"RouteId", "RouteKey", "Method", "Path", "FunctionName", "FunctionArn", "Qualifier",
"PayloadFormatVersion", "CreatedAt" (epoch seconds), "Url"}`` (``Url``: the route's path on the routes listener,
whose address ``engine.function_urls.gateway_url`` gives).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import empty_response, json_body, json_response
from lambdahost.core.http_routes import HttpRoute
from lambdahost.engine.function_urls import gateway_url

if TYPE_CHECKING:
    from lambdahost.server import Platform

ROUTES = "/lambdahost/v1/routes"


def routes(platform: Platform) -> list[Route]:
    service = platform.http_routes
    functions = platform.functions
    settings = platform.settings

    def shape(route: HttpRoute, host: str | None) -> dict[str, Any]:
        return {
            "RouteId": route.id,
            "RouteKey": route.route_key,
            "Method": route.method,
            "Path": route.path,
            "FunctionName": route.function_name,
            "FunctionArn": functions.arn(route.function_name),
            "Qualifier": route.qualifier,
            "PayloadFormatVersion": route.payload_format,
            "CreatedAt": route.created_at,
            "Url": gateway_url(settings, host) + route.path,
        }

    async def create(request: Request) -> Response:
        body = await json_body(request)
        return json_response(shape(await run_in_threadpool(service.create, body), request.headers.get("host")), 201)

    async def list_routes(request: Request) -> Response:
        found = await run_in_threadpool(service.list, request.query_params.get("FunctionName"))
        return json_response({"Routes": [shape(r, request.headers.get("host")) for r in found]})

    async def get(request: Request) -> Response:
        route = await run_in_threadpool(service.get, request.path_params["id"])
        return json_response(shape(route, request.headers.get("host")))

    async def delete(request: Request) -> Response:
        await run_in_threadpool(service.delete, request.path_params["id"])
        return empty_response(204)

    return [
        Route(ROUTES, create, methods=["POST"]),
        Route(ROUTES, list_routes, methods=["GET"]),
        Route(ROUTES + "/{id}", get, methods=["GET"]),
        Route(ROUTES + "/{id}", delete, methods=["DELETE"]),
    ]
