"""Signature Version 4 authentication for every request but ``GET /health``, as one ASGI wrapper.

Paths under ``/ui`` are the web UI's: a browser cannot sign, so with a ``ui`` gate (``web/session.py``) they
need its login's session cookie instead, and only they accept it.

``GET /metrics`` needs a signature too, unless a metrics token is configured: then it also accepts
``Authorization: Bearer <token>`` (Prometheus scrapers send a bearer token; they cannot sign). The token opens
nothing else.

``app.py`` puts it in front of the whole application (the raw Invoke endpoint and Starlette alike) only when
credentials are configured; without them it is not in the pipeline at all. A request is checked by its headers
first (``Verifier.check``: missing/malformed ``Authorization``, credential scope, clock skew, unknown key), so a
rejected request's body is never read. When the signature covers the body (always for boto3 and the AWS CLI, which
send no ``x-amz-content-sha256`` and sign the body's SHA-256), the body is read once here and replayed to the
application as a single message.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from lambdahost.api.invoke import Message, Receive, Scope, Send, read_body
from lambdahost.api.wire import error_response
from lambdahost.core.errors import LambdaHostError, ServiceError
from lambdahost.core.sigv4 import HttpRequest, Verifier

ASGIApp = Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]

OPEN_PATHS = frozenset({("GET", "/health")})
METRICS = ("GET", "/metrics")

log = logging.getLogger(__name__)


class UiGate(Protocol):
    """The web UI's login (``web.session.Sessions``): which requests are the UI's, and letting them in or not."""

    def handles(self, scope: Scope) -> bool: ...

    async def admit(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None: ...


def http_request(scope: Scope) -> HttpRequest:
    """The signed parts of an ASGI request: the path exactly as sent (``raw_path``), the raw query, the headers."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("utf-8", "surrogateescape") if raw_path else scope["path"]
    return HttpRequest(
        method=scope["method"],
        path=path,
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]],
    )


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the already-read body once, then defers to the server (disconnects)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


class RequireSignature:
    """The ASGI wrapper: a valid signature from a known key, or AWS's 403 error."""

    def __init__(
        self, app: ASGIApp, verifier: Verifier, metrics_token: str | None = None, ui: UiGate | None = None
    ) -> None:
        self.app = app
        self.ui = ui
        self.verifier = verifier
        self._metrics_bearer = None if not metrics_token else f"Bearer {metrics_token}".encode()

    def _metrics_token_ok(self, scope: Scope) -> bool:
        """A scrape of ``/metrics`` carrying the configured bearer token (compared in constant time)."""
        if self._metrics_bearer is None or (scope["method"], scope["path"]) != METRICS:
            return False
        sent = [value for name, value in scope["headers"] if name.lower() == b"authorization"]
        return len(sent) == 1 and hmac.compare_digest(sent[0], self._metrics_bearer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ui is not None and scope["type"] == "http" and self.ui.handles(scope):
            await self.ui.admit(self.app, scope, receive, send)  # the UI's session cookie, never a signature
            return
        if scope["type"] != "http" or (scope["method"], scope["path"]) in OPEN_PATHS or self._metrics_token_ok(scope):
            await self.app(scope, receive, send)
            return
        try:
            pending = self.verifier.check(http_request(scope))
            if pending.needs_body:
                body = await read_body(receive)
                pending.verify(body)
                receive = replay(body, receive)
            else:
                pending.verify()
        except LambdaHostError as exc:
            log.info("request rejected: %s", exc.code, extra={"action": "auth_rejected", "path": scope.get("path")})
            await error_response(exc)(scope, receive, send)
            return
        except Exception as exc:
            log.exception("unhandled error", extra={"action": "http_500", "path": scope.get("path")})
            await error_response(ServiceError(f"Internal error: {type(exc).__name__}"))(scope, receive, send)
            return
        await self.app(scope, receive, send)
