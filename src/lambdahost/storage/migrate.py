"""Numbered, forward-only schema migrations, shared by every SQL adapter.

Migrations are package data: ``storage/migrations/<dialect>/NNNN_description.sql``, numbered from 0001 without
gaps. Each dialect has its own files with the same numbers. ``apply_migrations`` records every applied version in
``schema_migrations`` and runs the pending ones in order, inside the caller's transaction. The caller provides the
mutual exclusion between processes (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so two processes
migrating at once apply each migration exactly once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from lambdahost.core.errors import StorageError
from lambdahost.storage import queries as q

_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


class MigrationTx(Protocol):
    """What the runner needs from an open transaction."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int: ...

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Mapping[str, Any]]: ...

    def script(self, sql: str) -> None:
        """Run a parameterless script of several statements."""


@functools.cache
def load_migrations(dialect: str) -> tuple[Migration, ...]:
    """The migrations shipped for ``dialect`` (``sqlite`` or ``postgresql``), ordered by version."""
    folder = resources.files("lambdahost.storage") / "migrations" / dialect
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_RE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise StorageError(f"Migrations for {dialect} must be numbered 1..n without gaps, found {versions}")
    return tuple(found)


def applied_versions(tx: MigrationTx) -> set[int]:
    return {int(row["version"]) for row in tx.all(q.APPLIED_VERSIONS)}


def apply_migrations(tx: MigrationTx, migrations: Sequence[Migration], now: float) -> list[int]:
    """Apply the migrations not yet recorded, in order; return their versions (empty when up to date)."""
    tx.execute(q.CREATE_SCHEMA_MIGRATIONS)
    done = applied_versions(tx)
    applied: list[int] = []
    for migration in migrations:
        if migration.version in done:
            continue
        tx.script(migration.sql)
        tx.execute(q.RECORD_MIGRATION, {"version": migration.version, "name": migration.name, "applied_at": now})
        applied.append(migration.version)
    return applied
