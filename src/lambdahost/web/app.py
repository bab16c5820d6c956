"""The UI's routes, for ``api/app.py`` to mount: the pages (each module one page or concept) under ``/ui``, the
static files (``static/``: one CSS file, one script) under ``/ui/static``. Every page turns the platform's errors
into an HTML error page (``guard.html_errors``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from lambdahost.web import function_page, functions, invocations, live, overview, run, schedules, secrets, session
from lambdahost.web.guard import html_errors

if TYPE_CHECKING:
    from lambdahost.server import Platform

STATIC = Path(__file__).parent / "static"


def sessions_of(platform: Platform) -> session.Sessions | None:
    """The login's sessions when the server has credentials (then every request must be signed)."""
    credentials = platform.settings.credentials
    return session.Sessions(credentials) if credentials is not None and platform.verifier is not None else None


def routes(platform: Platform, sessions: session.Sessions | None = None) -> list[BaseRoute]:
    async def to_index(request: Request) -> Response:
        return RedirectResponse("/ui/", status_code=307)

    pages: list[Route] = [
        *functions.routes(platform),
        *function_page.routes(platform),
        *invocations.routes(platform),
        *run.routes(platform),
        *live.routes(platform),
        *overview.routes(platform),
        *schedules.routes(platform),
        *secrets.routes(platform),
        *session.routes(sessions),
    ]
    wrapped: list[BaseRoute] = [
        Route(page.path, html_errors(page.endpoint), methods=list(page.methods or ()), name=page.name) for page in pages
    ]
    return [
        Route("/ui", to_index, methods=["GET"]),
        *wrapped,
        Mount("/ui/static", app=StaticFiles(directory=STATIC), name="ui-static"),
    ]
