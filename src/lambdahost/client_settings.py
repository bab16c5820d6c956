"""The asynchronous settings operations of ``Client`` (lanes, event invoke config, provisioned concurrency), as a
mixin: ``Client`` provides ``_json``, one request with a JSON body and a JSON answer."""

from __future__ import annotations

import abc
from typing import Any
from urllib.parse import quote

NATIVE = "/lambdahost/v1"


def quote_name(function_name: str) -> str:
    """A function name (or ARN) as one path segment."""
    return quote(function_name, safe="")


class AsyncSettingsClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    def get_lanes(self, name: str) -> list[int] | None:
        """The maximum concurrency of each lane of ``name``'s queue; None: one lane."""
        lanes: list[int] | None = self._json("GET", f"{NATIVE}/functions/{quote_name(name)}/lanes")["Lanes"]
        return lanes

    def set_lanes(self, name: str, lanes: list[int] | None) -> list[int] | None:
        """Give ``name`` ``len(lanes)`` lanes, lane i running at most ``lanes[i]`` at once (None: one lane)."""
        body = {"Lanes": lanes}
        stored: list[int] | None = self._json("PUT", f"{NATIVE}/functions/{quote_name(name)}/lanes", body)["Lanes"]
        return stored

    def put_event_invoke_config(self, name: str, config: dict[str, Any], *, merge: bool = False) -> dict[str, Any]:
        """PutFunctionEventInvokeConfig (``merge``: UpdateFunctionEventInvokeConfig) with AWS's request keys."""
        result: dict[str, Any] = self._json("POST" if merge else "PUT", _event_config(name), config)
        return result

    def get_event_invoke_config(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", _event_config(name))
        return result

    def delete_event_invoke_config(self, name: str) -> None:
        self._json("DELETE", _event_config(name))

    def put_provisioned_concurrency(self, name: str, count: int) -> dict[str, Any]:
        body = {"ProvisionedConcurrentExecutions": count}
        result: dict[str, Any] = self._json("PUT", _provisioned(name), body, query={"Qualifier": "$LATEST"})
        return result

    def get_provisioned_concurrency(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", _provisioned(name), query={"Qualifier": "$LATEST"})
        return result

    def delete_provisioned_concurrency(self, name: str) -> None:
        self._json("DELETE", _provisioned(name), query={"Qualifier": "$LATEST"})


def _event_config(name: str) -> str:
    return f"/2019-09-25/functions/{quote_name(name)}/event-invoke-config"


def _provisioned(name: str) -> str:
    return f"/2019-09-30/functions/{quote_name(name)}/provisioned-concurrency"
