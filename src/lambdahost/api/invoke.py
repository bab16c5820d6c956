"""The Invoke operation (``POST /2015-03-31/functions/{name}/invocations``) as a raw ASGI endpoint.

It is the platform's hot path, so it skips Starlette's routing, request object and middleware: ``app.py`` routes
the one path here before anything else and this module renders its own AWS-format errors (and the catch-all 500),
exactly as the Starlette application does for every other operation.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.concurrency import run_in_threadpool

from lambdahost.api.wire import error_response, new_request_id
from lambdahost.core.errors import InvalidParameterValue, LambdaHostError, ServiceError
from lambdahost.core.model import Invocation
from lambdahost.engine.enqueue import Enqueuer
from lambdahost.engine.invoker import Invoker

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
ASYNC_PATH = re.compile(r"^/2014-11-13/functions/([^/]+)/invoke-async/?$")
_INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
_JSON = (b"content-type", b"application/json")

log = logging.getLogger(__name__)


async def read_body(receive: Receive) -> bytes:
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        return bytes(body)
    parts = [body]
    while message.get("more_body"):
        message = await receive()
        parts.append(message.get("body", b""))
    return b"".join(parts)


async def answered(work: Awaitable[None], scope: Scope, receive: Receive, send: Send) -> None:
    """Run an endpoint's work; a ``LambdaHostError`` becomes its AWS error response, anything else a 500
    ``ServiceException`` (the raw endpoints' counterpart of the Starlette application's handlers)."""
    try:
        await work
    except LambdaHostError as exc:
        await error_response(exc)(scope, receive, send)
    except Exception as exc:
        log.exception("unhandled error", extra={"action": "http_500", "path": scope.get("path")})
        await error_response(ServiceError(f"Internal error: {type(exc).__name__}"))(scope, receive, send)


def _lane(raw: bytes) -> int:
    try:
        lane = int(raw)
    except ValueError:
        raise InvalidParameterValue(
            f"X-Lambdahost-Lane must be a lane number, not {raw.decode('latin-1')!r}."
        ) from None
    if lane < 0:
        raise InvalidParameterValue("X-Lambdahost-Lane must be 0 or more.")
    return lane


class InvokeEndpoint:
    def __init__(self, invoker: Invoker, queuer: Queuer) -> None:
        self.invoker = invoker
        self.queue = queuer

    async def __call__(self, scope: Scope, receive: Receive, send: Send, raw_name: str) -> None:
        await answered(self._invoke(scope, receive, send, unquote(raw_name)), scope, receive, send)

    async def _invoke(self, scope: Scope, receive: Receive, send: Send, name: str) -> None:
        qualifier = None
        query = scope.get("query_string")
        if query:
            qualifier = dict(parse_qsl(query.decode("latin-1"))).get("Qualifier")
        invocation_type = "RequestResponse"
        log_type = client_context = None
        lane = 0
        trace = None
        for key, value in scope["headers"]:
            if key.startswith(b"x-amz-"):
                if key == b"x-amz-invocation-type":
                    invocation_type = value.decode("latin-1")
                elif key == b"x-amz-log-type":
                    log_type = value.decode("latin-1")
                elif key == b"x-amz-client-context":
                    client_context = value.decode("latin-1")
            elif key == b"x-lambdahost-lane":
                lane = _lane(value)
            elif key == b"x-amzn-trace-id":  # from boto3 inside a function: the chain of calls (loop protection)
                trace = unquote(value.decode("latin-1"))
        if invocation_type not in _INVOCATION_TYPES:
            raise InvalidParameterValue(
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )
        payload = await read_body(receive)
        if invocation_type == "DryRun":
            config = await run_in_threadpool(self.invoker.dry_run, name, qualifier)
            await _respond(send, 204, b"", [(b"x-amzn-requestid", new_request_id().encode()), _version(config.version)])
            return
        if invocation_type == "Event":
            request_id = await self.queue(name, payload, qualifier, lane, False, trace)
            await _respond(send, 202, b"", [(b"x-amzn-requestid", request_id.encode())])
            return
        result = await self.invoker.invoke_async(name, payload, qualifier, client_context, None, trace)
        headers = [_JSON, (b"x-amzn-requestid", result.request_id.encode()), _version(result.executed_version)]
        if result.function_error:
            headers.append((b"x-amz-function-error", result.function_error.encode()))
        if log_type == "Tail":
            headers.append((b"x-amz-log-result", result.log_tail_b64.encode()))
        await _respond(send, 200, result.payload, headers)


class InvokeAsyncEndpoint:
    """The deprecated ``InvokeAsync`` operation: queue the body as the event; 202 ``{"Status": 202}``."""

    def __init__(self, queuer: Queuer) -> None:
        self.queue = queuer

    async def __call__(self, scope: Scope, receive: Receive, send: Send, raw_name: str) -> None:
        await answered(self._queue(receive, send, unquote(raw_name)), scope, receive, send)

    async def _queue(self, receive: Receive, send: Send, name: str) -> None:
        payload = await read_body(receive)
        request_id = await self.queue(name, payload, None, 0, True)
        await _respond(send, 202, b'{"Status": 202}', [_JSON, (b"x-amzn-requestid", request_id.encode())])


class Queuer:
    """Queues the Event invokes of the raw endpoints. SQLite (``Store.local_writes``): each is committed on the
    event loop itself (a thread hop would cost more than the commit). Otherwise (PostgreSQL), group commit: the
    invokes that arrive while a commit is under way wait for the next one, which stores them all in one
    transaction on a thread (one round trip of BEGIN/INSERTs/NOTIFY/COMMIT for many 202s). Each request is checked
    on its own first, so a bad one fails alone; a 202 is sent only after its own commit."""

    def __init__(self, enqueuer: Enqueuer) -> None:
        self.enqueuer = enqueuer
        self._waiting: list[tuple[Invocation, asyncio.Future[None]]] = []
        self._committing = False
        self._committer: asyncio.Task[None] | None = None  # kept referenced while it runs

    async def __call__(
        self,
        name: str,
        payload: bytes,
        qualifier: str | None,
        lane: int,
        legacy: bool,
        trace: str | None = None,
    ) -> str:
        enqueuer = self.enqueuer
        if enqueuer.store.local_writes:
            return enqueuer.enqueue(name, payload, qualifier, lane, legacy, trace)
        invocation = enqueuer.prepare(name, payload, qualifier, lane, legacy, trace)
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()
        self._waiting.append((invocation, committed))
        if not self._committing:
            self._committing = True
            self._committer = loop.create_task(self._commit_waiting())
        await committed
        return invocation.id

    async def _commit_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await run_in_threadpool(self.enqueuer.commit, [invocation for invocation, _ in batch])
                except Exception as exc:  # nothing of the batch is stored: each request answers the error
                    for _, committed in batch:
                        if not committed.done():
                            committed.set_exception(exc)
                else:
                    for _, committed in batch:
                        if not committed.done():
                            committed.set_result(None)
        finally:
            self._committing = False


def _version(version: str) -> tuple[bytes, bytes]:
    return (b"x-amz-executed-version", version.encode())


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
