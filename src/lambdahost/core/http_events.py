"""HTTP requests as Lambda events, and Lambda results as HTTP responses (used by ``api/gateway.py``).

Pure: the API layer builds an ``HttpRequest`` from its web framework's request and sends the tuple that
``v1_response``/``v2_response`` return. Three event formats:

- ``rest_v1_event``: API Gateway REST API proxy integration (payload format 1.0).
- ``http_v2_event``: HTTP API payload format 2.0; ``function_url_event`` is the same with route and stage
  ``$default``.

Rules chosen where AWS documents little:

- Body: text when it is valid UTF-8 and its content type is textual (none given, ``text/*``, JSON, XML,
  JavaScript, form-urlencoded, ``*+json``, ``*+xml``); otherwise base64 with ``isBase64Encoded`` true. An empty
  body is ``null`` in 1.0 and absent in 2.0.
- Query strings are split on ``&``, names and values percent-decoded (``+`` stays ``+``, as API Gateway does); a
  parameter without ``=`` has the value ``""``. 1.0's single-value maps hold the last value of a repeated name;
  2.0 joins repeated ones with ``,``. Empty maps: ``null`` in 1.0, absent in 2.0.
- 1.0 headers keep the client's case, grouped case-insensitively under the first spelling seen.
- Responses: a 1.0 result must be an object with an integer ``statusCode`` (200-599: a 1xx is no final
  answer), a string (or absent) ``body``, objects ``headers``/``multiValueHeaders`` of scalars (lists of
  scalars), else 502. A ``multiValueHeaders`` name replaces the same ``headers`` name (case-insensitive). A 2.0
  result that is not an object with ``statusCode`` becomes 200 ``application/json`` with the result as body: a
  string as it is, anything else as the Python runtime's JSON (``json.dumps`` defaults).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

Headers = list[tuple[str, str]]
Response = tuple[int, Headers, bytes]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/ecmascript",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/graphql",
    }
)
_ERROR_BODY = b'{"message": "Internal server error"}'
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as the API layer received it. ``headers`` are (name, value) pairs in arrival order, since
    a name may repeat; ``time_epoch`` is seconds since the epoch."""

    method: str
    raw_path: str
    raw_query: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    time_epoch: float = field(default_factory=time.time)
    request_id: str = ""
    domain_name: str = "localhost"
    protocol: str = "HTTP/1.1"
    account_id: str = "123456789012"
    api_id: str = "lambdahost"

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (any case), or None."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value
        return found

    @property
    def user_agent(self) -> str:
        return self.header("user-agent") or ""


class _Malformed(ValueError):
    """A function's result that is not a valid response of its payload format (internal: mapped to 502)."""


