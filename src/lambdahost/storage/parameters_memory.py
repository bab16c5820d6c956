"""The in-memory fake of ``ParameterStore`` (a mixin of ``InMemoryStore``), with the SQL stores' semantics."""

from __future__ import annotations

import threading

from lambdahost.core.parameters import Parameter


class ParameterMemoryStore:
    _lock: threading.Lock

    def _init_parameters(self) -> None:
        self._parameters: dict[str, tuple[Parameter, ...]] = {}

    def put_function_parameters(self, function_name: str, declared: tuple[Parameter, ...], now: float) -> None:
        with self._lock:
            if declared:
                self._parameters[function_name] = declared
            else:
                self._parameters.pop(function_name, None)

    def get_function_parameters(self, function_name: str) -> tuple[Parameter, ...]:
        with self._lock:
            return self._parameters.get(function_name, ())
