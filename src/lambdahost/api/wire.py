"""Request/response helpers shared by the HTTP handlers: JSON bodies, AWS error responses, request ids."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from lambdahost.core.errors import InvalidParameterValue, InvalidRequestContent, LambdaHostError


def new_request_id() -> str:
    return str(uuid.uuid4())


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"x-amzn-RequestId": new_request_id()}
    if headers:
        all_headers.update(headers)
    return Response(json.dumps(body), status_code=status, headers=all_headers, media_type="application/json")


def empty_response(status: int = 204) -> Response:
    return Response(b"", status_code=status, headers={"x-amzn-RequestId": new_request_id()})


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequestContent("Could not parse request body into json: expected a JSON object")
    return body


def max_items(request: Request) -> int | None:
    """A listing's ``MaxItems`` query parameter (None when absent), or InvalidParameterValue."""
    raw = request.query_params.get("MaxItems")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidParameterValue("MaxItems must be an integer.") from None


def error_response(exc: LambdaHostError, request_id: str | None = None) -> Response:
    headers = {"x-amzn-ErrorType": exc.code, "x-amzn-RequestId": request_id or new_request_id()}
    headers.update(exc.headers())
    return Response(json.dumps(exc.body()), status_code=exc.status, headers=headers, media_type="application/json")
