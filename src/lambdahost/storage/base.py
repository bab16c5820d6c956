"""The storage port. Every database access in lambdahost goes through ``Store``.

Implementations: ``SqliteStore`` (default, a WAL file in the data directory) and ``PostgresStore``. Both pass the
same contract suite (``tests/integration/test_store_contract.py``). Driver errors are translated to
``StorageError`` at the adapter; "not found" and "already exists" become the AWS errors the API returns.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from lambdahost.core.model import (
    CodePackage,
    FunctionConfig,
    Invocation,
    InvocationStatus,
    Transition,
)


class Store(abc.ABC):
    """Durable state of the platform."""

    url: str

    # -- lifecycle -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def migrate(self) -> list[int]:
        """Apply pending numbered migrations; return the versions applied."""

    @abc.abstractmethod
    def schema_version(self) -> int: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    # -- code packages ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def put_package(self, package: CodePackage, data: bytes) -> CodePackage:
        """Record a package and its zip bytes (so every worker machine can fetch it); idempotent: returns the
        stored record if the sha256 already exists."""

    @abc.abstractmethod
    def get_package(self, sha256_hex: str) -> CodePackage | None: ...

    @abc.abstractmethod
    def get_package_data(self, sha256_hex: str) -> bytes | None:
        """The zip bytes of a package, or None."""

    @abc.abstractmethod
    def delete_package(self, sha256_hex: str) -> None: ...

    @abc.abstractmethod
    def package_in_use(self, sha256_hex: str) -> bool:
        """True when any function still references the package."""

    # -- functions -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_function(self, config: FunctionConfig) -> FunctionConfig:
        """Insert; raises ``ResourceConflict`` ("Function already exist: NAME") if the name is taken."""

    @abc.abstractmethod
    def get_function(self, name: str) -> FunctionConfig | None: ...

    @abc.abstractmethod
    def list_functions(self, marker: str | None, limit: int) -> tuple[list[FunctionConfig], str | None]:
        """Functions ordered by name, after ``marker``; returns (page, next marker or None)."""

    @abc.abstractmethod
    def update_function(self, config: FunctionConfig, expected_revision: str | None = None) -> FunctionConfig:
        """Replace the stored config. With ``expected_revision``, fail with ``PreconditionFailed`` when the
        stored revision differs (optimistic concurrency). Raises ``ResourceNotFound`` when absent."""

    @abc.abstractmethod
    def delete_function(self, name: str) -> bool:
        """Delete; True if it existed."""

    @abc.abstractmethod
    def total_reserved_concurrency(self, excluding: str | None = None) -> int:
        """Sum of reserved concurrency over all functions (optionally leaving one out)."""

    # -- invocations -----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_invocations(self, invocations: Sequence[Invocation]) -> None:
        """Insert finished or new invocation records with their transitions, in one transaction."""

    @abc.abstractmethod
    def record_transition(
        self,
        invocation_id: str,
        transition: Transition,
        *,
        expected: InvocationStatus | None = None,
        changes: Invocation | None = None,
    ) -> bool:
        """Move an invocation to ``transition.status``. With ``expected``, only if it is currently in that
        status (returns False otherwise). ``changes`` carries result fields to store with a final status."""

    @abc.abstractmethod
    def get_invocation(self, invocation_id: str) -> Invocation | None:
        """The invocation with its transitions in order."""

    @abc.abstractmethod
    def list_invocations(
        self,
        function_name: str | None = None,
        status: InvocationStatus | None = None,
        limit: int = 50,
        before: float | None = None,
    ) -> list[Invocation]:
        """Newest first (by created_at), without payload/result/log bodies loaded (empty) for speed;
        ``before`` pages by created_at."""

    @abc.abstractmethod
    def invocation_logs_after(self, function_name: str, after: tuple[float, str], limit: int = 100) -> list[Invocation]:
        """A page of a function's finished invocations, logs included (for ``lambdahost logs``): those whose
        ``(finished_at, id)`` comes after ``after``, ordered by ``(finished_at, id)``. Pass the key of the last
        invocation of a page to get the next one: every invocation is returned once even when many share one
        ``finished_at``. ``(t, "")`` starts at the first invocation that finished at ``t`` or later."""

    @abc.abstractmethod
    def delete_invocations_of(self, function_name: str) -> int: ...


def open_store(url: str) -> Store:
    """Open a store from a URL: ``sqlite:///path/to/file.db``, ``postgresql://...`` or ``memory://`` (tests)."""
    if url == "memory://":
        from lambdahost.storage.memory import InMemoryStore

        return InMemoryStore()
    if url.startswith("sqlite:///"):
        from lambdahost.storage.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from lambdahost.storage.postgres import PostgresStore

        return PostgresStore(url)
    from lambdahost.core.errors import InvalidParameterValue

    raise InvalidParameterValue(f"Unsupported store URL {url!r}: use sqlite:///PATH or postgresql://...")
