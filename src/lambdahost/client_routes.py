"""The HTTP route and function URL operations of ``Client``, as a mixin: routes over lambdahost's own API
(``/lambdahost/v1/routes``), function URLs over AWS Lambda's (``/2021-10-31/functions/{name}/url``). ``Client``
provides ``_json``, one request with a JSON body and a JSON answer."""

from __future__ import annotations

import abc
from typing import Any

from lambdahost.client_settings import NATIVE
from lambdahost.client_settings import quote_name as _name


def _url(name: str) -> str:
    return f"/2021-10-31/functions/{_name(name)}/url"


class RoutesClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    # -- routes ----------------------------------------------------------------------------------------------------
    def create_route(
        self, method: str, path: str, function: str, *, qualifier: str | None = None, payload_format: str = "2.0"
    ) -> dict[str, Any]:
        """A route ``METHOD PATH`` (``ANY``, ``{param}``, ``{proxy+}``) to ``function`` with the payload format's
        event (``1.0``: REST API proxy; ``2.0``: HTTP API)."""
        body: dict[str, Any] = {
            "Method": method,
            "Path": path,
            "FunctionName": function,
            "PayloadFormatVersion": payload_format,
        }
        if qualifier:
            body["Qualifier"] = qualifier
        route: dict[str, Any] = self._json("POST", f"{NATIVE}/routes", body)
        return route

    def list_routes(self, function: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._json("GET", f"{NATIVE}/routes", query={"FunctionName": function})["Routes"]
        return found

    def get_route(self, route_id: str) -> dict[str, Any]:
        route: dict[str, Any] = self._json("GET", f"{NATIVE}/routes/{_name(route_id)}")
        return route

    def delete_route(self, route_id: str) -> None:
        self._json("DELETE", f"{NATIVE}/routes/{_name(route_id)}")

    # -- function URLs (AWS Lambda API) ----------------------------------------------------------------------------
    def create_function_url(
        self,
        name: str,
        auth_type: str = "NONE",
        *,
        cors: dict[str, Any] | None = None,
        invoke_mode: str | None = None,
        qualifier: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"AuthType": auth_type}
        if cors is not None:
            body["Cors"] = cors
        if invoke_mode is not None:
            body["InvokeMode"] = invoke_mode
        config: dict[str, Any] = self._json("POST", _url(name), body, query={"Qualifier": qualifier})
        return config

    def get_function_url(self, name: str, qualifier: str | None = None) -> dict[str, Any]:
        config: dict[str, Any] = self._json("GET", _url(name), query={"Qualifier": qualifier})
        return config

    def update_function_url(self, name: str, changes: dict[str, Any], qualifier: str | None = None) -> dict[str, Any]:
        """UpdateFunctionUrlConfig with AWS's request keys (``AuthType``, ``Cors``, ``InvokeMode``)."""
        config: dict[str, Any] = self._json("PUT", _url(name), changes, query={"Qualifier": qualifier})
        return config

    def delete_function_url(self, name: str, qualifier: str | None = None) -> None:
        self._json("DELETE", _url(name), query={"Qualifier": qualifier})

    def list_function_urls(self, name: str) -> list[dict[str, Any]]:
        configs: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            page = self._json("GET", f"/2021-10-31/functions/{_name(name)}/urls", query={"Marker": marker})
            configs += page["FunctionUrlConfigs"]
            marker = page.get("NextMarker")
            if not marker:
                return configs
