"""The secret operations of ``Client``, as a mixin over lambdahost's own API (``/lambdahost/v1/secrets``).
``Client`` provides ``_json``, one request with a JSON body and a JSON answer. Values are sent, never received."""

from __future__ import annotations

import abc
from typing import Any

from lambdahost.client_settings import NATIVE
from lambdahost.client_settings import quote_name as _name


class SecretsClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    def put_secret(self, name: str, value: str) -> dict[str, Any]:
        """Create or replace the secret ``name``; its shape (``Name``, ``Reference``, ``CreatedAt``, ``UpdatedAt``)."""
        secret: dict[str, Any] = self._json("PUT", f"{NATIVE}/secrets/{_name(name)}", {"Value": value})
        return secret

    def list_secrets(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._json("GET", f"{NATIVE}/secrets")["Secrets"]
        return found

    def delete_secret(self, name: str) -> None:
        self._json("DELETE", f"{NATIVE}/secrets/{_name(name)}")
