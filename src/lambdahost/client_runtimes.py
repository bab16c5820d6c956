"""The runtime operations of ``Client``, as a mixin over lambdahost's own API (``/lambdahost/v1/runtimes`` and
``/lambdahost/v1/functions/{name}/runtime``: which Python runs what on the server's machine). ``Client`` provides
``_json``."""

from __future__ import annotations

import abc
from typing import Any

from lambdahost.client_settings import NATIVE
from lambdahost.client_settings import quote_name as _name


class RuntimesClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    def runtimes(self) -> list[dict[str, Any]]:
        """Every supported runtime: ``{"Runtime", "Available", "Python": {"Version", "Path", "Source"}}`` (an
        unavailable one runs on the server's own Python, and lists the candidates it ``Rejected``)."""
        found: list[dict[str, Any]] = self._json("GET", f"{NATIVE}/runtimes")["Runtimes"]
        return found

    def function_runtime(self, function_name: str) -> dict[str, Any]:
        """What runs the function: ``{"FunctionName", "Runtime", "Available", "Python", "Message"?}``."""
        view: dict[str, Any] = self._json("GET", f"{NATIVE}/functions/{_name(function_name)}/runtime")
        return view
