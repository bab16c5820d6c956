"""A Python client for a lambdahost server, over plain ``http.client`` (one keep-alive connection).

It speaks the AWS Lambda API wire format (the same paths and headers boto3 uses) plus lambdahost's native
``/lambdahost/v1`` API. AWS error responses come back as the ``lambdahost.core.errors`` exception whose
``code`` matches the ``x-amzn-ErrorType`` header, so callers catch the same classes the server raised::

    with Client("http://127.0.0.1:9000") as client:
        client.create_function("hello", zip_bytes, "app.handler")
        print(client.invoke("hello", {"name": "Ada"}).json())

A ``Client`` serialises its requests with a lock; use one per thread for parallel calls. Given ``credentials``,
it signs every request (AWS Signature Version 4, service ``lambda``), as a server started with credentials
requires.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from lambdahost import __version__
from lambdahost.client_artifacts import ArtifactsClient
from lambdahost.client_invocations import InvocationsClient
from lambdahost.client_mappings import EventSourceMappingClient
from lambdahost.client_parameters import ParametersClient
from lambdahost.client_queues import MessageQueueClient
from lambdahost.client_routes import RoutesClient
from lambdahost.client_runtimes import RuntimesClient
from lambdahost.client_schedules import ScheduleClient
from lambdahost.client_secrets import SecretsClient
from lambdahost.client_settings import NATIVE as _NATIVE
from lambdahost.client_settings import AsyncSettingsClient
from lambdahost.client_settings import quote_name as _name
from lambdahost.client_streams import StreamClient
from lambdahost.core import batches, errors, queue_errors
from lambdahost.core.credentials import Credentials
from lambdahost.core.settings import DEFAULT_REGION
from lambdahost.core.sigv4 import HttpRequest, sign

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
DEFAULT_TIMEOUT_S = 910.0  # longer than the longest function timeout (900 s)
UPLOAD_CHUNK = 256 * 1024

_FUNCTIONS = "/2015-03-31/functions"
_CONCURRENCY = "/2017-10-31/functions"

Progress = Callable[[int, int], None]
"""Upload progress callback: ``(sent_bytes, total_bytes)``."""

Payload = bytes | str | dict[str, Any] | list[Any] | None


# -- errors ----------------------------------------------------------------------------------------------
class ServerUnreachable(ConnectionError):
    """No lambdahost answered at the endpoint (refused, unknown host, connection lost)."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(
            f"cannot reach lambdahost at {endpoint} ({reason}). Is the server running? "
            "Start one with `lambdahost serve`."
        )
        self.endpoint = endpoint
        self.reason = reason


