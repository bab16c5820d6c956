"""The HTTP application, built in one visible place.

``body_limit.BodyLimit`` is outermost: no body past its limit is read. With credentials configured,
``auth.RequireSignature`` comes next (SigV4 on every request but ``GET /health``;
``GET /metrics`` may carry the metrics token instead); without them it is not in the pipeline at all. Then the
Invoke path goes straight to its raw ASGI endpoint (``invoke.py``: the hot path, with its own AWS-format errors
and catch-all 500), and so does the native batch of Event invocations (``batch.py``); every other request goes
to the Starlette application: routes, then error handling (AWS error format for every ``LambdaHostError``, a
catch-all 500 ``ServiceException`` outermost)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lambdahost.api import (
    artifacts,
    async_config,
    event_source_mappings,
    lambda_api,
    metrics,
    native,
    parameters,
    routes_api,
    runtimes,
    scheduler,
    secrets,
    triggers,
)
from lambdahost.api import function_urls as function_url_api
from lambdahost.api.auth import ASGIApp, RequireSignature
from lambdahost.api.batch import PATH as BATCH_PATH
from lambdahost.api.batch import BatchInvokeEndpoint
from lambdahost.api.body_limit import BodyLimit
from lambdahost.api.invoke import ASYNC_PATH as INVOKE_ASYNC_PATH
from lambdahost.api.invoke import PATH as INVOKE_PATH
from lambdahost.api.invoke import InvokeAsyncEndpoint, InvokeEndpoint, Queuer, Receive, Scope, Send
from lambdahost.api.kinesis import KinesisEndpoint
from lambdahost.api.kinesis import target_of as kinesis_target
from lambdahost.api.sqs import SqsEndpoint
from lambdahost.api.sqs import target_of as sqs_target
from lambdahost.api.wire import error_response
from lambdahost.core.errors import LambdaHostError, ServiceError
from lambdahost.web import app as web

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


class LambdaHostApp:
    """The ASGI application: Invoke and the native batch of Event invocations to their endpoints, SQS
    (``X-Amz-Target: AmazonSQS.*``) to ``sqs.py``, Kinesis (``Kinesis_20131202.*``) to ``kinesis.py``, the rest to
    Starlette."""

    def __init__(self, platform: Platform) -> None:
        self.starlette = Starlette(
            routes=[
                *native.routes(platform),
                *metrics.routes(platform),
                *lambda_api.routes(platform),
                *async_config.routes(platform),
                *function_url_api.routes(platform),
                *routes_api.routes(platform),
                *event_source_mappings.routes(platform),
                *scheduler.routes(platform),
                *triggers.routes(platform),
                *secrets.routes(platform),
                *artifacts.routes(platform),
                *parameters.routes(platform),
                *runtimes.routes(platform),
                *web.routes(platform, web.sessions_of(platform)),  # the browser UI: /ui/, /ui/static/
            ],
            exception_handlers={
                LambdaHostError: _platform_error,
                HTTPException: _http_error,
                Exception: _unexpected,
            },
        )
        queuer = Queuer(platform.enqueuer)  # one for both: their Event invokes are committed together
        self.invoke = InvokeEndpoint(platform.invoker, queuer)
        self.invoke_async = InvokeAsyncEndpoint(queuer)
        self.batch = BatchInvokeEndpoint(platform.enqueuer)
        self.sqs = SqsEndpoint(platform.message_queues, platform.message_moves)
        self.kinesis = KinesisEndpoint(platform.streams)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = INVOKE_PATH.match(scope["path"])
            if match is not None:
                await self.invoke(scope, receive, send, match.group(1))
                return
            match = INVOKE_ASYNC_PATH.match(scope["path"])
            if match is not None:
                await self.invoke_async(scope, receive, send, match.group(1))
                return
            match = BATCH_PATH.match(scope["path"])
            if match is not None:
                await self.batch(scope, receive, send, match.group(1))
                return
            operation = sqs_target(scope)
            if operation is not None:
                await self.sqs(scope, receive, send, operation)
                return
            operation = kinesis_target(scope)
            if operation is not None:
                await self.kinesis(scope, receive, send, operation)
                return
        await self.starlette(scope, receive, send)


def build_app(platform: Platform) -> ASGIApp:
    """The whole pipeline: the body limit, the signature check (only when credentials are configured), then
    ``LambdaHostApp``."""
    app: ASGIApp = LambdaHostApp(platform)
    if platform.verifier is not None:
        app = RequireSignature(app, platform.verifier, platform.settings.metrics_token, web.sessions_of(platform))
    return BodyLimit(app)
