"""What every UI endpoint shares: refusing cross-site posts, and errors as HTML pages rather than AWS's JSON."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from lambdahost.core.errors import AccessDenied, LambdaHostError
from lambdahost.web.templating import render

Endpoint = Callable[[Request], Awaitable[Response]]


def same_origin(request: Request) -> None:
    """A state-changing request must come from the UI's own pages: a browser's ``Sec-Fetch-Site`` or ``Origin``
    naming another site is refused (without credentials the server listens on loopback with no login, so this is
    what stops another web page from posting to it; with a login the cookie is ``SameSite=Strict`` as well)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise AccessDenied("Cross-site requests to the UI are refused.")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise AccessDenied("Cross-site requests to the UI are refused.")
    if origin == "null":
        raise AccessDenied("Cross-site requests to the UI are refused.")


def html_errors(endpoint: Endpoint) -> Endpoint:
    """The platform's errors (a function that does not exist, a refused post) as the UI's error page."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except LambdaHostError as exc:
            return render(request, "error.html", status_code=exc.status, code=exc.code, message=exc.message)

    return wrapped
