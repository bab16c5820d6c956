"""The secrets page: the names of the platform's secrets (``engine/secrets.py``) with when they were set, a form
that creates or replaces one, and delete. Values are write-only: the page never receives one, and the value
input is emptied after every post."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from lambdahost.core.errors import LambdaHostError
from lambdahost.web.forms import read_form
from lambdahost.web.guard import same_origin
from lambdahost.web.templating import render

if TYPE_CHECKING:
    from lambdahost.server import Platform


def routes(platform: Platform) -> list[Route]:
    secrets = platform.secrets

    async def page(request: Request, name: str = "", error: str | None = None, status_code: int = 200) -> Response:
        listed = await run_in_threadpool(secrets.list)
        return render(
            request,
            "secrets.html",
            status_code=status_code,
            secrets=listed,
            name=name,
            error=error,
            saved=request.query_params.get("saved"),
        )

    async def index(request: Request) -> Response:
        return await page(request)

    async def put(request: Request) -> Response:
        same_origin(request)
        form = await read_form(request)
        name = form.get("name").strip()
        try:
            await run_in_threadpool(secrets.set, name, form.get("value"))
        except LambdaHostError as exc:
            return await page(request, name, exc.message, exc.status)
        return RedirectResponse(f"/ui/secrets?saved={name}", status_code=303)

    async def delete(request: Request) -> Response:
        same_origin(request)
        await run_in_threadpool(secrets.delete, request.path_params["name"])
        return RedirectResponse("/ui/secrets", status_code=303)

    return [
        Route("/ui/secrets", index, methods=["GET"]),
        Route("/ui/secrets", put, methods=["POST"]),
        Route("/ui/secrets/{name}/delete", delete, methods=["POST"]),
    ]
