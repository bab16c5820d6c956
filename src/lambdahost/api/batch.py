"""A batch of asynchronous invocations, ``POST /lambdahost/v1/functions/{name}/invocations`` (lambdahost's own
API), as a raw ASGI endpoint: ``app.py`` routes it before Starlette, like Invoke, since it is a hot path too.

Request: ``{"Payloads": [<any JSON value>, ...], "Lane": 0, "Qualifier": null}`` (``Lane`` and ``Qualifier``
optional; ``X-Lambdahost-Lane`` and ``?Qualifier=`` as on Invoke are accepted too, and must agree with the body
when both are given). Answer: 202 ``{"RequestIds": [...]}``, one per payload in order, once every invocation is
committed; nothing is queued when anything is wrong (errors in the AWS format, a bad payload named by its index).
Each payload is stored as its compact JSON (``core.batches.encode_payload``). ``X-Amzn-Trace-Id`` is carried
on to every invocation, as on Invoke (loop protection). Limits: ``core.batches``.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

from starlette.concurrency import run_in_threadpool

from lambdahost.api.invoke import Receive, Scope, Send, answered
from lambdahost.api.wire import new_request_id
from lambdahost.core.batches import MAX_BATCH_BYTES, check_count, encode_payload
from lambdahost.core.errors import InvalidParameterValue, InvalidRequestContent, RequestTooLarge
from lambdahost.engine.enqueue import Enqueuer

PATH = re.compile(r"^/lambdahost/v1/functions/([^/]+)/invocations/?$")
_KEYS = ("Payloads", "Lane", "Qualifier")
_T = TypeVar("_T")


class BatchInvokeEndpoint:
    def __init__(self, enqueuer: Enqueuer) -> None:
        self.enqueuer = enqueuer

    async def __call__(self, scope: Scope, receive: Receive, send: Send, raw_name: str) -> None:
        await answered(self._queue(scope, receive, send, unquote(raw_name)), scope, receive, send)

    async def _queue(self, scope: Scope, receive: Receive, send: Send, name: str) -> None:
        lane = trace = None
        for key, value in scope["headers"]:
            if key == b"x-lambdahost-lane":
                lane = value.decode("latin-1")
            elif key == b"x-amzn-trace-id":  # from boto3 inside a function: the chain of calls (loop protection)
                trace = unquote(value.decode("latin-1"))
        query = scope.get("query_string")
        qualifier = dict(parse_qsl(query.decode("latin-1"))).get("Qualifier") if query else None
        body = await _read_body(receive, MAX_BATCH_BYTES)
        ids = await run_in_threadpool(self._enqueue, name, body, lane, qualifier, trace)
        answer = json.dumps({"RequestIds": ids}, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"x-amzn-requestid", new_request_id().encode()),
            (b"content-length", str(len(answer)).encode()),
        ]
        await send({"type": "http.response.start", "status": 202, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _enqueue(
        self, name: str, body: bytes, header_lane: str | None, query_qualifier: str | None, trace: str | None
    ) -> list[str]:
        """Parse, encode and queue (on a worker thread: parsing megabytes would hold up the event loop)."""
        request = _request(body)
        payloads = request.get("Payloads")
        if not isinstance(payloads, list):
            raise InvalidParameterValue("Payloads must be a list of JSON values, one event per invocation.")
        check_count(len(payloads))
        lane = _given_once("Lane", _lane(request.get("Lane"), "Lane"), _lane(header_lane, "X-Lambdahost-Lane"))
        qualifier = request.get("Qualifier")
        if qualifier is not None and not isinstance(qualifier, str):
            raise InvalidParameterValue("Qualifier must be a string.")
        qualifier = _given_once("Qualifier", qualifier, query_qualifier)
        encoded = [encode_payload(payload) for payload in payloads]
        return self.enqueuer.enqueue_many(name, encoded, qualifier, lane or 0, trace)


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request body; ``RequestTooLarge`` as soon as it is longer than ``limit``."""
    parts: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            raise RequestTooLarge(f"Request must be smaller than {limit} bytes for a batch of invocations")
        parts.append(part)
        more = bool(message.get("more_body"))
    return b"".join(parts)


def _request(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body)
    except ValueError as exc:
        raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None
    if not isinstance(request, dict):
        raise InvalidRequestContent("Could not parse request body into json: expected a JSON object")
    unknown = sorted(key for key in request if key not in _KEYS)
    if unknown:
        raise InvalidParameterValue(f"Unknown key {unknown[0]!r}: a batch takes {', '.join(_KEYS)}.")
    return request


def _lane(value: object, where: str) -> int | None:
    """A lane number from the body (an int) or the header (its text); None when not given."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise InvalidParameterValue(f"{where} must be a lane number, not {value!r}.") from None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidParameterValue(f"{where} must be a lane number, not {json.dumps(value)}.")
    if value < 0:
        raise InvalidParameterValue(f"{where} must be 0 or more.")
    return value


def _given_once(key: str, in_body: _T | None, beside: _T | None) -> _T | None:
    if in_body is not None and beside is not None and in_body != beside:
        raise InvalidParameterValue(f"{key} is given twice with different values: {in_body!r} and {beside!r}.")
    return in_body if in_body is not None else beside
