"""lambdahost's own API of secrets: ``/lambdahost/v1/secrets``. Values are write-only: no response carries one.

- ``PUT /lambdahost/v1/secrets/{name}`` ``{"Value": "..."}``: 201 when created, 200 when replaced; the secret's
  shape.
- ``GET /lambdahost/v1/secrets``: ``{"Secrets": [...]}`` ordered by name.
- ``DELETE /lambdahost/v1/secrets/{name}``: 204; 404 ``ResourceNotFoundException`` when there is none.

A secret's shape: ``{"Name", "Reference" ({{secret.NAME}}), "CreatedAt", "UpdatedAt"}`` (epoch seconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import empty_response, json_body, json_response
from lambdahost.core.secrets import reference
from lambdahost.engine.secrets import SecretInfo

if TYPE_CHECKING:
    from lambdahost.server import Platform

SECRETS = "/lambdahost/v1/secrets"


def shape(info: SecretInfo) -> dict[str, Any]:
    return {
        "Name": info.name,
        "Reference": reference(info.name),
        "CreatedAt": info.created_at,
        "UpdatedAt": info.updated_at,
    }


def routes(platform: Platform) -> list[Route]:
    service = platform.secrets

    async def put(request: Request) -> Response:
        body = await json_body(request)
        info, created = await run_in_threadpool(service.set, request.path_params["name"], body.get("Value"))
        return json_response(shape(info), 201 if created else 200)

    async def list_secrets(request: Request) -> Response:
        found = await run_in_threadpool(service.list)
        return json_response({"Secrets": [shape(info) for info in found]})

    async def delete(request: Request) -> Response:
        await run_in_threadpool(service.delete, request.path_params["name"])
        return empty_response(204)

    return [
        Route(SECRETS, list_secrets, methods=["GET"]),
        Route(SECRETS + "/{name}", put, methods=["PUT"]),
        Route(SECRETS + "/{name}", delete, methods=["DELETE"]),
    ]
