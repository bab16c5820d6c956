"""An in-memory ``Store``: the fake beside the port, for unit tests of the layers above storage.

Same semantics as the real stores (conflicts, not-found, revision checks, lifecycle checks), no durability.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from lambdahost.core.errors import InvalidParameterValue, PreconditionFailed, ResourceConflict, ResourceNotFound
from lambdahost.core.lifecycle import check_transition
from lambdahost.core.model import CodePackage, FunctionConfig, Invocation, InvocationStatus, Transition
from lambdahost.storage.base import Store
from lambdahost.storage.rows import RESULT_COLUMNS


class InMemoryStore(Store):
    def __init__(self) -> None:
        self.url = "memory://"
        self._lock = threading.Lock()
        self._packages: dict[str, tuple[CodePackage, bytes]] = {}
        self._functions: dict[str, FunctionConfig] = {}
        self._invocations: dict[str, Invocation] = {}

    def migrate(self) -> list[int]:
        return []

    def schema_version(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def put_package(self, package: CodePackage, data: bytes) -> CodePackage:
        with self._lock:
            return self._packages.setdefault(package.sha256_hex, (package, data))[0]

    def get_package(self, sha256_hex: str) -> CodePackage | None:
        entry = self._packages.get(sha256_hex)
        return entry[0] if entry else None

    def get_package_data(self, sha256_hex: str) -> bytes | None:
        entry = self._packages.get(sha256_hex)
        return entry[1] if entry else None

    def delete_package(self, sha256_hex: str) -> None:
        with self._lock:
            self._packages.pop(sha256_hex, None)

    def package_in_use(self, sha256_hex: str) -> bool:
        return any(f.code_sha256_hex == sha256_hex for f in self._functions.values())

    def create_function(self, config: FunctionConfig) -> FunctionConfig:
        with self._lock:
            if config.name in self._functions:
                raise ResourceConflict(f"Function already exist: {config.name}")
            self._functions[config.name] = config
            return config

    def get_function(self, name: str) -> FunctionConfig | None:
        return self._functions.get(name)

    def list_functions(self, marker: str | None, limit: int) -> tuple[list[FunctionConfig], str | None]:
        names = sorted(n for n in self._functions if marker is None or n > marker)
        page = [self._functions[n] for n in names[:limit]]
        return page, (page[-1].name if len(names) > limit else None)

    def update_function(self, config: FunctionConfig, expected_revision: str | None = None) -> FunctionConfig:
        with self._lock:
            current = self._functions.get(config.name)
            if current is None:
                raise ResourceNotFound(f"Function not found: {config.name}")
            if expected_revision is not None and current.revision_id != expected_revision:
                raise PreconditionFailed(
                    "The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetFunction/GetAlias API to retrieve the latest Revision Id"
                )
            self._functions[config.name] = config
            return config

    def delete_function(self, name: str) -> bool:
        with self._lock:
            return self._functions.pop(name, None) is not None

    def total_reserved_concurrency(self, excluding: str | None = None) -> int:
        return sum(f.reserved_concurrency or 0 for f in self._functions.values() if f.name != excluding)

    def insert_invocations(self, invocations: Sequence[Invocation]) -> None:
        with self._lock:
            for inv in invocations:
                self._invocations[inv.id] = inv

    def record_transition(
        self,
        invocation_id: str,
        transition: Transition,
        *,
        expected: InvocationStatus | None = None,
        changes: Invocation | None = None,
    ) -> bool:
        with self._lock:
            inv = self._invocations.get(invocation_id)
            if inv is None or (expected is not None and inv.status is not expected):
                return False
            check_transition(inv.status, transition.status)
            fields = {name: getattr(changes, name) for name in RESULT_COLUMNS} if changes else {}
            self._invocations[invocation_id] = inv.replace(
                status=transition.status, transitions=(*inv.transitions, transition), **fields
            )
            return True

    def get_invocation(self, invocation_id: str) -> Invocation | None:
        return self._invocations.get(invocation_id)

    def list_invocations(
        self,
        function_name: str | None = None,
        status: InvocationStatus | None = None,
        limit: int = 50,
        before: float | None = None,
    ) -> list[Invocation]:
        rows = [
            inv.replace(payload=b"", result=None, log="", transitions=())
            for inv in self._invocations.values()
            if (function_name is None or inv.function_name == function_name)
            and (status is None or inv.status is status)
            and (before is None or inv.created_at < before)
        ]
        return sorted(rows, key=lambda inv: inv.created_at, reverse=True)[:limit]

    def invocation_logs_after(self, function_name: str, after: tuple[float, str], limit: int = 100) -> list[Invocation]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        keyed: list[tuple[tuple[float, str], Invocation]] = [
            ((inv.finished_at, inv.id), inv)
            for inv in self._invocations.values()
            if inv.function_name == function_name and inv.finished_at is not None
        ]
        page = sorted((pair for pair in keyed if pair[0] > after), key=lambda pair: pair[0])[:limit]
        return [inv.replace(payload=b"", result=None, transitions=()) for _, inv in page]

    def delete_invocations_of(self, function_name: str) -> int:
        with self._lock:
            doomed = [k for k, v in self._invocations.items() if v.function_name == function_name]
            for key in doomed:
                del self._invocations[key]
            return len(doomed)
