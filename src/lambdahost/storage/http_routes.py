"""The storage port of HTTP routes and function URL configs, which ``Store`` inherits.

Implemented once for SQL (``http_routes_sql.HttpRouteSqlStore``, SQLite and PostgreSQL) and once for the in-memory
fake (``http_routes_memory``); one contract suite (``tests/integration/test_store_contract_http_routes.py``) covers
all three. Both kinds are deleted with their function (``Store.delete_function``). Listings are small (a
function's or the platform's routes) and come whole, in a fixed order the backends agree on.
"""

from __future__ import annotations

import abc

from lambdahost.core.function_urls import FunctionUrlConfig
from lambdahost.core.http_routes import HttpRoute


class HttpRouteStore(abc.ABC):
    """Durable HTTP routes and function URL configs."""

    # -- routes ----------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_http_route(self, route: HttpRoute) -> bool:
        """Insert; False (nothing changed) when a route with its id, or with its method and path shape (the path up
        to parameter names: ``core.http_routes.PathPattern.shape_text``), exists."""

    @abc.abstractmethod
    def get_http_route(self, route_id: str) -> HttpRoute | None: ...

    @abc.abstractmethod
    def list_http_routes(self, function_name: str | None = None) -> list[HttpRoute]:
        """Every route (of one function), ordered by path, method and id."""

    @abc.abstractmethod
    def delete_http_route(self, route_id: str) -> bool:
        """Delete; True if it existed."""

    # -- function URL configs --------------------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_function_url_config(self, config: FunctionUrlConfig) -> bool:
        """Insert; False (nothing changed) when ``(function_name, qualifier)`` has one, or ``url_id`` is taken."""

    @abc.abstractmethod
    def get_function_url_config(self, function_name: str, qualifier: str) -> FunctionUrlConfig | None: ...

    @abc.abstractmethod
    def get_function_url_config_by_id(self, url_id: str) -> FunctionUrlConfig | None: ...

    @abc.abstractmethod
    def list_function_url_configs(self, function_name: str | None = None) -> list[FunctionUrlConfig]:
        """Every config (of one function), ordered by function name and qualifier."""

    @abc.abstractmethod
    def update_function_url_config(self, config: FunctionUrlConfig) -> bool:
        """Replace auth type, CORS, invoke mode and last modified of ``(function_name, qualifier)`` (not its url id or
        creation time); False when absent."""

    @abc.abstractmethod
    def delete_function_url_config(self, function_name: str, qualifier: str) -> bool:
        """Delete; True if it existed."""
