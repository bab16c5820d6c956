"""The parameter and run operations of ``Client``, as a mixin over lambdahost's own API
(``/lambdahost/v1/functions/{name}/parameters`` and ``/runs``). ``Client`` provides ``_json``."""

from __future__ import annotations

import abc
from typing import Any

from lambdahost.client_settings import NATIVE
from lambdahost.client_settings import quote_name as _name


class ParametersClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    def put_parameters(self, function_name: str, parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace the function's declared parameters (``{"Name", "Type", "Default"?, "Description"?,
        "Required"?}`` each); the stored declaration."""
        path = f"{NATIVE}/functions/{_name(function_name)}/parameters"
        stored: list[dict[str, Any]] = self._json("PUT", path, {"Parameters": parameters})["Parameters"]
        return stored

    def get_parameters(self, function_name: str) -> list[dict[str, Any]]:
        path = f"{NATIVE}/functions/{_name(function_name)}/parameters"
        declared: list[dict[str, Any]] = self._json("GET", path)["Parameters"]
        return declared

    def run(self, function_name: str, parameters: dict[str, Any] | None = None, *, wait: bool = True) -> dict[str, Any]:
        """Run the function with parameter values (typed, or text as the CLI gives them). ``wait``: the result
        (``RequestId``, ``Status``, ``FunctionError``, ``Payload``, ``LogResult``); else ``{"RequestId", "Status":
        "pending"}`` at once."""
        body = {"Parameters": parameters or {}, "Async": not wait}
        answer: dict[str, Any] = self._json("POST", f"{NATIVE}/functions/{_name(function_name)}/runs", body)
        return answer
