"""lambdahost's own API of invocations' artifacts (the files a function left in ``LAMBDAHOST_OUTPUT_DIR``).

- ``GET /lambdahost/v1/invocations/{id}/artifacts``: ``{"InvocationId", "Artifacts": [{"Name", "Size", "Sha256",
  "CreatedAt", "ExpiresAt"}]}`` ordered by name; 404 ``ResourceNotFoundException`` when the invocation is unknown.
- ``GET /lambdahost/v1/invocations/{id}/artifacts/{name}`` (``name`` may hold ``/``): the bytes, as an attachment
  (``Content-Disposition``), with a content type guessed from the name and ``X-Checksum-Sha256``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import json_response
from lambdahost.core.artifacts import ArtifactInfo, content_type, disposition
from lambdahost.core.errors import ResourceNotFound

if TYPE_CHECKING:
    from lambdahost.server import Platform

ARTIFACTS = "/lambdahost/v1/invocations/{id}/artifacts"


def shape(info: ArtifactInfo) -> dict[str, Any]:
    return {
        "Name": info.name,
        "Size": info.size,
        "Sha256": info.sha256,
        "CreatedAt": info.created_at,
        "ExpiresAt": info.expires_at,
    }


def routes(platform: Platform) -> list[Route]:
    service = platform.artifacts
    store = platform.store

    async def list_artifacts(request: Request) -> Response:
        invocation_id = request.path_params["id"]
        found = await run_in_threadpool(service.list, invocation_id)
        if not found and await run_in_threadpool(store.get_invocation, invocation_id) is None:
            await run_in_threadpool(platform.recorder.flush, 1.0)  # a synchronous run is recorded just after
            found = await run_in_threadpool(service.list, invocation_id)
            if not found and await run_in_threadpool(store.get_invocation, invocation_id) is None:
                raise ResourceNotFound(f"Invocation not found: {invocation_id}")
        return json_response({"InvocationId": invocation_id, "Artifacts": [shape(info) for info in found]})

    async def download(request: Request) -> Response:
        info, data = await run_in_threadpool(service.read, request.path_params["id"], request.path_params["name"])
        headers = {
            "Content-Disposition": disposition(info.name),
            "X-Checksum-Sha256": info.sha256,
            "X-Content-Type-Options": "nosniff",
        }
        return Response(data, media_type=content_type(info.name), headers=headers)

    return [
        Route(ARTIFACTS, list_artifacts, methods=["GET"]),
        Route(ARTIFACTS + "/{name:path}", download, methods=["GET"]),
    ]
