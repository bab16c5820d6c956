"""Which Python runs what, on the node that answers (runtime/interpreters.py):

- ``GET /lambdahost/v1/runtimes``: ``{"Runtimes": [...]}``, one per supported runtime, in order: ``{"Runtime",
  "Available", "Python": {"Version", "Path", "Source"}}``; an unavailable one (accepted all the same) has
  ``"Available": false``, the platform's own interpreter as ``Python``, and the candidates that were tried and why
  they failed as ``"Rejected": [{"Path", "Reason"}]``.
- ``GET /lambdahost/v1/functions/{name}/runtime``: the function's ``{"FunctionName", "Runtime", "Available",
  "Python"}`` (with ``"Message"`` when its runtime is not on this machine).

The first request probes the interpreters (up to about a second), on a worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import json_response
from lambdahost.runtime.interpreters import Interpreter, Interpreters

if TYPE_CHECKING:
    from lambdahost.server import Platform

RUNTIMES = "/lambdahost/v1/runtimes"
FUNCTION_RUNTIME = "/lambdahost/v1/functions/{name}/runtime"


def python_shape(interpreter: Interpreter) -> dict[str, Any]:
    return {"Version": interpreter.version, "Path": interpreter.path, "Source": interpreter.source}


def fallback_message(runtime: str, interpreter: Interpreter) -> str:
    return f"{runtime} is not on this machine: it runs on the platform's own Python {interpreter.version}"


def runtimes_shape(interpreters: Interpreters) -> dict[str, Any]:
    """Every supported runtime and what runs it here (probes what was not probed yet)."""
    interpreters.available()
    shapes = []
    for runtime in interpreters.runtimes:
        interpreter = interpreters.for_runtime(runtime)
        shape: dict[str, Any] = {
            "Runtime": runtime,
            "Available": interpreter.runtime == runtime,
            "Python": python_shape(interpreter),
        }
        if interpreter.runtime != runtime:
            shape["Rejected"] = [{"Path": r.path, "Reason": r.reason} for r in interpreters.rejected(runtime)]
        shapes.append(shape)
    return {"Runtimes": shapes}


def function_runtime_shape(name: str, runtime: str, interpreter: Interpreter) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": runtime,
        "Available": interpreter.runtime == runtime,
        "Python": python_shape(interpreter),
    }
    if interpreter.runtime != runtime:
        shape["Message"] = fallback_message(runtime, interpreter)
    return shape


def routes(platform: Platform) -> list[Route]:
    functions = platform.functions

    async def runtimes(request: Request) -> Response:
        return json_response(await run_in_threadpool(runtimes_shape, functions.interpreters))

    def function_view(name: str) -> dict[str, Any]:
        config = functions.get(name)
        return function_runtime_shape(config.name, config.runtime, functions.runs_on(config.runtime))

    async def function_runtime(request: Request) -> Response:
        return json_response(await run_in_threadpool(function_view, request.path_params["name"]))

    return [
        Route(RUNTIMES, runtimes, methods=["GET"]),
        Route(FUNCTION_RUNTIME, function_runtime, methods=["GET"]),
    ]
