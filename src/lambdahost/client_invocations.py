"""The invocation records of ``Client``, as a mixin over lambdahost's own API (``/lambdahost/v1/invocations``: list
them newest first with a row cursor, read one, cancel one). ``Client`` provides ``_json``."""

from __future__ import annotations

import abc
from typing import Any

from lambdahost.client_settings import NATIVE
from lambdahost.client_settings import quote_name as _name


class InvocationsClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    def list_invocations(
        self,
        function: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: float | None = None,
        before_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Invocation summaries, newest first; page with ``before`` and ``before_id`` (the last row's ``created_at``
        and ``id``)."""
        query = {
            "function": function,
            "status": status,
            "limit": limit,
            "before": None if before is None else repr(before),
            "before_id": before_id,
        }
        result: list[dict[str, Any]] = self._json("GET", f"{NATIVE}/invocations", query=query)["Invocations"]
        return result

    def get_invocation(self, invocation_id: str) -> dict[str, Any]:
        """One invocation with its transitions, payload, result and log."""
        result: dict[str, Any] = self._json("GET", f"{NATIVE}/invocations/{_name(invocation_id)}")
        return result

    def cancel_invocation(self, invocation_id: str) -> dict[str, Any]:
        """Terminate a pending or running invocation; returns its record."""
        result: dict[str, Any] = self._json("POST", f"{NATIVE}/invocations/{_name(invocation_id)}/cancel")
        return result
