"""The gateway: HTTP routes and function URLs, served on their own listener (``lambdahost serve --routes-listen``),
so any path can be routed without clashing with the platform's API.

A raw ASGI application (no Starlette: bodies are bytes both ways and headers repeat). Per request:

1. A function URL, by ``Host: <url-id>.lambda-url.<region>.localhost[:port]`` (any host whose first labels are
   ``<url-id>.lambda-url.``) with the whole path, or by the path prefix ``/lambda-url/<url-id>`` with the rest of the
   path (``/`` when nothing follows) as ``rawPath``. Its config decides: with ``Cors``, a preflight is answered here
   (unsigned, as browsers send it) and the CORS headers of other answers are the config's (``core.function_urls``);
   ``AWS_IAM`` needs a valid SigV4 signature (service ``lambda``) from one of the platform's key pairs, else 403
   ``{"Message":"Forbidden"}`` (always so when the platform has no credentials). The event is the function URL one
   (format 2.0).
2. Otherwise the route table (``engine.http_routes``, ``core.http_routes``) picks the route; its payload format
   decides the event (1.0: REST API proxy; 2.0: HTTP API) and how the result is read back.
3. The function runs synchronously through ``Invoker.invoke_async`` on the server's event loop (the same path as
   the Lambda API's Invoke: the request waits on the environment's socket, no thread is held, so concurrent
   requests run concurrently up to the platform's concurrency), with the request id as the invocation id (so
   ``lambdahost logs`` finds it; it is also the ``x-amzn-RequestId`` response header).

API Gateway's answers where the function gives none: 404 ``{"message":"Not Found"}`` (no route, no such URL),
413 ``{"message":"Request Entity Too Large"}`` (a body over 6 MB, or an event over Invoke's 6 MB),
429 ``{"message":"Too Many Requests"}`` (throttled; with ``Retry-After``), 502
``{"message": "Internal server error"}`` (a function error, a timeout, a response over 6 MB, a malformed result),
500 ``{"message":"Internal Server Error"}`` (the platform could not run the function).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from lambdahost.api.auth import http_request
from lambdahost.api.invoke import Receive, Scope, Send
from lambdahost.core import function_urls as urls
from lambdahost.core.errors import AccessDenied, LambdaHostError, RequestTooLarge, TooManyRequests
from lambdahost.core.function_urls import FunctionUrlConfig
from lambdahost.core.http_events import (
    Headers,
    HttpRequest,
    Response,
    error_response,
    function_url_event,
    http_v2_event,
    rest_v1_event,
    v1_response,
    v2_response,
)
from lambdahost.core.http_routes import RouteMatch
from lambdahost.core.ids import new_request_id
from lambdahost.engine.function_urls import PATH_PREFIX, host_without_port
from lambdahost.engine.invoker import MAX_SYNC_PAYLOAD

if TYPE_CHECKING:
    from lambdahost.server import Platform

log = logging.getLogger(__name__)

MAX_BODY = MAX_SYNC_PAYLOAD
_JSON = ("content-type", "application/json")
NOT_FOUND: Response = 404, [_JSON], b'{"message":"Not Found"}'
TOO_LARGE: Response = 413, [_JSON], b'{"message":"Request Entity Too Large"}'
THROTTLED: Response = 429, [_JSON, ("retry-after", "1")], b'{"message":"Too Many Requests"}'
FORBIDDEN: Response = 403, [_JSON], b'{"Message":"Forbidden"}'
PLATFORM_ERROR: Response = 500, [_JSON], b'{"message":"Internal Server Error"}'
_SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_BAD_HEADER_RE = re.compile(r"[\r\n\x00]")
_URL_HOST_RE = re.compile(r"^([a-z0-9]{32})\.lambda-url\.", re.IGNORECASE)
_URL_PATH_RE = re.compile(r"^/lambda-url/([a-z0-9]{32})(/.*)?$")


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    """The client disconnected before its request body arrived."""


def function_url_target(host: str | None, raw_path: str) -> tuple[str, str] | None:
    """``(url_id, rawPath)`` when the request is for a function URL (by host or by path prefix)."""
    if host:
        match = _URL_HOST_RE.match(host)
        if match is not None:
            return match.group(1).lower(), raw_path
    if raw_path.startswith(PATH_PREFIX):
        match = _URL_PATH_RE.match(raw_path)
        if match is not None:
            return match.group(1), match.group(2) or "/"
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body; ``_TooLarge`` past ``limit`` bytes (by ``Content-Length`` before reading)."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _encoded(headers: Headers) -> list[tuple[bytes, bytes]]:
    """Headers as bytes, without those the server sets itself; ``ValueError`` for one HTTP cannot carry (not
    Latin-1, or a line break that would split the response)."""
    raw = []
    for name, value in headers:
        if name.lower() in _SERVER_HEADERS:
            continue
        if _BAD_HEADER_RE.search(name) or _BAD_HEADER_RE.search(value):
            raise ValueError(f"header {name!r}")
        raw.append((name.encode("latin-1"), value.encode("latin-1")))
    return raw


async def send_response(send: Send, response: Response, request_id: str | None = None, head: bool = False) -> None:
    status, headers, body = response
    try:
        raw = _encoded(headers)
    except ValueError:  # UnicodeEncodeError included: a header the function set that HTTP cannot carry
        status, headers, body = error_response()
        raw = _encoded(headers)
    if status in (204, 304):  # no body, whatever the function said
        body = b""
    else:
        raw.append((b"content-length", str(len(body)).encode()))
    if request_id:
        raw.append((b"x-amzn-requestid", request_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})


class Gateway:
    """The ASGI application of the routes listener."""

    def __init__(self, platform: Platform) -> None:
        self.invoker = platform.invoker
        self.routes = platform.http_routes
        self.urls = platform.function_urls
        self.verifier = platform.verifier
        self.account_id = platform.settings.account_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        head = scope["method"] == "HEAD"
        try:
            request_id, response = await self._answer(scope, receive)
        except _Gone:
            return
        except _TooLarge:
            request_id, response = None, TOO_LARGE
        except Exception:
            log.exception("unhandled error", extra={"action": "gateway_500", "path": scope.get("path")})
            request_id, response = None, PLATFORM_ERROR
        await send_response(send, response, request_id, head)

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[str | None, Response]:
        raw_path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        raw_path = raw_path.split("?", 1)[0]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k == "host"), None)
        target = function_url_target(host, raw_path)
        if target is not None:
            return await self._function_url(scope, receive, headers, host, *target)
        table = self.routes.table() if not self.routes.stale() else await run_in_threadpool(self.routes.reload)
        match = table.match(scope["method"], raw_path)
        if match is None:
            return None, NOT_FOUND
        body = await read_body(scope, receive, MAX_BODY)
        request = self._request(scope, headers, host, raw_path, body, "lambdahost")
        return request.request_id, await self._route(request, match)

    def _request(
        self, scope: Scope, headers: Headers, host: str | None, raw_path: str, body: bytes, api_id: str
    ) -> HttpRequest:
        client = scope.get("client")
        return HttpRequest(
            method=scope["method"],
            raw_path=raw_path,
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
            source_ip=client[0] if client else "127.0.0.1",
            time_epoch=time.time(),
            request_id=new_request_id(),
            domain_name=host_without_port(host),
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            account_id=self.account_id,
            api_id=api_id,
        )

    async def _route(self, request: HttpRequest, match: RouteMatch) -> Response:
        route = match.route
        if route.payload_format == "1.0":
            event = rest_v1_event(request, match.resource, match.path_parameters, stage="$default")
        else:
            event = http_v2_event(request, route.route_key, match.path_parameters)
        result = await self._invoke(route.function_name, event, request.request_id)
        if isinstance(result, tuple):
            return result
        return v1_response(result) if route.payload_format == "1.0" else v2_response(result)

    async def _function_url(
        self, scope: Scope, receive: Receive, headers: Headers, host: str | None, url_id: str, raw_path: str
    ) -> tuple[str | None, Response]:
        fresh, config = self.urls.cached(url_id)
        if not fresh:
            config = await run_in_threadpool(self.urls.by_url_id, url_id)
        if config is None:
            return None, NOT_FOUND
        origin = next((v for k, v in headers if k == "origin"), None)
        cors = config.cors
        if cors is not None and urls.is_preflight(scope["method"], headers):  # browsers do not sign a preflight
            return None, (200, urls.preflight_headers(cors, origin), b"")
        pending = None
        if config.auth_type == "AWS_IAM":
            if self.verifier is None:
                return None, FORBIDDEN
            try:
                pending = self.verifier.check(http_request(scope))
            except AccessDenied:
                return None, FORBIDDEN
        body = await read_body(scope, receive, MAX_BODY)
        if pending is not None:
            try:
                pending.verify(body)
            except AccessDenied:
                return None, FORBIDDEN
        request = self._request(scope, headers, host, raw_path, body, url_id)
        response = await self._url_response(config, request)
        if cors is not None:
            status, out, content = response
            response = status, urls.response_headers(cors, origin, out), content
        return request.request_id, response

    async def _url_response(self, config: FunctionUrlConfig, request: HttpRequest) -> Response:
        result = await self._invoke(config.function_name, function_url_event(request), request.request_id)
        return result if isinstance(result, tuple) else v2_response(result)

    async def _invoke(self, function_name: str, event: dict[str, object], request_id: str) -> object | Response:
        """The function's result (parsed JSON), or the gateway's answer when there is none."""
        payload = json.dumps(event, separators=(",", ":")).encode()
        try:
            result = await self.invoker.invoke_async(function_name, payload, request_id=request_id)
        except TooManyRequests:
            return THROTTLED
        except RequestTooLarge:
            return TOO_LARGE
        except LambdaHostError as exc:
            log.warning("cannot invoke %s: %s", function_name, exc.message, extra={"action": "gateway_invoke_failed"})
            return PLATFORM_ERROR
        if result.function_error is not None:
            return error_response()
        try:
            return json.loads(result.payload) if result.payload.strip() else None
        except ValueError:
            return error_response()


def build_gateway(platform: Platform) -> Gateway:
    return Gateway(platform)