class UnknownServerError(errors.LambdaHostError):
    """An error response whose code this client does not know (or a non-lambdahost reply)."""

    def __init__(self, error_code: str, status: int, message: str, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.error_code = error_code
        self.http_status = status


def error_code(exc: errors.LambdaHostError) -> str:
    """The wire code of an error raised by this client (``ResourceNotFoundException``...)."""
    return exc.error_code if isinstance(exc, UnknownServerError) else exc.code


def _error_classes() -> dict[str, type[errors.LambdaHostError]]:
    """Wire code -> the class in ``core.errors`` that carries it (a base before its subclasses; the abstract
    root ``LambdaHostError`` itself is never chosen)."""
    table: dict[str, type[errors.LambdaHostError]] = {}
    pending = list(errors.LambdaHostError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        if cls.__module__ == errors.__name__:
            table.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return table


_ERRORS = _error_classes()


def error_from_response(
    status: int, error_type: str | None, body: bytes, retry_after: str | None = None
) -> errors.LambdaHostError:
    """The exception for an AWS-style error response (pure: unit-testable without a server)."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        text = body[:200].decode("utf-8", "replace").strip()
        return UnknownServerError(
            error_type or f"HTTP{status}", status, f"HTTP {status} without an AWS error body: {text!r}"
        )
    code = (error_type or parsed.get("__type") or f"HTTP{status}").split(":", 1)[0]
    message = str(parsed.get("message", parsed.get("Message", "")))
    fields = {k: v for k, v in parsed.items() if k not in ("Type", "message", "Message", "__type")}
    cls = _ERRORS.get(code)
    if cls is errors.TooManyRequests:
        try:
            retry_after_s = int(retry_after or 1)
        except ValueError:
            retry_after_s = 1
        return errors.TooManyRequests(str(fields.get("Reason", "")), message or "Rate Exceeded.", retry_after_s)
    if cls is None:
        return UnknownServerError(code, status, message, **fields)
    return cls(message, **fields)


# -- results ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvokeResponse:
    request_id: str
    status: int
    payload: bytes
    function_error: str | None
    executed_version: str | None
    log: str | None  # the decoded X-Amz-Log-Result tail (``log=True`` only)

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None


@dataclass(frozen=True)
class LogPage:
    """A page of ``Client.function_logs``: events ``{"id", "finished_at", "status", "log"}`` and the token of the
    page after it."""

    events: list[dict[str, Any]]
    next_token: str


@dataclass(frozen=True)
class _Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}


def _encode_payload(payload: Payload) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()


def _decode_log(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return value


def _host_header(hostname: str, port: int | None, scheme: str) -> str:
    """The ``Host`` header, as ``http.client`` would send it (sent explicitly, as it is signed)."""
    host = f"[{hostname}]" if ":" in hostname else hostname
    default_port = 443 if scheme == "https" else 80
    return host if port is None or port == default_port else f"{host}:{port}"


# -- the client ------------------------------------------------------------------------------------------
class Client(
    InvocationsClient,
    MessageQueueClient,
    AsyncSettingsClient,
    ScheduleClient,
    StreamClient,
    RoutesClient,
    EventSourceMappingClient,
    SecretsClient,
    ParametersClient,
    ArtifactsClient,
    RuntimesClient,
):
    def __init__(
        self,
        endpoint_url: str = DEFAULT_ENDPOINT,
        timeout: float = DEFAULT_TIMEOUT_S,
        credentials: Credentials | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint must be an http(s):// URL, got {endpoint_url!r}")
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout
        self.credentials = credentials
        self.region = region
        self._prefix = parts.path.rstrip("/")
        self._host = _host_header(parts.hostname, parts.port, parts.scheme)
        connection = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self._conn = connection(parts.hostname, parts.port, timeout=timeout)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        progress: Progress | None = None,
        service: str = "lambda",
    ) -> _Response:
        filtered = {k: v for k, v in (query or {}).items() if v is not None}
        query_string = urlencode(filtered, quote_via=quote)  # spaces as %20, as SigV4 encodes them
        url = self._prefix + path + (f"?{query_string}" if query_string else "")
        headers = {"Host": self._host, **(headers or {})}
        if self.credentials is not None:
            request = HttpRequest(method, self._prefix + path, query_string, list(headers.items()))
            headers.update(sign(request, self.credentials, self.region, service, time.time(), body or b""))
        with self._lock:
            for attempt in (1, 2):
                reused = self._conn.sock is not None
                try:
                    self._send(method, url, body, headers, progress)
                    response = self._conn.getresponse()
                    data = response.read()
                except (ConnectionResetError, BrokenPipeError, http.client.BadStatusLine) as exc:
                    self._conn.close()
                    if reused and attempt == 1:
                        continue  # the server closed an idle keep-alive connection: retry on a new one
                    raise ServerUnreachable(self.endpoint_url, f"connection lost: {exc}") from exc
                except TimeoutError as exc:
                    self._conn.close()
                    raise TimeoutError(f"no response from {self.endpoint_url} within {self.timeout} s") from exc
                except OSError as exc:
                    self._conn.close()
                    raise ServerUnreachable(self.endpoint_url, exc.strerror or str(exc)) from exc
                except http.client.HTTPException as exc:
                    self._conn.close()
                    raise ServerUnreachable(self.endpoint_url, f"invalid HTTP response: {exc!r}") from exc
                break
        if response.status >= 300:
            raise error_from_response(
                response.status,
                response.headers.get("x-amzn-ErrorType"),
                data,
                response.headers.get("Retry-After"),
            )
        return _Response(response.status, response.headers, data)

    def _send(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], progress: Progress | None
    ) -> None:
        conn = self._conn
        conn.putrequest(method, url, skip_host=True, skip_accept_encoding=True)
        conn.putheader("User-Agent", f"lambdahost-client/{__version__}")
        for key, value in headers.items():
            conn.putheader(key, value)
        if body is None:
            conn.endheaders()
            return
        total = len(body)
        conn.putheader("Content-Length", str(total))
        view = memoryview(body)
        conn.endheaders(bytes(view[:UPLOAD_CHUNK]))
        sent = min(total, UPLOAD_CHUNK)
        if progress:
            progress(sent, total)
        while sent < total:
            chunk = view[sent : sent + UPLOAD_CHUNK]
            conn.send(chunk)
            sent += len(chunk)
            if progress:
                progress(sent, total)

    def _json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {} if data is None else {"Content-Type": "application/json"}
        return self._request(method, path, body=data, headers=headers, query=query, progress=progress).json()

    # -- functions (AWS Lambda API) --------------------------------------------------------------------------
    def create_function(
        self,
        name: str,
        code: bytes,
        handler: str,
        *,
        runtime: str = "python3.11",
        memory: int | None = None,
        timeout: int | None = None,
        environment: dict[str, str] | None = None,
        description: str | None = None,
        role: str | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """CreateFunction; returns the FunctionConfiguration."""
        request: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": runtime,
            "Handler": handler,
            "Code": {"ZipFile": base64.b64encode(code).decode()},
        }
        request.update(
            _configuration(memory=memory, timeout=timeout, environment=environment, description=description, role=role)
        )
        result: dict[str, Any] = self._json("POST", _FUNCTIONS, request, progress=progress)
        return result

    def update_function_code(self, name: str, code: bytes, progress: Progress | None = None) -> dict[str, Any]:
        body = {"ZipFile": base64.b64encode(code).decode()}
        result: dict[str, Any] = self._json("PUT", f"{_FUNCTIONS}/{_name(name)}/code", body, progress=progress)
        return result

    def update_function_configuration(
        self,
        name: str,
        *,
        handler: str | None = None,
        runtime: str | None = None,
        memory: int | None = None,
        timeout: int | None = None,
        environment: dict[str, str] | None = None,
        description: str | None = None,
        role: str | None = None,
        **aws_fields: Any,
    ) -> dict[str, Any]:
        """UpdateFunctionConfiguration with the given fields (None: unchanged).

        ``environment`` replaces all variables, as on AWS. Other AWS request keys pass through as is, e.g.
        ``EphemeralStorage={"Size": 1024}``.
        """
        request = _configuration(
            handler=handler,
            runtime=runtime,
            memory=memory,
            timeout=timeout,
            environment=environment,
            description=description,
            role=role,
        )
        request.update(aws_fields)
        result: dict[str, Any] = self._json("PUT", f"{_FUNCTIONS}/{_name(name)}/configuration", request)
        return result

    def delete_function(self, name: str) -> None:
        self._request("DELETE", f"{_FUNCTIONS}/{_name(name)}")

    def get_function(self, name: str) -> dict[str, Any]:
        """GetFunction: ``{"Configuration": ..., "Code": ..., "Concurrency"?: ...}``."""
        result: dict[str, Any] = self._json("GET", f"{_FUNCTIONS}/{_name(name)}")
        return result

    def list_functions(self) -> list[dict[str, Any]]:
        """Every function's configuration (follows ``NextMarker`` through all pages)."""
        functions: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            page = self._json("GET", _FUNCTIONS, query={"Marker": marker})
            functions.extend(page.get("Functions", []))
            marker = page.get("NextMarker")
            if not marker:
                return functions

    def put_function_concurrency(self, name: str, reserved: int) -> int:
        body = {"ReservedConcurrentExecutions": reserved}
        result = self._json("PUT", f"{_CONCURRENCY}/{_name(name)}/concurrency", body)
        return int(result["ReservedConcurrentExecutions"])

    def delete_function_concurrency(self, name: str) -> None:
        self._request("DELETE", f"{_CONCURRENCY}/{_name(name)}/concurrency")

    # -- invoking --------------------------------------------------------------------------------------------
    def invoke(
        self,
        name: str,
        payload: Payload = None,
        log: bool = False,
        client_context: dict[str, Any] | str | None = None,
        qualifier: str | None = None,
    ) -> InvokeResponse:
        """A synchronous (RequestResponse) invoke. A function error is NOT an exception: check
        ``function_error`` (AWS answers 200 with ``X-Amz-Function-Error``)."""
        headers = {"X-Amz-Invocation-Type": "RequestResponse"}
        if log:
            headers["X-Amz-Log-Type"] = "Tail"
        if isinstance(client_context, dict):
            client_context = base64.b64encode(json.dumps(client_context).encode()).decode()
        if client_context is not None:
            headers["X-Amz-Client-Context"] = client_context
        return self._invoke(name, _encode_payload(payload), headers, qualifier)

    def invoke_async(
        self, name: str, payload: Payload = None, qualifier: str | None = None, lane: int | None = None
    ) -> str:
        """An asynchronous (``Event``) invoke: returns the request id once the invocation is queued (committed);
        follow it with ``get_invocation``."""
        headers = {"X-Amz-Invocation-Type": "Event"}
        if lane is not None:
            headers["X-Lambdahost-Lane"] = str(lane)
        return self._invoke(name, _encode_payload(payload), headers, qualifier).request_id

    def invoke_async_batch(
        self, name: str, payloads: Sequence[Any], lane: int | None = None, qualifier: str | None = None
    ) -> list[str]:
        """Queue one asynchronous (``Event``) invocation per payload with lambdahost's batch API; returns their
        request ids, in order, once all are committed. Each payload is a JSON value (the event itself: a ``str``
        is a JSON string, not JSON text). Sent in as few requests as the server's limits allow (``core.batches``:
        10,000 payloads and 6 MB a request), each committed all or nothing. A payload over 1 MB raises
        ``RequestTooLarge`` before anything is sent; a request that fails raises with the requests before it
        queued (the exception's note says how many). An empty list sends nothing."""
        encoded = [batches.encode_payload(payload) for payload in payloads]
        for n, payload in enumerate(encoded):
            if len(payload) > batches.MAX_BATCH_PAYLOAD:
                raise errors.RequestTooLarge(
                    f"Payloads[{n}]: Request must be smaller than {batches.MAX_BATCH_PAYLOAD} bytes for the "
                    "InvokeFunction operation"
                )
        path = f"{_NATIVE}/functions/{_name(name)}/invocations"
        headers = {"Content-Type": "application/json"}
        ids: list[str] = []
        for part in batches.split(encoded, overhead=len(batches.request_body([], lane, qualifier))):
            body = batches.request_body(encoded[part], lane, qualifier)
            try:
                response = self._request("POST", path, body=body, headers=headers)
            except errors.LambdaHostError as exc:
                if part.start:
                    exc.add_note(
                        f"The failed request held Payloads[{part.start}:{part.stop}] (its indexes count from "
                        f"{part.start}); the {len(ids)} before it were queued by earlier requests."
                    )
                raise
            ids.extend(response.json()["RequestIds"])
        return ids

    def dry_run(self, name: str, qualifier: str | None = None) -> InvokeResponse:
        """``InvocationType: DryRun``: checks the function exists and may be invoked (status 204)."""
        return self._invoke(name, b"", {"X-Amz-Invocation-Type": "DryRun"}, qualifier)

    def _invoke(self, name: str, payload: bytes, headers: dict[str, str], qualifier: str | None) -> InvokeResponse:
        response = self._request(
            "POST",
            f"{_FUNCTIONS}/{_name(name)}/invocations",
            body=payload,
            headers=headers,
            query={"Qualifier": qualifier},
        )
        found = response.headers
        return InvokeResponse(
            request_id=found.get("x-amzn-RequestId", ""),
            status=response.status,
            payload=response.body,
            function_error=found.get("X-Amz-Function-Error"),
            executed_version=found.get("X-Amz-Executed-Version"),
            log=_decode_log(found.get("X-Amz-Log-Result")),
        )

    # -- named message queues (the SQS JSON protocol, signed for service ``sqs``) ---------------------------------
    # The server takes a queue's name wherever SQS takes its URL, so these take names (a URL or ARN works too).
    def _sqs(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{operation}"}
        try:
            response = self._request("POST", "/", body=json.dumps(request).encode(), headers=headers, service="sqs")
        except UnknownServerError as exc:
            cls = queue_errors.by_code().get(exc.error_code.rsplit("#", 1)[-1])
            if cls is None:
                raise
            raise cls(exc.message) from None
        result: dict[str, Any] = response.json()
        return result

    # -- native API ------------------------------------------------------------------------------------------
    def queues(self) -> list[dict[str, Any]]:
        """Exact counts of unfinished invocations per function, lane and status."""
        rows: list[dict[str, Any]] = self._json("GET", f"{_NATIVE}/queues")["Queues"]
        return rows

    def function_logs(
        self, name: str, after: float = 0.0, limit: int = 100, *, next_token: str | None = None
    ) -> LogPage:
        """A page of the finished invocations of ``name``, oldest first (by ``finished_at``, then id): the first
        page holds those that finished at or after ``after`` (epoch seconds); pass a page's ``next_token`` to get
        the page after it (``after`` is then ignored). Fewer events than ``limit``: nothing more for now (a
        later call with the same token returns what was recorded since)."""
        query = {"after": repr(float(after)) if next_token is None else None, "next": next_token, "limit": limit}
        page = self._json("GET", f"{_NATIVE}/functions/{_name(name)}/logs", query=query)
        return LogPage(events=list(page["Events"]), next_token=str(page["NextToken"]))

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", "/health")
        return result

    def status(self) -> dict[str, Any]:
        """The server's numbers: invocations by outcome, queue depth, environments, workers (what ``/metrics``
        exposes, as JSON)."""
        result: dict[str, Any] = self._json("GET", f"{_NATIVE}/status")
        return result

    def triggers(self, name: str) -> dict[str, Any]:
        """Everything that invokes function ``name``: schedules, event source mappings (state, last processing
        result, lag), HTTP routes and function URLs."""
        result: dict[str, Any] = self._json("GET", f"{_NATIVE}/functions/{_name(name)}/triggers")
        return result

    def metrics(self) -> str:
        """``GET /metrics``: the Prometheus text exposition."""
        return self._request("GET", "/metrics").body.decode()


def _configuration(
    *,
    handler: str | None = None,
    runtime: str | None = None,
    memory: int | None = None,
    timeout: int | None = None,
    environment: dict[str, str] | None = None,
    description: str | None = None,
    role: str | None = None,
) -> dict[str, Any]:
    """AWS request keys for the configuration fields that are set."""
    request: dict[str, Any] = {}
    for key, value in (
        ("Handler", handler),
        ("Runtime", runtime),
        ("MemorySize", memory),
        ("Timeout", timeout),
        ("Description", description),
        ("Role", role),
    ):
        if value is not None:
            request[key] = value
    if environment is not None:
        request["Environment"] = {"Variables": dict(environment)}
    return request
