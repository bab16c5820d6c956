"""The live log panel's feed: ``GET /ui/invocations/{id}/events``, server-sent events that follow one invocation
until it finishes.

While the invocation runs in an environment of this process, the feed reads what the function has written so far
straight from the environment's log (``Environment.running_log``: the same file the platform reads at the end,
read without consuming it) every ``POLL_S``. An invocation that waits in the queue or runs on another worker
process is followed through its record (status changes); its log arrives whole when it finishes, with the final
event. Events (each ``data`` one JSON value): ``status`` (a status name), ``log`` (text written since the last
one), ``end`` (the finished record: status, result or error pretty-printed, the whole log)."""

from __future__ import annotations

import asyncio
import codecs
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from lambdahost.core.artifacts import ArtifactInfo
from lambdahost.core.lifecycle import ALLOWED
from lambdahost.core.model import Invocation
from lambdahost.runtime.environment import Environment, EnvState
from lambdahost.web.templating import pretty

if TYPE_CHECKING:
    from lambdahost.server import Platform

POLL_S = 0.2
UNKNOWN_GIVE_UP_S = 5.0  # an id neither running here nor stored by then (after a recorder flush) is reported unknown
MAX_FOLLOW_S = 3600.0


def sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def artifact_links(artifacts: list[ArtifactInfo]) -> list[dict[str, Any]]:
    """The files an invocation left, as the run dialog lists them (name, size, download address)."""
    return [
        {"name": a.name, "size": a.size, "url": f"/ui/invocations/{quote(a.invocation_id)}/artifacts/{quote(a.name)}"}
        for a in artifacts
    ]


def ending(invocation: Invocation, artifacts: list[ArtifactInfo] | None = None) -> dict[str, Any]:
    return {
        "id": invocation.id,
        "status": invocation.status.value,
        "function_error": invocation.function_error,
        "error_type": invocation.error_type,
        "error_message": invocation.error_message,
        "result": pretty(invocation.result),
        "log": invocation.log,
        "duration_ms": invocation.duration_ms,
        "artifacts": artifact_links(artifacts or []),
    }


def running_in(environments: list[Environment], invocation_id: str) -> Environment | None:
    for env in environments:
        if env.state is EnvState.BUSY and env.request_id == invocation_id:
            return env
    return None


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    async def follow(invocation_id: str) -> AsyncIterator[bytes]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        sent = 0
        last_status: str | None = None
        started = time.monotonic()
        yield b": following\n\n"
        while time.monotonic() - started < MAX_FOLLOW_S:
            env = running_in(platform.pool.environments(), invocation_id)
            data = env.running_log(invocation_id) if env is not None else None
            if data is not None:
                if last_status != "running":
                    last_status = "running"
                    yield sse("status", "running")
                if len(data) > sent:
                    yield sse("log", decoder.decode(data[sent:]))
                    sent = len(data)
            else:
                record = await run_in_threadpool(store.get_invocation, invocation_id)
                if record is None:
                    await run_in_threadpool(platform.recorder.flush, POLL_S)  # a synchronous run being stored
                    record = await run_in_threadpool(store.get_invocation, invocation_id)
                if record is not None and not ALLOWED[record.status]:
                    artifacts = await run_in_threadpool(platform.artifacts.list, record.id)
                    yield sse("end", ending(record, artifacts))
                    return
                if record is not None and record.status.value != last_status:
                    last_status = record.status.value
                    yield sse("status", last_status)
                if record is None and time.monotonic() - started > UNKNOWN_GIVE_UP_S:
                    yield sse("end", {"id": invocation_id, "status": "unknown", "log": "", "result": ""})
                    return
            await asyncio.sleep(POLL_S)

    async def events(request: Request) -> Response:
        return StreamingResponse(
            follow(request.path_params["id"]),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return [Route("/ui/invocations/{id}/events", events, methods=["GET"])]
