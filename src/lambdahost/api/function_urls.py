"""The function URL operations of the AWS Lambda API (``Create/Get/Update/Delete/ListFunctionUrlConfig(s)``) with
botocore's paths, status codes and shapes; the rules are ``engine/function_urls.py``'s."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import empty_response, json_body, json_response
from lambdahost.core.errors import ValidationError

if TYPE_CHECKING:
    from lambdahost.server import Platform

URL = "/2021-10-31/functions/{name}/url"
URLS = "/2021-10-31/functions/{name}/urls"


def _max_items(request: Request) -> int | None:
    raw = request.query_params.get("MaxItems")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(
            f"1 validation error detected: Value '{raw}' at 'maxItems' failed to satisfy constraint: Member must be "
            "an integer"
        ) from None


def routes(platform: Platform) -> list[Route]:
    urls = platform.function_urls

    def target(request: Request) -> tuple[str, str | None]:
        return request.path_params["name"], request.query_params.get("Qualifier")

    async def create(request: Request) -> Response:
        body = await json_body(request)
        config = await run_in_threadpool(urls.create, *target(request), body)
        return json_response(urls.shape(config, last_modified=False, request_host=request.headers.get("host")), 201)

    async def get(request: Request) -> Response:
        config = await run_in_threadpool(urls.get, *target(request))
        return json_response(urls.shape(config, request_host=request.headers.get("host")))

    async def update(request: Request) -> Response:
        body = await json_body(request)
        config = await run_in_threadpool(urls.update, *target(request), body)
        return json_response(urls.shape(config, request_host=request.headers.get("host")))

    async def delete(request: Request) -> Response:
        await run_in_threadpool(urls.delete, *target(request))
        return empty_response(204)

    async def list_configs(request: Request) -> Response:
        page, marker = await run_in_threadpool(
            urls.list, request.path_params["name"], request.query_params.get("Marker"), _max_items(request)
        )
        host = request.headers.get("host")
        body: dict[str, Any] = {"FunctionUrlConfigs": [urls.shape(c, request_host=host) for c in page]}
        if marker:
            body["NextMarker"] = marker
        return json_response(body)

    return [
        Route(URL, create, methods=["POST"]),
        Route(URL, get, methods=["GET"]),
        Route(URL, update, methods=["PUT"]),
        Route(URL, delete, methods=["DELETE"]),
        Route(URLS, list_configs, methods=["GET"]),
    ]
