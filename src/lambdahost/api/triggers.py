"""lambdahost's view of a function's triggers: ``GET /lambdahost/v1/functions/{name}/triggers`` (schedules, event
source mappings with their state, last processing result and lag, HTTP routes, function URLs; see
``triggers/overview.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import json_response

if TYPE_CHECKING:
    from lambdahost.server import Platform

PATH = "/lambdahost/v1/functions/{name}/triggers"


def routes(platform: Platform) -> list[Route]:
    async def triggers(request: Request) -> Response:
        return json_response(await run_in_threadpool(platform.triggers.of, request.path_params["name"]))

    return [Route(PATH, triggers, methods=["GET"])]
