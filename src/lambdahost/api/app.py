"""The HTTP application, built in one visible place: routes, then error handling (AWS error format for every
``LambdaHostError``, a catch-all 500 ``ServiceException`` outermost)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lambdahost.api import lambda_api, native
from lambdahost.api.wire import error_response
from lambdahost.core.errors import LambdaHostError, ServiceError

if TYPE_CHECKING:
    from lambdahost.server import Platform

log = logging.getLogger(__name__)


class UnknownOperation(LambdaHostError):
    status = 404
    code = "UnknownOperationException"
    message_key = "message"


class MethodNotAllowed(LambdaHostError):
    status = 405
    code = "MethodNotAllowedException"
    message_key = "message"


async def _platform_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LambdaHostError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(MethodNotAllowed(f"Method {request.method} is not allowed on {request.url.path}"))
    return error_response(UnknownOperation(f"Unknown operation: {request.method} {request.url.path}"))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"action": "http_500", "path": request.url.path})
    return error_response(ServiceError(f"Internal error: {type(exc).__name__}"))


def build_app(platform: Platform) -> Starlette:
    return Starlette(
        routes=[*native.routes(platform), *lambda_api.routes(platform)],
        exception_handlers={
            LambdaHostError: _platform_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
