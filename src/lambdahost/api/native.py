"""lambdahost's own REST API (under ``/lambdahost/v1``): invocation records, logs, code packages, health."""

from __future__ import annotations

import base64
import json
import math
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost import __version__
from lambdahost.api import shapes
from lambdahost.api.wire import json_response
from lambdahost.core.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from lambdahost.core.model import InvocationStatus

if TYPE_CHECKING:
    from lambdahost.server import Platform

N = "/lambdahost/v1"


def _number(request: Request, key: str, default: float | None) -> float | None:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InvalidParameterValue(f"{key} must be a number.") from None


def log_token(position: tuple[float, str]) -> str:
    """The opaque ``NextToken`` of a logs page: the (finished_at, id) key of its last invocation."""
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def parse_log_token(token: str) -> tuple[float, str]:
    """The key in a token made by ``log_token``; ``InvalidParameterValue`` for anything else."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        decoded = None
    match decoded:
        case [bool(), _]:
            pass
        case [float() | int() as finished_at, str() as invocation_id] if math.isfinite(finished_at):
            return float(finished_at), invocation_id
    raise InvalidParameterValue("next must be a NextToken returned by this API.")


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    async def health(request: Request) -> Response:
        return json_response(
            {
                "status": "ok",
                "version": __version__,
                "store": platform.settings.resolved_store_url().split(":", 1)[0],
                "environments": platform.pool.stats(),
            }
        )

    async def list_invocations(request: Request) -> Response:
        status_raw = request.query_params.get("status")
        try:
            status = InvocationStatus(status_raw) if status_raw else None
        except ValueError:
            raise InvalidParameterValue(
                f"Unknown status {status_raw!r}; one of {', '.join(s.value for s in InvocationStatus)}."
            ) from None
        limit = int(_number(request, "limit", 50) or 50)
        if not 1 <= limit <= 1000:
            raise InvalidParameterValue("limit must be between 1 and 1000.")
        await run_in_threadpool(platform.recorder.flush)
        rows = await run_in_threadpool(
            store.list_invocations,
            request.query_params.get("function"),
            status,
            limit,
            _number(request, "before", None),
            request.query_params.get("before_id") or None,
        )
        return json_response({"Invocations": [shapes.invocation_summary(r) for r in rows]})

    async def get_invocation(request: Request) -> Response:
        await run_in_threadpool(platform.recorder.flush)
        inv = await run_in_threadpool(store.get_invocation, request.path_params["id"])
        if inv is None:
            raise ResourceNotFound(f"Invocation not found: {request.path_params['id']}")
        return json_response(shapes.invocation_detail(inv))

    async def function_logs(request: Request) -> Response:
        """A page of finished invocations, ordered by (finished_at, id): the first from ``after`` (epoch seconds,
        finished at or after it; default: all), the next ones from the ``next`` token of the previous page.
        ``NextToken`` is always returned: a later request with it gets what was recorded after this page."""
        name = request.path_params["name"]
        token = request.query_params.get("next")
        if token is not None and "after" in request.query_params:
            raise InvalidParameterValue("Pass either after (the first page) or next (the pages after it), not both.")
        position = parse_log_token(token) if token is not None else (_number(request, "after", 0.0) or 0.0, "")
        limit = int(_number(request, "limit", 100) or 100)
        if not 1 <= limit <= 1000:
            raise InvalidParameterValue("limit must be between 1 and 1000.")
        await run_in_threadpool(platform.functions.get, name)
        await run_in_threadpool(platform.recorder.flush)
        rows = await run_in_threadpool(store.invocation_logs_after, name, position, limit)
        if rows:
            position = (rows[-1].finished_at or 0.0, rows[-1].id)
        return json_response(
            {
                "Events": [
                    {"id": r.id, "finished_at": r.finished_at, "status": r.status.value, "log": r.log} for r in rows
                ],
                "NextToken": log_token(position),
            }
        )

    async def cancel_invocation(request: Request) -> Response:
        invocation_id = request.path_params["id"]
        if not await run_in_threadpool(platform.worker.cancel, invocation_id):
            inv = await run_in_threadpool(store.get_invocation, invocation_id)
            if inv is None:
                raise ResourceNotFound(f"Invocation not found: {invocation_id}")
            raise ResourceConflict(f"Invocation {invocation_id} already finished: {inv.status.value}.")
        inv = await run_in_threadpool(store.get_invocation, invocation_id)
        assert inv is not None
        return json_response(shapes.invocation_detail(inv))

    async def queues(request: Request) -> Response:
        depth = await run_in_threadpool(store.queue_depth)
        return json_response(
            {
                "Queues": [
                    {"function": d.function_name, "lane": d.lane, "status": d.status.value, "count": d.count}
                    for d in depth
                ]
            }
        )

    async def package(request: Request) -> Response:
        sha = request.path_params["sha"]
        data = await run_in_threadpool(store.get_package_data, sha)
        if data is None:
            raise ResourceNotFound(f"Code package not found: {sha}")
        return Response(data, media_type="application/zip")

    return [
        Route("/health", health, methods=["GET"]),
        Route(N + "/invocations", list_invocations, methods=["GET"]),
        Route(N + "/invocations/{id}", get_invocation, methods=["GET"]),
        Route(N + "/invocations/{id}/cancel", cancel_invocation, methods=["POST"]),
        Route(N + "/queues", queues, methods=["GET"]),
        Route(N + "/functions/{name}/logs", function_logs, methods=["GET"]),
        Route(N + "/packages/{sha}.zip", package, methods=["GET"]),
    ]
