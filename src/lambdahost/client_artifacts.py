"""The artifact operations of ``Client``, as a mixin over lambdahost's own API
(``/lambdahost/v1/invocations/{id}/artifacts``). ``Client`` provides ``_json`` (a JSON answer) and ``_request``
(the raw answer, for the files' bytes)."""

from __future__ import annotations

import abc
from typing import Any, Protocol
from urllib.parse import quote

from lambdahost.client_settings import NATIVE
from lambdahost.client_settings import quote_name as _name


class _Raw(Protocol):
    body: bytes


class ArtifactsClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    @abc.abstractmethod
    def _request(self, method: str, path: str) -> Any: ...

    def list_artifacts(self, invocation_id: str) -> list[dict[str, Any]]:
        """An invocation's artifacts: ``Name``, ``Size``, ``Sha256``, ``CreatedAt``, ``ExpiresAt``, by name."""
        found: list[dict[str, Any]] = self._json("GET", f"{NATIVE}/invocations/{_name(invocation_id)}/artifacts")[
            "Artifacts"
        ]
        return found

    def get_artifact(self, invocation_id: str, name: str) -> bytes:
        """One artifact's bytes (``name`` as listed, ``/`` included)."""
        path = f"{NATIVE}/invocations/{_name(invocation_id)}/artifacts/{quote(name, safe='/')}"
        response: _Raw = self._request("GET", path)
        return response.body
