"""``FunctionListingSqlStore``: ``Store.last_invocations`` and ``Store.trigger_counts`` for ``SqlStore`` (a mixin, as
``ParameterSqlStore`` is), one statement each for a page of functions, on both dialects.

The newest invocation of each name is a correlated ``LIMIT 1`` on ``invocations_function_created`` (the index the
function's history reads, walked backwards once per name); the trigger counts are four index lookups by
``function_name`` (``schedules_function``, ``event_source_mappings_function``, ``http_routes_function`` and the
primary key of ``function_url_configs``), added up."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from lambdahost.core.model import Invocation
from lambdahost.storage import rows
from lambdahost.storage.function_listing import checked_names
from lambdahost.storage.rows import SUMMARY_COLUMNS

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx

_TRIGGER_TABLES = ("schedules", "event_source_mappings", "http_routes", "function_url_configs")


def _names(function_names: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """``:f0, :f1, ...`` and their values: the distinct names, in order."""
    chosen = checked_names(function_names)
    return ", ".join(f":f{n}" for n in range(len(chosen))), {f"f{n}": name for n, name in enumerate(chosen)}


def last_invocations_sql(count: int) -> str:
    newest = (
        "SELECT (SELECT j.id FROM invocations j WHERE j.function_name = n.name "
        "ORDER BY j.created_at DESC, j.id DESC LIMIT 1) FROM ({names}) n"
    )
    names = " UNION ALL ".join(f"SELECT CAST(:f{n} AS TEXT) AS name" for n in range(count))
    columns = ", ".join(SUMMARY_COLUMNS)
    return f"SELECT {columns} FROM invocations WHERE id IN ({newest.format(names=names)})"


def trigger_counts_sql(placeholders: str) -> str:
    parts = " UNION ALL ".join(
        f"SELECT function_name FROM {table} WHERE function_name IN ({placeholders})" for table in _TRIGGER_TABLES
    )
    return f"SELECT function_name, COUNT(*) AS n FROM ({parts}) t GROUP BY function_name"


class FunctionListingSqlStore(abc.ABC):
    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def last_invocations(self, function_names: Sequence[str]) -> dict[str, Invocation]:
        _, params = _names(function_names)
        if not params:
            return {}
        with self._transaction(write=False) as tx:
            found = tx.all(last_invocations_sql(len(params)), params)
        return {row["function_name"]: rows.invocation_from_row(row) for row in found}

    def trigger_counts(self, function_names: Sequence[str]) -> dict[str, int]:
        placeholders, params = _names(function_names)
        if not params:
            return {}
        with self._transaction(write=False) as tx:
            found = tx.all(trigger_counts_sql(placeholders), params)
        return {row["function_name"]: int(row["n"]) for row in found}
