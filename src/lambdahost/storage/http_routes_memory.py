"""The in-memory fake of ``HttpRouteStore`` (a mixin of ``InMemoryStore``), with the SQL stores' semantics: the
same conflicts (id, method and path shape; function and qualifier, url id) and the same listing order."""

from __future__ import annotations

import threading

from lambdahost.core.function_urls import FunctionUrlConfig
from lambdahost.core.http_routes import HttpRoute, parse_path
from lambdahost.storage.http_routes_sql import route_order, url_order


class HttpRouteMemoryStore:
    _lock: threading.Lock

    def _init_http_routes(self) -> None:
        self._http_routes: dict[str, HttpRoute] = {}
        self._function_urls: dict[tuple[str, str], FunctionUrlConfig] = {}

    def _http_tables(self) -> tuple[dict[str, HttpRoute], dict[tuple[str, str], FunctionUrlConfig]]:
        return self._http_routes, self._function_urls

    def insert_http_route(self, route: HttpRoute) -> bool:
        shape = parse_path(route.path).shape_text
        with self._lock:
            routes, _ = self._http_tables()
            taken = any(r.method == route.method and parse_path(r.path).shape_text == shape for r in routes.values())
            if route.id in routes or taken:
                return False
            routes[route.id] = route
            return True

    def get_http_route(self, route_id: str) -> HttpRoute | None:
        return self._http_tables()[0].get(route_id)

    def list_http_routes(self, function_name: str | None = None) -> list[HttpRoute]:
        with self._lock:
            found = [r for r in self._http_tables()[0].values() if function_name in (None, r.function_name)]
        return sorted(found, key=route_order)

    def delete_http_route(self, route_id: str) -> bool:
        with self._lock:
            return self._http_tables()[0].pop(route_id, None) is not None

    def insert_function_url_config(self, config: FunctionUrlConfig) -> bool:
        key = (config.function_name, config.qualifier)
        with self._lock:
            _, urls = self._http_tables()
            if key in urls or any(c.url_id == config.url_id for c in urls.values()):
                return False
            urls[key] = config
            return True

    def get_function_url_config(self, function_name: str, qualifier: str) -> FunctionUrlConfig | None:
        return self._http_tables()[1].get((function_name, qualifier))

    def get_function_url_config_by_id(self, url_id: str) -> FunctionUrlConfig | None:
        with self._lock:
            return next((c for c in self._http_tables()[1].values() if c.url_id == url_id), None)

    def list_function_url_configs(self, function_name: str | None = None) -> list[FunctionUrlConfig]:
        with self._lock:
            found = [c for c in self._http_tables()[1].values() if function_name in (None, c.function_name)]
        return sorted(found, key=url_order)

    def update_function_url_config(self, config: FunctionUrlConfig) -> bool:
        key = (config.function_name, config.qualifier)
        with self._lock:
            _, urls = self._http_tables()
            current = urls.get(key)
            if current is None:
                return False
            urls[key] = config.replace(url_id=current.url_id, created_at=current.created_at)
            return True

    def delete_function_url_config(self, function_name: str, qualifier: str) -> bool:
        with self._lock:
            return self._http_tables()[1].pop((function_name, qualifier), None) is not None

    def _delete_http_triggers_of(self, function_name: str) -> None:
        """Called by ``InMemoryStore.delete_function`` under its lock."""
        routes, urls = self._http_tables()
        for route_id in [i for i, r in routes.items() if r.function_name == function_name]:
            del routes[route_id]
        for key in [k for k in urls if k[0] == function_name]:
            del urls[key]
