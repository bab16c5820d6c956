"""``HttpRouteSqlStore``: the HTTP routes and function URL part of ``SqlStore`` (a mixin, as
``ScheduleSqlStore`` is), with its queries and row mapping, written once for SQLite and PostgreSQL.

A conflicting insert is ``ON CONFLICT DO NOTHING`` on the primary key and the unique indexes
(``http_routes_key``: method and path shape; ``function_url_configs_url_id``), so two nodes creating the same route
at once store one. ``_delete_http_triggers_of`` runs inside ``SqlStore.delete_function``'s transaction.
"""

from __future__ import annotations

import abc
import json
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from lambdahost.core.function_urls import FunctionUrlConfig
from lambdahost.core.http_routes import HttpRoute, parse_path
from lambdahost.storage.rows import Row

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx

ROUTE_COLUMNS = ("id", "method", "path", "path_shape", "function_name", "qualifier", "payload_format", "created_at")
URL_COLUMNS = (
    "function_name",
    "qualifier",
    "url_id",
    "auth_type",
    "cors",
    "invoke_mode",
    "created_at",
    "last_modified",
)

_ROUTES = f"SELECT {', '.join(ROUTE_COLUMNS)} FROM http_routes"
INSERT_ROUTE = (
    f"INSERT INTO http_routes ({', '.join(ROUTE_COLUMNS)}) VALUES ({', '.join(':' + c for c in ROUTE_COLUMNS)}) "
    "ON CONFLICT DO NOTHING"
)
GET_ROUTE = f"{_ROUTES} WHERE id = :id"
LIST_ROUTES = _ROUTES
LIST_ROUTES_OF = f"{_ROUTES} WHERE function_name = :function_name"
DELETE_ROUTE = "DELETE FROM http_routes WHERE id = :id"
DELETE_ROUTES_OF = "DELETE FROM http_routes WHERE function_name = :function_name"

_URLS = f"SELECT {', '.join(URL_COLUMNS)} FROM function_url_configs"
INSERT_URL = (
    f"INSERT INTO function_url_configs ({', '.join(URL_COLUMNS)}) VALUES ({', '.join(':' + c for c in URL_COLUMNS)}) "
    "ON CONFLICT DO NOTHING"
)
GET_URL = f"{_URLS} WHERE function_name = :function_name AND qualifier = :qualifier"
GET_URL_BY_ID = f"{_URLS} WHERE url_id = :url_id"
LIST_URLS = _URLS
LIST_URLS_OF = f"{_URLS} WHERE function_name = :function_name"
UPDATE_URL = (
    "UPDATE function_url_configs SET auth_type = :auth_type, cors = :cors, invoke_mode = :invoke_mode, "
    "last_modified = :last_modified WHERE function_name = :function_name AND qualifier = :qualifier"
)
DELETE_URL = "DELETE FROM function_url_configs WHERE function_name = :function_name AND qualifier = :qualifier"
DELETE_URLS_OF = "DELETE FROM function_url_configs WHERE function_name = :function_name"


def route_params(route: HttpRoute) -> dict[str, Any]:
    return {
        "id": route.id,
        "method": route.method,
        "path": route.path,
        "path_shape": parse_path(route.path).shape_text,
        "function_name": route.function_name,
        "qualifier": route.qualifier,
        "payload_format": route.payload_format,
        "created_at": route.created_at,
    }


def route_from_row(row: Row) -> HttpRoute:
    return HttpRoute(
        id=row["id"],
        method=row["method"],
        path=row["path"],
        function_name=row["function_name"],
        qualifier=row["qualifier"],
        payload_format=row["payload_format"],
        created_at=float(row["created_at"]),
    )


def url_params(config: FunctionUrlConfig) -> dict[str, Any]:
    return {
        "function_name": config.function_name,
        "qualifier": config.qualifier,
        "url_id": config.url_id,
        "auth_type": config.auth_type,
        "cors": None if config.cors is None else json.dumps(dict(config.cors), sort_keys=True),
        "invoke_mode": config.invoke_mode,
        "created_at": config.created_at,
        "last_modified": config.last_modified,
    }


def url_from_row(row: Row) -> FunctionUrlConfig:
    return FunctionUrlConfig(
        function_name=row["function_name"],
        qualifier=row["qualifier"],
        url_id=row["url_id"],
        auth_type=row["auth_type"],
        cors=None if row["cors"] is None else json.loads(row["cors"]),
        invoke_mode=row["invoke_mode"],
        created_at=float(row["created_at"]),
        last_modified=float(row["last_modified"]),
    )


def route_order(route: HttpRoute) -> tuple[bytes, str, bytes]:
    """The listing order (byte-wise, on every backend)."""
    return route.path.encode(), route.method, route.id.encode()


def url_order(config: FunctionUrlConfig) -> tuple[bytes, bytes]:
    return config.function_name.encode(), config.qualifier.encode()


class HttpRouteSqlStore(abc.ABC):
    """The route and function URL methods of ``Store`` for ``SqlStore``, which provides the transactions."""

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def insert_http_route(self, route: HttpRoute) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(INSERT_ROUTE, route_params(route)) == 1

    def get_http_route(self, route_id: str) -> HttpRoute | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_ROUTE, {"id": route_id})
        return None if row is None else route_from_row(row)

    def list_http_routes(self, function_name: str | None = None) -> list[HttpRoute]:
        with self._transaction(write=False) as tx:
            if function_name is None:
                found = tx.all(LIST_ROUTES)
            else:
                found = tx.all(LIST_ROUTES_OF, {"function_name": function_name})
        return sorted((route_from_row(row) for row in found), key=route_order)

    def delete_http_route(self, route_id: str) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(DELETE_ROUTE, {"id": route_id}) > 0

    def insert_function_url_config(self, config: FunctionUrlConfig) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(INSERT_URL, url_params(config)) == 1

    def get_function_url_config(self, function_name: str, qualifier: str) -> FunctionUrlConfig | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_URL, {"function_name": function_name, "qualifier": qualifier})
        return None if row is None else url_from_row(row)

    def get_function_url_config_by_id(self, url_id: str) -> FunctionUrlConfig | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_URL_BY_ID, {"url_id": url_id})
        return None if row is None else url_from_row(row)

    def list_function_url_configs(self, function_name: str | None = None) -> list[FunctionUrlConfig]:
        with self._transaction(write=False) as tx:
            if function_name is None:
                found = tx.all(LIST_URLS)
            else:
                found = tx.all(LIST_URLS_OF, {"function_name": function_name})
        return sorted((url_from_row(row) for row in found), key=url_order)

    def update_function_url_config(self, config: FunctionUrlConfig) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(UPDATE_URL, url_params(config)) == 1

    def delete_function_url_config(self, function_name: str, qualifier: str) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(DELETE_URL, {"function_name": function_name, "qualifier": qualifier}) > 0

    def _delete_http_triggers_of(self, tx: Tx, function_name: str) -> None:
        """Inside the transaction that deletes a function: its routes and function URLs go with it."""
        tx.execute(DELETE_ROUTES_OF, {"function_name": function_name})
        tx.execute(DELETE_URLS_OF, {"function_name": function_name})
