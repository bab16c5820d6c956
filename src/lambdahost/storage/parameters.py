"""The storage port of function parameters, which ``Store`` inherits.

A function's declared parameters (``core/parameters.py``) are one row of ``function_parameters`` (migration 0015):
the declaration as JSON text, keyed by the function's name, deleted with the function. Implemented once for SQL
(``parameters_sql.ParameterSqlStore``) and once for the in-memory fake (``parameters_memory``).
"""

from __future__ import annotations

import abc

from lambdahost.core.parameters import Parameter


class ParameterStore(abc.ABC):
    """Durable parameter declarations."""

    @abc.abstractmethod
    def put_function_parameters(self, function_name: str, declared: tuple[Parameter, ...], now: float) -> None:
        """Replace the function's declaration, whole; an empty one deletes the row."""

    @abc.abstractmethod
    def get_function_parameters(self, function_name: str) -> tuple[Parameter, ...]:
        """The declaration; empty when the function declares none."""
