"""HTTP routes: create, read, list and delete them (the native API's ``/lambdahost/v1/routes``), and the table the
gateway matches requests against.

A route names an existing function (any of AWS's forms; lambdahost has only ``$LATEST``), a method and a path
(``core.http_routes`` validates them and decides conflicts), and a payload format (``1.0``: API Gateway REST
proxy event; ``2.0``: HTTP API event, the default). Conflicts are refused with ``ResourceConflict`` naming the
route in the way; the store's unique key catches one created meanwhile by another node.

``table()`` is what the gateway asks for every request: the routes of the whole platform, read from the store at
most every ``recheck_s`` (a change made through another node applies within that time; one made here, at once).
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from lambdahost.core.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from lambdahost.core.http_routes import (
    HttpRoute,
    RouteTable,
    parse_method,
    parse_path,
    parse_payload_format,
    parse_route_key,
)
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.model import LATEST
from lambdahost.core.names import parse_function_ref
from lambdahost.engine.functions import FunctionService
from lambdahost.storage.base import Store

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_route_id() -> str:
    """Ten lower-case letters and digits (API Gateway's route ids are seven)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


class HttpRoutes:
    def __init__(self, store: Store, functions: FunctionService, recheck_s: float = 1.0, clock: Clock = wall_clock):
        self.store = store
        self.functions = functions
        self._recheck_s = recheck_s
        self._clock = clock
        self._table = RouteTable()
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    # -- the API ---------------------------------------------------------------------------------------------------
    def create(self, request: dict[str, Any]) -> HttpRoute:
        """A new route from ``{"Method", "Path"}`` (or ``{"RouteKey": "GET /path"}``), ``"FunctionName"``,
        optional ``"Qualifier"`` and ``"PayloadFormatVersion"``."""
        if request.get("RouteKey") is not None:
            if request.get("Method") is not None or request.get("Path") is not None:
                raise InvalidParameterValue("Give RouteKey or Method and Path, not both.")
            method, path = parse_route_key(str(request["RouteKey"]))
        else:
            if request.get("Method") is None or request.get("Path") is None:
                raise InvalidParameterValue("A route needs Method and Path (or RouteKey, e.g. 'GET /items/{id}').")
            method, path = parse_method(request["Method"]), str(request["Path"])
        pattern = parse_path(path)
        payload_format = parse_payload_format(request.get("PayloadFormatVersion", "2.0"))
        function = request.get("FunctionName")
        if not isinstance(function, str) or not function:
            raise InvalidParameterValue("A route needs FunctionName.")
        qualifier = request.get("Qualifier")
        if qualifier is not None and not isinstance(qualifier, str):
            raise InvalidParameterValue("Qualifier must be a string.")
        ref = parse_function_ref(function, qualifier or None)
        if ref.qualifier not in (None, LATEST):
            raise ResourceNotFound(f"Function not found: {self.functions.arn(ref.name, ref.qualifier)}")
        if self.store.get_function(ref.name) is None:
            raise self.functions.not_found(ref.name)
        route = HttpRoute(
            id=new_route_id(),
            method=method,
            path=pattern.path,
            function_name=ref.name,
            qualifier=LATEST,
            payload_format=payload_format,
            created_at=self._clock(),
        )
        existing = RouteTable(self.store.list_http_routes()).conflict(method, pattern)
        if existing is not None or not self.store.insert_http_route(route):
            described = f"route {existing.route_key} (id {existing.id})" if existing else "a route created meanwhile"
            raise ResourceConflict(
                f"Route {route.route_key} conflicts with {described}: same method and the same path up to "
                "parameter names."
            )
        self._forget()
        return route

    def get(self, route_id: str) -> HttpRoute:
        found = self.store.get_http_route(route_id)
        if found is None:
            raise ResourceNotFound(f"Route not found: {route_id}")
        return found

    def list(self, function_name: str | None = None) -> list[HttpRoute]:
        if function_name:
            return self.store.list_http_routes(parse_function_ref(function_name).name)
        return self.store.list_http_routes()

    def delete(self, route_id: str) -> None:
        if not self.store.delete_http_route(route_id):
            raise ResourceNotFound(f"Route not found: {route_id}")
        self._forget()

    # -- for the gateway -------------------------------------------------------------------------------------------
    def stale(self) -> bool:
        """Whether ``table()`` would read the store (the gateway then calls ``reload`` on a thread first)."""
        loaded = self._loaded_at
        return loaded is None or self._clock() - loaded >= self._recheck_s

    def reload(self) -> RouteTable:
        table = RouteTable(self.store.list_http_routes())
        with self._lock:
            self._table, self._loaded_at = table, self._clock()
        return table

    def table(self) -> RouteTable:
        return self.reload() if self.stale() else self._table

    def _forget(self) -> None:
        with self._lock:
            self._loaded_at = None
