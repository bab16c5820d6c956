"""The run dialog's endpoint: ``POST /ui/functions/{name}/run`` with ``{"payload": "<JSON text>", "mode": "sync" |
"async"}``. A synchronous run answers with the result (or the error payload) and the log; an asynchronous one is
queued like any Event invoke and answers with its id, which the page then follows (``live.py``). A function with
declared parameters is run with ``{"parameters": {...}, "mode": ...}`` instead, through ``engine/parameters.py``
(``parameters_form.run_request``), with the same answers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lambdahost.core.artifacts import ArtifactInfo
from lambdahost.core.errors import InvalidRequestContent, LambdaHostError
from lambdahost.engine.invoker import InvokeResult
from lambdahost.runtime.spec import Outcome
from lambdahost.web.guard import same_origin
from lambdahost.web.live import artifact_links
from lambdahost.web.parameters_form import run_request
from lambdahost.web.templating import pretty, stack_trace

if TYPE_CHECKING:
    from lambdahost.server import Platform

ARTIFACTS_WAIT_S = 10.0  # the longest the dialog waits for a run's files to be stored (50 MB at most)
MAX_BODY = 7 * 1024 * 1024  # the largest synchronous payload (6 MB) as JSON text inside the request


def status_of(result: InvokeResult) -> str:
    if result.outcome.outcome in (Outcome.TIMEOUT, Outcome.OUT_OF_MEMORY):
        return "terminated"
    return "failed" if result.function_error else "succeeded"


def shown(result: InvokeResult, artifacts: list[ArtifactInfo]) -> dict[str, Any]:
    """What the dialog shows of a synchronous run."""
    return {
        "id": result.request_id,
        "mode": "sync",
        "status": status_of(result),
        "function_error": result.function_error,
        "result": pretty(result.payload),
        "stack_trace": stack_trace(result.payload) if result.function_error else "",
        "log": result.log,
        "artifacts": artifact_links(artifacts),
    }


async def request_payload(request: Request) -> tuple[bytes, str]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidRequestContent("The payload is too large.")
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequestContent("Could not parse request body into json: expected a JSON object")
    payload = body.get("payload", "{}")
    mode = body.get("mode", "sync")
    if not isinstance(payload, str) or mode not in ("sync", "async"):
        raise InvalidRequestContent('Send {"payload": "<JSON text>", "mode": "sync" | "async"}.')
    try:
        json.loads(payload or "null")
    except ValueError as exc:
        raise InvalidRequestContent(f"The payload is not valid JSON: {exc}") from None
    return payload.encode(), mode


def routes(platform: Platform) -> list[Route]:
    async def run(request: Request) -> Response:
        try:
            same_origin(request)
            name = request.path_params["name"]
            with_parameters = await run_request(request)
            if with_parameters is not None:  # the function declares parameters: the run service builds the event
                values, mode = with_parameters
                if mode == "async":
                    request_id = await platform.parameters.start(name, values)
                    return JSONResponse({"id": request_id, "mode": "async", "status": "pending"})
                result = await platform.parameters.run(name, values)
            else:
                payload, mode = await request_payload(request)
                if mode == "async":
                    invocation_id = await run_in_threadpool(platform.enqueuer.enqueue, name, payload)
                    return JSONResponse({"id": invocation_id, "mode": "async", "status": "pending"})
                result = await platform.invoker.invoke_async(name, payload)
            artifacts = []
            if result.outcome.artifacts is not None:  # stored by the recorder, off the invoke path: wait for it
                await run_in_threadpool(platform.recorder.flush, ARTIFACTS_WAIT_S)
                artifacts = await run_in_threadpool(platform.artifacts.list, result.request_id)
        except LambdaHostError as exc:
            return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)
        return JSONResponse(shown(result, artifacts))

    return [Route("/ui/functions/{name}/run", run, methods=["POST"])]
