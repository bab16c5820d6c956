"""The HTTP floor: a bare Starlette echo endpoint served by uvicorn with the same options as `lambdahost serve`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/json")


app = Starlette(routes=[Route("/2015-03-31/functions/echo/invocations", echo, methods=["POST"])])
