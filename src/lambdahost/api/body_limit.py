"""The largest request body the platform reads, enforced first in the pipeline, before the signature check (which
reads the body to verify its hash) or any endpoint buffers it: a body whose ``Content-Length`` is over the limit is
refused with 413 before a byte of it is read, and one sent without a length (chunked) is cut off with the same
error as soon as it passes the limit. Without this, one request could make the server hold gigabytes in memory.

The limits are the largest legitimate requests: AWS's for a function's base64 zip (CreateFunction,
UpdateFunctionCode, with AWS's message), the web UI's form posts (a folder's files, unzipped, up to the package
limits), and for everything else the largest of the API's own bodies."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdahost.api.auth import ASGIApp
from lambdahost.api.invoke import Message, Receive, Scope, Send
from lambdahost.api.wire import error_response
from lambdahost.code.limits import MAX_BASE64_REQUEST_BYTES, request_too_large_message
from lambdahost.core.errors import RequestTooLarge
from lambdahost.web.forms import MAX_FORM_BYTES

_CREATE = re.compile(r"^/2015-03-31/functions/?$")
_UPDATE_CODE = re.compile(r"^/2015-03-31/functions/[^/]+/code/?$")


@dataclass(frozen=True)
class Limit:
    max_bytes: int
    message: str


API_LIMIT = Limit(MAX_BASE64_REQUEST_BYTES, f"Request must be smaller than {MAX_BASE64_REQUEST_BYTES} bytes")
UI_LIMIT = Limit(MAX_FORM_BYTES, f"The form must be smaller than {MAX_FORM_BYTES} bytes.")
SMALLEST = min(API_LIMIT, UI_LIMIT, key=lambda limit: limit.max_bytes)  # a body this small passes every limit


def limit_of(scope: Scope) -> Limit:
    path = scope.get("path", "")
    if path.startswith("/ui/"):
        return UI_LIMIT
    if scope.get("method") == "POST" and _CREATE.match(path):
        return Limit(MAX_BASE64_REQUEST_BYTES, request_too_large_message("CreateFunction"))
    if scope.get("method") == "PUT" and _UPDATE_CODE.match(path):
        return Limit(MAX_BASE64_REQUEST_BYTES, request_too_large_message("UpdateFunctionCode"))
    return API_LIMIT


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                # the server reads exactly Content-Length bytes as the body: only the announced length matters
                if value.isdigit() and int(value) > SMALLEST.max_bytes:
                    limit = limit_of(scope)
                    if int(value) > limit.max_bytes:
                        await error_response(RequestTooLarge(limit.message))(scope, receive, send)
                        return
                await self.app(scope, receive, send)
                return
        limit = limit_of(scope)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit.max_bytes:
                raise RequestTooLarge(limit.message)
            return message

        await self.app(scope, counted, send)
