"""One invocation's page (the lifecycle timeline of its transitions, payload, result or error pretty-printed, its
log), its log as a download, and the list of a function's invocations running now (for the live log panel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lambdahost.core.artifacts import content_type, disposition
from lambdahost.core.errors import ResourceNotFound
from lambdahost.core.model import Invocation, InvocationStatus
from lambdahost.runtime.environment import EnvState
from lambdahost.web.templating import render

if TYPE_CHECKING:
    from lambdahost.server import Platform

RUNNING_LIMIT = 20


def timeline(invocation: Invocation) -> list[dict[str, Any]]:
    """Each transition with its offset from the first and the time spent until the next."""
    steps = invocation.transitions
    if not steps:
        return []
    start = steps[0].at
    return [
        {
            "status": step.status.value,
            "at": step.at,
            "offset_ms": (step.at - start) * 1000,
            "spent_ms": (steps[i + 1].at - step.at) * 1000 if i + 1 < len(steps) else None,
            "worker": step.worker,
        }
        for i, step in enumerate(steps)
    ]


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    async def find(invocation_id: str) -> Invocation:
        invocation = await run_in_threadpool(store.get_invocation, invocation_id)
        if invocation is None:
            await run_in_threadpool(platform.recorder.flush, 1.0)  # a synchronous run is recorded just after
            invocation = await run_in_threadpool(store.get_invocation, invocation_id)
        if invocation is None:
            raise ResourceNotFound(f"Invocation not found: {invocation_id}")
        return invocation

    async def page(request: Request) -> Response:
        invocation = await find(request.path_params["id"])
        artifacts = await run_in_threadpool(platform.artifacts.list, invocation.id)
        return render(request, "invocation.html", inv=invocation, timeline=timeline(invocation), artifacts=artifacts)

    async def artifact(request: Request) -> Response:
        info, data = await run_in_threadpool(
            platform.artifacts.read, request.path_params["id"], request.path_params["name"]
        )
        headers = {"Content-Disposition": disposition(info.name), "X-Content-Type-Options": "nosniff"}
        return Response(data, media_type=content_type(info.name), headers=headers)

    async def log(request: Request) -> Response:
        invocation = await find(request.path_params["id"])
        return Response(
            invocation.log,
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{invocation.id}.log"'},
        )

    def running(name: str) -> list[dict[str, Any]]:
        config = platform.functions.get(name)
        found: dict[str, dict[str, Any]] = {}
        for env in platform.pool.environments():
            if env.state is EnvState.BUSY and env.spec.function_name == config.name and env.request_id:
                found[env.request_id] = {"id": env.request_id, "status": "running", "here": True}
        for status in (InvocationStatus.RUNNING, InvocationStatus.READY, InvocationStatus.PENDING):
            for row in store.list_invocations(config.name, status, RUNNING_LIMIT):
                found.setdefault(row.id, {"id": row.id, "status": status.value, "here": False})
        return list(found.values())

    async def running_now(request: Request) -> Response:
        return JSONResponse({"running": await run_in_threadpool(running, request.path_params["name"])})

    return [
        Route("/ui/invocations/{id}", page, methods=["GET"]),
        Route("/ui/invocations/{id}/log", log, methods=["GET"]),
        Route("/ui/invocations/{id}/artifacts/{name:path}", artifact, methods=["GET"]),
        Route("/ui/functions/{name}/running", running_now, methods=["GET"]),
    ]