def format_request_time(epoch: float) -> str:
    """API Gateway's ``requestTime``/``time``: ``dd/Mon/yyyy:HH:MM:SS +0000`` in UTC, English month names."""
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def is_text(content_type: str | None, body: bytes) -> bool:
    """Whether a body goes into an event as text (else base64): see the module's rule."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+json") or media.endswith("+xml")


def encode_body(content_type: str | None, body: bytes) -> tuple[str, bool]:
    """``(body, isBase64Encoded)`` of an event."""
    if is_text(content_type, body):
        return body.decode("utf-8"), False
    return base64.b64encode(body).decode("ascii"), True


def parse_query(raw_query: str) -> list[tuple[str, str]]:
    """Query parameters in order, percent-decoded, ``+`` kept, blank values kept."""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def _group(pairs: Iterable[tuple[str, str]], fold_case: bool) -> dict[str, list[str]]:
    """Values by name in first-seen order; with ``fold_case`` names match case-insensitively, first spelling kept."""
    grouped: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = spelling.setdefault(name.lower(), name) if fold_case else name
        grouped.setdefault(key, []).append(value)
    return grouped


def _domain_prefix(domain: str) -> str:
    return domain.split(".", 1)[0]


def rest_v1_event(
    request: HttpRequest, resource: str, path_parameters: Mapping[str, str] | None = None, stage: str = "prod"
) -> dict[str, Any]:
    """The API Gateway REST API proxy event (payload format 1.0) for ``request`` matched to ``resource``
    (e.g. ``/items/{id}``). With ``stage`` ``$default`` (an HTTP API's payload 1.0) the stage is not part of
    ``requestContext.path``."""
    headers = _group(request.headers, fold_case=True)
    query = _group(parse_query(request.raw_query), fold_case=False)
    body: str | None = None
    encoded = False
    if request.body:
        body, encoded = encode_body(request.header("content-type"), request.body)
    return {
        "resource": resource,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": {k: v[-1] for k, v in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": request.account_id,
            "apiId": request.api_id,
            "domainName": request.domain_name,
            "domainPrefix": _domain_prefix(request.domain_name),
            "extendedRequestId": request.request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.source_ip,
                "user": None,
                "userAgent": request.user_agent,
                "userArn": None,
            },
            "path": request.raw_path if stage == "$default" else f"/{stage}{request.raw_path}",
            "protocol": request.protocol,
            "requestId": request.request_id,
            "requestTime": format_request_time(request.time_epoch),
            "requestTimeEpoch": int(request.time_epoch * 1000),
            "resourceId": "",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def http_v2_event(
    request: HttpRequest,
    route_key: str = "$default",
    path_parameters: Mapping[str, str] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """The HTTP API event (payload format 2.0) for ``request`` matched to ``route_key`` (e.g. ``GET /items/{id}``).
    Cookie headers become ``cookies`` (split on ``;``) and leave ``headers``."""
    cookies: list[str] = []
    other: Headers = []
    for name, value in request.headers:
        if name.lower() == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        else:
            other.append((name.lower(), value))
    headers = {k: ",".join(v) for k, v in _group(other, fold_case=False).items()}
    query = {k: ",".join(v) for k, v in _group(parse_query(request.raw_query), fold_case=False).items()}
    event: dict[str, Any] = {"version": "2.0", "routeKey": route_key, "rawPath": request.raw_path}
    event["rawQueryString"] = request.raw_query
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": request.account_id,
        "apiId": request.api_id,
        "domainName": request.domain_name,
        "domainPrefix": _domain_prefix(request.domain_name),
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.user_agent,
        },
        "requestId": request.request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": format_request_time(request.time_epoch),
        "timeEpoch": int(request.time_epoch * 1000),
    }
    if request.body:
        event["body"], event["isBase64Encoded"] = encode_body(request.header("content-type"), request.body)
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    return event


def function_url_event(request: HttpRequest) -> dict[str, Any]:
    """A Lambda function URL's event: format 2.0 with route key and stage ``$default``."""
    return http_v2_event(request, "$default", None, "$default")


def error_response() -> Response:
    """What API Gateway answers for a function error or a malformed result."""
    return 502, [("content-type", "application/json")], _ERROR_BODY


def _header_value(value: object) -> str:
    if not isinstance(value, _SCALARS):
        raise _Malformed(f"header value {value!r}")
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _status_and_body(result: Mapping[str, Any]) -> tuple[int, bytes]:
    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:  # no 1xx: not final
        raise _Malformed(f"statusCode {status!r}")
    body = result.get("body")
    if body is None:
        return status, b""
    if not isinstance(body, str):
        raise _Malformed("body is not a string")
    if result.get("isBase64Encoded") is True:
        try:
            return status, base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise _Malformed("body is not base64") from exc
    return status, body.encode("utf-8", "surrogatepass")


def _single_headers(value: object) -> Headers:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise _Malformed("headers is not an object")
    return [(str(k), _header_value(v)) for k, v in value.items()]


def _v1(result: object) -> Response:
    if not isinstance(result, Mapping):
        raise _Malformed("result is not an object")
    status, body = _status_and_body(result)
    multi = result.get("multiValueHeaders")
    if multi is not None and not isinstance(multi, Mapping):
        raise _Malformed("multiValueHeaders is not an object")
    multi_headers: Headers = []
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise _Malformed("multiValueHeaders value is not a list")
        multi_headers.extend((str(name), _header_value(v)) for v in values)
    replaced = {name.lower() for name, _ in multi_headers}
    headers = [(k, v) for k, v in _single_headers(result.get("headers")) if k.lower() not in replaced]
    return status, headers + multi_headers, body


def v1_response(result: object) -> Response:
    """``(status, headers, body)`` for a REST API (format 1.0) function's result, or ``error_response()``."""
    try:
        return _v1(result)
    except _Malformed:
        return error_response()


def _v2(result: object) -> Response:
    if not isinstance(result, Mapping) or "statusCode" not in result:
        body = result if isinstance(result, str) else json.dumps(result)
        return 200, [("content-type", "application/json")], body.encode("utf-8", "surrogatepass")
    status, body_bytes = _status_and_body(result)
    headers = _single_headers(result.get("headers"))
    cookies = result.get("cookies")
    if cookies is not None:
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            raise _Malformed("cookies is not a list of strings")
        headers.extend(("set-cookie", c) for c in cookies)
    return status, headers, body_bytes


def v2_response(result: object) -> Response:
    """``(status, headers, body)`` for an HTTP API or function URL (format 2.0) function's result, or
    ``error_response()``."""
    try:
        return _v2(result)
    except (_Malformed, TypeError, ValueError):
        return error_response()
