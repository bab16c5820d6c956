"""A function's page: its configuration, its triggers (``TriggerOverview.of``), charts of its last runs and of its
queue's depth per lane since the first of them, the run dialog and live log panel (``run.js``), and its invocation
history, paged with the store's ``before``/``before_id`` cursor (the created_at and id of the last row shown, so a
batch created in one instant pages exactly) and filtered by status. Every
read is one of the store's indexed, paged or capped queries, so the page costs the same with ten invocations or a
million."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.ids import wall_clock
from lambdahost.core.model import FunctionConfig, InvocationStatus
from lambdahost.core.queue_history import depth_series
from lambdahost.web import charts
from lambdahost.web.parameters_form import default_text
from lambdahost.web.templating import render

if TYPE_CHECKING:
    from lambdahost.server import Platform

HISTORY_PAGE = 50
CHART_RUNS = 100
MAX_CHART_RUNS = 1000
# At most this many finished and this many pending invocations are read for the queue chart; past that, the chart
# starts later (where the rows read still give the exact depth): see ``storage.queue_activity``.
QUEUE_CHART_ROWS = 2000


def status_filter(raw: str | None) -> InvocationStatus | None:
    if not raw:
        return None
    try:
        return InvocationStatus(raw)
    except ValueError:
        raise InvalidParameterValue(f"Unknown status {raw!r}.") from None


def cursor(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidParameterValue("before must be a number (the created_at of the last row shown).") from None


def lane_maxima(config: FunctionConfig) -> dict[int, int | None]:
    """Each lane of the function's queue with its maximum concurrency (one lane without its own when none are set)."""
    return dict(enumerate(config.lanes)) if config.lanes else {0: None}


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    def read(
        name: str, status: InvocationStatus | None, before: float | None, before_id: str | None, runs: int
    ) -> dict[str, Any]:
        config = platform.functions.get(name)
        history = store.list_invocations(config.name, status, HISTORY_PAGE + 1, before, before_id)
        more = len(history) > HISTORY_PAGE
        history = history[:HISTORY_PAGE]
        recent = store.list_invocations(config.name, None, runs)
        depth = store.queue_depth(config.name)
        now = wall_clock()
        maxima = lane_maxima(config)
        since = recent[-1].created_at if recent else now  # the first of the runs charted
        activity = store.queue_activity(config.name, list(maxima), since, QUEUE_CHART_ROWS)
        queue = depth_series(activity, maxima, now)
        return {
            "config": config,
            "arn": platform.functions.arn(config.name),
            "triggers": platform.triggers.of(config.name),
            "history": history,
            "next_before": (repr(history[-1].created_at), history[-1].id) if more and history else None,
            "charts": charts.for_runs(list(reversed(recent))) | {"queue": charts.queue_chart(queue, maxima)},
            "runs": len(recent),
            "depth": depth,
            "parameters": store.get_function_parameters(config.name),
            "runs_on": platform.functions.runs_on(config.runtime),
            "default_text": default_text,
        }

    async def page(request: Request) -> Response:
        status = status_filter(request.query_params.get("status"))
        before = cursor(request.query_params.get("before"))
        try:
            runs = min(max(int(request.query_params.get("runs", CHART_RUNS)), 1), MAX_CHART_RUNS)
        except ValueError:
            runs = CHART_RUNS
        await run_in_threadpool(platform.recorder.flush, 1.0)
        before_id = request.query_params.get("before_id") or None
        data = await run_in_threadpool(read, request.path_params["name"], status, before, before_id, runs)
        return render(
            request,
            "function.html",
            status_filter=status.value if status else "",
            statuses=[s.value for s in InvocationStatus],
            before=before,
            **data,
        )

    return [Route("/ui/functions/{name}", page, methods=["GET"])]
