"""lambdahost's own API of function parameters and runs ([parameters.md](../../../docs/parameters.md)).

- ``PUT /lambdahost/v1/functions/{name}/parameters`` ``{"Parameters": [...]}``: replaces the declaration; 200
  with the stored ``{"Parameters": [...]}``. ``GET`` likewise. A parameter: ``{"Name", "Type", "Default"?,
  "Description", "Required"}``.
- ``POST /lambdahost/v1/functions/{name}/runs`` ``{"Parameters": {"k": v}, "Async": false}``: the event built from
  the defaults and the given values. Synchronous: 200 ``{"RequestId", "Status" (succeeded | failed |
  terminated), "FunctionError", "Payload" (the result or the error payload, as JSON), "LogResult" (base64 of the
  log's last 4 KB, as Invoke's)}``. Asynchronous: 202 ``{"RequestId", "Status": "pending"}``. A bad value is a
  400 ``InvalidParameterValueException`` naming the parameter; a missing secret 400 ``SecretNotFoundException``;
  in either case nothing ran and nothing was stored.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import json_body, json_response
from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.parameters import shape
from lambdahost.engine.invoker import InvokeResult
from lambdahost.runtime.spec import Outcome

if TYPE_CHECKING:
    from lambdahost.server import Platform

FUNCTION = "/lambdahost/v1/functions/{name}"


def run_status(result: InvokeResult) -> str:
    if result.outcome.outcome in (Outcome.TIMEOUT, Outcome.OUT_OF_MEMORY):
        return "terminated"
    return "failed" if result.function_error else "succeeded"


def result_shape(result: InvokeResult) -> dict[str, Any]:
    try:
        payload: Any = json.loads(result.payload) if result.payload else None
    except ValueError:
        payload = result.payload.decode("utf-8", "replace")
    return {
        "RequestId": result.request_id,
        "Status": run_status(result),
        "FunctionError": result.function_error,
        "Payload": payload,
        "LogResult": result.log_tail_b64,
    }


def routes(platform: Platform) -> list[Route]:
    service = platform.parameters

    async def put(request: Request) -> Response:
        body = await json_body(request)
        if "Parameters" not in body:
            raise InvalidParameterValue('Send {"Parameters": [...]}.')
        declared = await run_in_threadpool(service.declare, request.path_params["name"], body["Parameters"])
        return json_response({"Parameters": [shape(parameter) for parameter in declared]})

    async def get(request: Request) -> Response:
        declared = await run_in_threadpool(service.declared, request.path_params["name"])
        return json_response({"Parameters": [shape(parameter) for parameter in declared]})

    async def run(request: Request) -> Response:
        body = await json_body(request)
        unknown = sorted(set(body) - {"Parameters", "Async"})
        if unknown:
            raise InvalidParameterValue(f"Unknown member(s) of a run request: {', '.join(unknown)}.")
        is_async = body.get("Async", False)
        if not isinstance(is_async, bool):
            raise InvalidParameterValue("Async must be true or false.")
        name = request.path_params["name"]
        if is_async:
            request_id = await service.start(name, body.get("Parameters"))
            return json_response({"RequestId": request_id, "Status": "pending"}, 202)
        result = await service.run(name, body.get("Parameters"))
        return json_response(result_shape(result))

    return [
        Route(FUNCTION + "/parameters", get, methods=["GET"]),
        Route(FUNCTION + "/parameters", put, methods=["PUT"]),
        Route(FUNCTION + "/runs", run, methods=["POST"]),
    ]
