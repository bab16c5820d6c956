"""``ParameterSqlStore``: the function-parameters part of ``SqlStore`` (a mixin, as ``SecretSqlStore`` is), with
its queries, written once for SQLite and PostgreSQL (migration 0015). A put is one upsert on the function's name
(or a delete, for an empty declaration); ``SqlStore.delete_function`` deletes the row in its transaction."""

from __future__ import annotations

import abc
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from lambdahost.core.parameters import Parameter, from_json, to_json

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx

PARAMETER_COLUMNS = ("function_name", "parameters", "updated_at")

PUT_PARAMETERS = (
    f"INSERT INTO function_parameters ({', '.join(PARAMETER_COLUMNS)}) VALUES (:name, :parameters, :now) "
    "ON CONFLICT (function_name) DO UPDATE SET parameters = excluded.parameters, updated_at = excluded.updated_at"
)
GET_PARAMETERS = "SELECT parameters FROM function_parameters WHERE function_name = :name"
DELETE_PARAMETERS = "DELETE FROM function_parameters WHERE function_name = :name"


class ParameterSqlStore(abc.ABC):
    """The parameter methods of ``Store`` for ``SqlStore``, which provides the transactions."""

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def put_function_parameters(self, function_name: str, declared: tuple[Parameter, ...], now: float) -> None:
        with self._transaction(write=True) as tx:
            if declared:
                tx.execute(PUT_PARAMETERS, {"name": function_name, "parameters": to_json(declared), "now": now})
            else:
                tx.execute(DELETE_PARAMETERS, {"name": function_name})

    def get_function_parameters(self, function_name: str) -> tuple[Parameter, ...]:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_PARAMETERS, {"name": function_name})
        return () if row is None else from_json(row["parameters"])

    def _delete_parameters_of(self, tx: Tx, function_name: str) -> None:
        tx.execute(DELETE_PARAMETERS, {"name": function_name})
