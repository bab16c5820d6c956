"""The ``Store`` contract for code packages and functions: every test runs against SQLite (a real file) and
PostgreSQL (a fresh database). Invocations are in ``test_store_contract_invocations.py``. Adapter-specific checks
(SQLite pragmas, PostgreSQL connection failures) are at the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdahost.core.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
    StorageError,
)
from lambdahost.core.model import FunctionState, UpdateStatus
from lambdahost.storage.base import Store
from lambdahost.storage.migrate import load_migrations
from lambdahost.storage.postgres import PostgresStore
from lambdahost.storage.queries import to_pyformat
from lambdahost.storage.sqlite import SqliteStore
from tests.integration.records import SHA_A, SHA_B, function, package


# -- lifecycle -------------------------------------------------------------------------------------------------------
def test_migrated_store_is_at_the_latest_version_and_migrates_nothing(store: Store) -> None:
    assert store.schema_version() == load_migrations("sqlite")[-1].version
    assert store.migrate() == []


def test_closed_store_raises_storage_error_and_closes_twice(store: Store) -> None:
    store.close()
    with pytest.raises(StorageError):
        store.get_function("fn")
    store.close()


# -- code packages ---------------------------------------------------------------------------------------------------
def test_package_roundtrip(store: Store) -> None:
    data = bytes(range(256)) * 4
    assert store.put_package(package(), data) == package()
    assert store.get_package(SHA_A) == package()
    assert store.get_package_data(SHA_A) == data


def test_put_package_is_idempotent_and_keeps_the_first_record(store: Store) -> None:
    store.put_package(package(created_at=1.0), b"first")
    again = store.put_package(package(created_at=2.0), b"second")
    assert again.created_at == 1.0
    assert store.get_package(SHA_A) == package(created_at=1.0)
    assert store.get_package_data(SHA_A) == b"first"


def test_missing_package_is_none_and_deleting_it_is_harmless(store: Store) -> None:
    assert store.get_package(SHA_B) is None
    assert store.get_package_data(SHA_B) is None
    store.delete_package(SHA_B)
    assert store.package_in_use(SHA_B) is False


def test_delete_package_removes_only_that_package(store: Store) -> None:
    store.put_package(package(SHA_A), b"a")
    store.put_package(package(SHA_B), b"b")
    store.delete_package(SHA_A)
    assert store.get_package(SHA_A) is None
    assert store.get_package_data(SHA_A) is None
    assert store.get_package_data(SHA_B) == b"b"


def test_package_in_use_follows_the_functions_that_reference_it(store: Store) -> None:
    store.put_package(package(SHA_A), b"a")
    assert not store.package_in_use(SHA_A)
    store.create_function(function("one"))
    store.create_function(function("two"))
    assert store.package_in_use(SHA_A)
    store.delete_function("one")
    assert store.package_in_use(SHA_A)
    store.update_function(function("two", code_sha256_hex=SHA_B))
    assert not store.package_in_use(SHA_A)
    assert store.package_in_use(SHA_B)


# -- functions -------------------------------------------------------------------------------------------------------
def test_function_roundtrip_with_every_field_set(store: Store) -> None:
    config = function(
        description="Ünïcode description ✓",
        timeout_s=900,
        memory_mb=10240,
        ephemeral_storage_mb=2048,
        environment={"GREETING": "héllo 🚀", "EMPTY": "", "QUOTE": '"{x}"'},
        tags={"team": "perf", "ключ": "значение"},
        architectures=("arm64",),
        reserved_concurrency=7,
        dead_letter_target="arn:aws:sqs:us-east-1:000000000000:dlq",
        log_format="JSON",
        log_group="/custom/group",
        state=FunctionState.FAILED,
        state_reason="Init failed",
        state_reason_code="InvalidZipFileException",
        last_update_status=UpdateStatus.IN_PROGRESS,
        version="7",
    )
    assert store.create_function(config) == config
    assert store.get_function("fn") == config


def test_function_defaults_roundtrip(store: Store) -> None:
    store.create_function(function())
    stored = store.get_function("fn")
    assert stored == function()
    assert stored is not None
    assert stored.environment == {}
    assert stored.architectures == ("x86_64",)
    assert stored.reserved_concurrency is None


def test_create_existing_name_conflicts_and_keeps_the_original(store: Store) -> None:
    store.create_function(function(handler="original.handler"))
    with pytest.raises(ResourceConflict, match=r"^Function already exist: fn$"):
        store.create_function(function(handler="other.handler"))
    stored = store.get_function("fn")
    assert stored is not None
    assert stored.handler == "original.handler"


def test_get_missing_function_is_none(store: Store) -> None:
    assert store.get_function("nope") is None


def test_update_replaces_the_whole_config(store: Store) -> None:
    store.create_function(function(environment={"A": "1"}, reserved_concurrency=3))
    new = function(environment={"B": "2"}, reserved_concurrency=None, memory_mb=256, revision_id="rev-2")
    assert store.update_function(new) == new
    assert store.get_function("fn") == new


@pytest.mark.parametrize("expected_revision", [None, "rev-1"])
def test_update_missing_function_is_not_found(store: Store, expected_revision: str | None) -> None:
    with pytest.raises(ResourceNotFound, match=r"^Function not found: ghost$"):
        store.update_function(function("ghost"), expected_revision=expected_revision)
    assert store.get_function("ghost") is None


def test_update_with_the_current_revision_succeeds(store: Store) -> None:
    store.create_function(function(revision_id="rev-1"))
    store.update_function(function(revision_id="rev-2", timeout_s=60), expected_revision="rev-1")
    stored = store.get_function("fn")
    assert stored is not None
    assert (stored.revision_id, stored.timeout_s) == ("rev-2", 60)


def test_update_with_a_stale_revision_fails_and_changes_nothing(store: Store) -> None:
    store.create_function(function(revision_id="rev-1"))
    store.update_function(function(revision_id="rev-2"), expected_revision="rev-1")
    with pytest.raises(PreconditionFailed, match="does not match the latest Revision Id"):
        store.update_function(function(revision_id="rev-3", timeout_s=99), expected_revision="rev-1")
    stored = store.get_function("fn")
    assert stored is not None
    assert (stored.revision_id, stored.timeout_s) == ("rev-2", 3)


def test_delete_function_reports_whether_it_existed(store: Store) -> None:
    store.create_function(function())
    assert store.delete_function("fn") is True
    assert store.delete_function("fn") is False
    assert store.get_function("fn") is None


def test_list_functions_of_an_empty_store(store: Store) -> None:
    assert store.list_functions(None, 50) == ([], None)


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 6])
def test_list_functions_pages_cover_everything_once(store: Store, limit: int) -> None:
    names = ["e", "a", "d", "b", "c"]
    for name in names:
        store.create_function(function(name))
    seen: list[str] = []
    marker: str | None = None
    for _ in range(10):
        page, marker = store.list_functions(marker, limit)
        assert 1 <= len(page) <= limit
        seen += [f.name for f in page]
        if marker is None:
            break
        assert marker == page[-1].name
        assert len(page) == limit
    assert seen == sorted(names)


def test_list_functions_marker_between_names_and_after_the_last(store: Store) -> None:
    for name in ["alpha", "beta", "gamma"]:
        store.create_function(function(name))
    page, marker = store.list_functions("b", 1)
    assert ([f.name for f in page], marker) == (["beta"], "beta")
    assert store.list_functions("beta", 5)[0][0].name == "gamma"
    assert store.list_functions("gamma", 5) == ([], None)
    assert store.list_functions("zzz", 5) == ([], None)


def test_list_functions_orders_names_bytewise(store: Store) -> None:
    names = ["a", "B", "_x", "-y", "Z9", "b-1", "b_1"]
    for name in names:
        store.create_function(function(name))
    assert [f.name for f in store.list_functions(None, 50)[0]] == sorted(names)


@pytest.mark.parametrize("limit", [0, -1])
def test_list_functions_rejects_a_limit_below_one(store: Store, limit: int) -> None:
    with pytest.raises(InvalidParameterValue):
        store.list_functions(None, limit)


def test_total_reserved_concurrency_sums_and_excludes(store: Store) -> None:
    assert store.total_reserved_concurrency() == 0
    store.create_function(function("a", reserved_concurrency=10))
    store.create_function(function("b", reserved_concurrency=None))
    store.create_function(function("c", reserved_concurrency=5))
    store.create_function(function("d", reserved_concurrency=0))
    assert store.total_reserved_concurrency() == 15
    assert store.total_reserved_concurrency(excluding="a") == 5
    assert store.total_reserved_concurrency(excluding="b") == 15
    assert store.total_reserved_concurrency(excluding="missing") == 15


# -- adapter specifics -----------------------------------------------------------------------------------------------
def test_sqlite_store_creates_its_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "store.db"
    store = SqliteStore(str(path))
    try:
        assert store.migrate() == [m.version for m in load_migrations("sqlite")]
        assert path.is_file()
        with store._transaction(write=False) as tx:
            pragmas = {name: tx.one(f"PRAGMA {name}") for name in ("journal_mode", "synchronous", "foreign_keys")}
        assert pragmas == {
            "journal_mode": {"journal_mode": "wal"},
            "synchronous": {"synchronous": 1},
            "foreign_keys": {"foreign_keys": 1},
        }
        assert store.url == f"sqlite:///{path}"
    finally:
        store.close()


def test_sqlite_store_under_a_file_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StorageError, match="Cannot create the directory"):
        SqliteStore(str(tmp_path / "file" / "store.db"))


def test_unreachable_postgres_is_a_storage_error_that_says_why() -> None:
    with pytest.raises(StorageError, match=r"Cannot connect to PostgreSQL: .*refused"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/none", connect_timeout_s=0.3)


def test_placeholders_translate_to_pyformat_for_psycopg() -> None:
    sql = "SELECT a::text, '100%' FROM t WHERE a = :a AND b_2 = :b_2 OR c = :a"
    assert to_pyformat(sql) == "SELECT a::text, '100%%' FROM t WHERE a = %(a)s AND b_2 = %(b_2)s OR c = %(a)s"
