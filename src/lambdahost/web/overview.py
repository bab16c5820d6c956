"""The overview page: exact queue depth per function and lane (by status), workers and whether they are alive,
environments alive per function, and the invocation counts since start: the numbers of ``GET
/lambdahost/v1/status`` (``engine/status.py``), read from the same metrics collection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.web.templating import render

if TYPE_CHECKING:
    from lambdahost.server import Platform

FLUSH_TIMEOUT_S = 1.0


def routes(platform: Platform) -> list[Route]:
    async def overview(request: Request) -> Response:
        await run_in_threadpool(platform.recorder.flush, FLUSH_TIMEOUT_S)
        status = await run_in_threadpool(platform.metrics.status)
        lanes: dict[tuple[str, int], dict[str, int]] = {}
        for row in status["queues"] or []:
            lanes.setdefault((row["function"], row["lane"]), {})[row["status"]] = row["count"]
        return render(
            request, "overview.html", status=status, lanes=sorted(lanes.items()), node=platform.invoker.worker_id
        )

    return [Route("/ui/overview", overview, methods=["GET"])]
