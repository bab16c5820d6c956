"""Observability over HTTP: ``GET /metrics`` (Prometheus exposition) and ``GET /lambdahost/v1/status`` (JSON).

Both read one ``Metrics`` collection (``engine/metrics.py``), after the recorder has counted every synchronous
invocation answered before the request (a short ``flush``), so a scrape right after an invoke includes it.
``/metrics`` speaks the format the scraper asks for in ``Accept`` (Prometheus text 0.0.4 by default, OpenMetrics
when asked), as ``prometheus_client`` negotiates it. With credentials configured both need a SigV4 signature,
except that ``/metrics`` also accepts ``Authorization: Bearer <metrics token>`` when one is set (``auth.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client.exposition import choose_encoder
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import json_response

if TYPE_CHECKING:
    from lambdahost.server import Platform

PATH = "/metrics"
STATUS_PATH = "/lambdahost/v1/status"
FLUSH_TIMEOUT_S = 1.0  # a store that hangs must not hang the scrape: count what is counted by then


def routes(platform: Platform) -> list[Route]:
    metrics = platform.metrics

    async def scrape(request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        await run_in_threadpool(platform.recorder.flush, FLUSH_TIMEOUT_S)
        body = await run_in_threadpool(encoder, metrics.registry)
        return Response(body, media_type=content_type)

    async def status(request: Request) -> Response:
        await run_in_threadpool(platform.recorder.flush, FLUSH_TIMEOUT_S)
        numbers = await run_in_threadpool(metrics.status)
        return json_response({**numbers, "worker": platform.invoker.worker_id})

    return [Route(PATH, scrape, methods=["GET"]), Route(STATUS_PATH, status, methods=["GET"])]
