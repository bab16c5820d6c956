"""Logging in to the UI when the server has credentials: a browser cannot sign requests with SigV4, so the login
page checks the access key id and secret access key the server was started with and sets a session cookie
(``HttpOnly``, ``SameSite=Strict``, ``Path=/ui``; ``Secure`` over HTTPS) that ``api/auth.py`` accepts for ``/ui``
paths only: the cookie opens nothing of the API.

The cookie is ``<expiry>.<HMAC-SHA256>``, keyed by a key derived from the secret access key, so it stays valid
across restarts of the server and stops being valid when the credentials change. Without credentials (loopback
only) the gate is not in the pipeline and there is no login.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from lambdahost.core.credentials import Credentials
from lambdahost.web.forms import read_form
from lambdahost.web.guard import same_origin
from lambdahost.web.templating import SESSION_SCOPE_KEY, render

if TYPE_CHECKING:
    from lambdahost.api.auth import ASGIApp
    from lambdahost.api.invoke import Receive, Scope, Send

COOKIE = "lambdahost_ui"
MAX_AGE_S = 12 * 3600
LOGIN_PATH = "/ui/login"
OPEN_PREFIXES = ("/ui/static/",)


def is_ui_path(path: str) -> bool:
    return path == "/ui" or path.startswith("/ui/")


class Sessions:
    def __init__(self, credentials: Credentials, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self._key = hmac.new(credentials.secret_access_key.encode(), b"lambdahost-ui-session", hashlib.sha256).digest()
        self._clock = clock

    def check_login(self, access_key_id: str, secret_access_key: str) -> bool:
        """Both parts compared in constant time."""
        key_ok = hmac.compare_digest(access_key_id.encode(), self._credentials.access_key_id.encode())
        secret_ok = hmac.compare_digest(secret_access_key.encode(), self._credentials.secret_access_key.encode())
        return key_ok and secret_ok

    def _sign(self, expiry: str) -> str:
        return hmac.new(self._key, expiry.encode(), hashlib.sha256).hexdigest()

    def issue(self) -> str:
        expiry = str(int(self._clock()) + MAX_AGE_S)
        return f"{expiry}.{self._sign(expiry)}"

    def valid(self, value: str | None) -> bool:
        if not value:
            return False
        expiry, _, signature = value.partition(".")
        if not expiry.isdigit() or not hmac.compare_digest(signature, self._sign(expiry)):
            return False
        return int(expiry) > self._clock()

    def cookie_of(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except Exception:  # a malformed Cookie header is no session
                    continue
                if COOKIE in jar:
                    return jar[COOKIE].value
        return None

    # -- the gate ``api/auth.py`` calls for /ui paths ------------------------------------------------------------
    def handles(self, scope: Scope) -> bool:
        return is_ui_path(scope["path"])

    async def admit(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """A request with a valid session, the login page or a static file goes on to ``app``; any other page
        is sent to the login page (a GET) or refused with 401."""
        path = scope["path"]
        if self.valid(self.cookie_of(scope)):
            scope[SESSION_SCOPE_KEY] = True
            await app(scope, receive, send)
            return
        if path == LOGIN_PATH or path.startswith(OPEN_PREFIXES):
            await app(scope, receive, send)
            return
        response: Response
        if scope["method"] in ("GET", "HEAD"):
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + ("?" + query if query else "")
            response = RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
        else:
            response = PlainTextResponse("Log in first: /ui/login", status_code=401)
        await response(scope, receive, send)


def safe_next(raw: str | None) -> str:
    """Where to go after logging in: a UI path on this server, never another site."""
    if not raw:
        return "/ui/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not is_ui_path(parts.path) or raw.startswith("//"):
        return "/ui/"
    return raw


def routes(sessions: Sessions | None) -> list[Route]:
    async def login_page(request: Request) -> Response:
        if sessions is None:
            return RedirectResponse("/ui/", status_code=303)
        return render(request, "login.html", next=safe_next(request.query_params.get("next")), error=None)

    async def login(request: Request) -> Response:
        if sessions is None:
            return RedirectResponse("/ui/", status_code=303)
        same_origin(request)
        form = await read_form(request)
        target = safe_next(form.get("next"))
        if not sessions.check_login(form.get("access_key_id").strip(), form.get("secret_access_key").strip()):
            return render(
                request, "login.html", status_code=401, next=target, error="Unknown access key or wrong secret."
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            sessions.issue(),
            max_age=MAX_AGE_S,
            path="/ui",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def logout(request: Request) -> Response:
        same_origin(request)
        response = RedirectResponse(LOGIN_PATH if sessions is not None else "/ui/", status_code=303)
        response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
        return response

    return [
        Route(LOGIN_PATH, login_page, methods=["GET"]),
        Route(LOGIN_PATH, login, methods=["POST"]),
        Route("/ui/logout", logout, methods=["POST"]),
    ]
