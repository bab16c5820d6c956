"""The Jinja2 environment of the UI (autoescape on for every template) and the filters the pages share."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

SESSION_SCOPE_KEY = "lambdahost.ui_session"  # set by session.Sessions.admit on a request with a valid cookie
TEMPLATES = Path(__file__).parent / "templates"


def when(epoch: float | None) -> str:
    """A UTC time for tables: ``2026-11-25 09:41:07``."""
    if epoch is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def size(n: int | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f} ms" if value >= 100 else f"{value:.2f} ms"


def pretty(body: bytes | str | None) -> str:
    """A payload or result for reading: indented JSON when it is JSON, else the text as it is."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def stack_trace(error_payload: bytes | None) -> str:
    """The ``stackTrace`` lines of an AWS error payload, one frame a line ("" when it has none)."""
    try:
        parsed = json.loads(error_payload or b"null")
    except ValueError:
        return ""
    frames = parsed.get("stackTrace") if isinstance(parsed, dict) else None
    return "\n".join(str(line).rstrip("\n") for line in frames) if isinstance(frames, list) else ""


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(when=when, size=size, ms=ms, pretty=pretty, stack_trace=stack_trace)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` rendered with ``context`` plus what the layout needs (whether the user logged in: the session
    gate marks the request, ``session.SESSION_SCOPE_KEY``)."""
    page = ENV.get_template(template).render(logged_in=bool(request.scope.get(SESSION_SCOPE_KEY)), **context)
    return HTMLResponse(page, status_code=status_code)
