"""Schema migrations: idempotent, atomic, safe to run concurrently, and the migrated schema equals the declared one.

The declared schema below is the single expectation for both dialects: the introspected SQLite schema (via
``sqlite_master``/``PRAGMA``) and PostgreSQL schema (via ``information_schema``/``pg_catalog``) must both equal it,
so the two migration files cannot drift apart, nor from the row mapping in ``storage.rows``.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from lambdahost.core.errors import StorageError
from lambdahost.core.model import Invocation, Transition
from lambdahost.storage import rows
from lambdahost.storage.base import Store, open_store
from lambdahost.storage.event_source_mappings_sql import MAPPING_COLUMNS
from lambdahost.storage.http_routes_sql import ROUTE_COLUMNS, URL_COLUMNS
from lambdahost.storage.migrate import Migration, apply_migrations, load_migrations
from lambdahost.storage.parameters_sql import PARAMETER_COLUMNS
from lambdahost.storage.secrets_sql import SECRET_COLUMNS
from lambdahost.storage.sql import SqlStore
from lambdahost.storage.sqlite import split_script
from lambdahost.storage.streams_sql import LEASE_COLUMNS, RECORD_COLUMNS, SHARD_COLUMNS, STREAM_COLUMNS
from tests.integration.records import FULL, S, invocation

# table -> [(column, logical type, nullable)] in declaration order
DECLARED_COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "function_parameters": [
        ("function_name", "text", False),
        ("parameters", "text", False),
        ("updated_at", "float", False),
    ],
    "artifacts": [
        ("invocation_id", "text", False),
        ("name", "text", False),
        ("size", "bigint", False),
        ("sha256", "text", False),
        ("content", "bytes", False),
        ("created_at", "float", False),
        ("expires_at", "float", False),
    ],
    "input_artifacts": [
        ("sha256", "text", False),
        ("size", "bigint", False),
        ("content", "bytes", False),
        ("created_at", "float", False),
        ("expires_at", "float", False),
    ],
    "secrets": [
        ("name", "text", False),
        ("ciphertext", "bytes", False),
        ("nonce", "bytes", False),
        ("created_at", "float", False),
        ("updated_at", "float", False),
    ],
    "http_routes": [
        ("id", "text", False),
        ("method", "text", False),
        ("path", "text", False),
        ("path_shape", "text", False),
        ("function_name", "text", False),
        ("qualifier", "text", False),
        ("payload_format", "text", False),
        ("created_at", "float", False),
    ],
    "function_url_configs": [
        ("function_name", "text", False),
        ("qualifier", "text", False),
        ("url_id", "text", False),
        ("auth_type", "text", False),
        ("cors", "text", True),
        ("invoke_mode", "text", False),
        ("created_at", "float", False),
        ("last_modified", "float", False),
    ],
    "schema_migrations": [("version", "int", False), ("name", "text", False), ("applied_at", "float", False)],
    "packages": [
        ("sha256_hex", "text", False),
        ("size", "bigint", False),
        ("unzipped_size", "bigint", False),
        ("entries", "int", False),
        ("created_at", "float", False),
        ("data", "bytes", False),
    ],
    "functions": [
        ("name", "text", False),
        ("runtime", "text", False),
        ("handler", "text", False),
        ("role", "text", False),
        ("code_sha256_hex", "text", False),
        ("code_size", "bigint", False),
        ("revision_id", "text", False),
        ("last_modified", "float", False),
        ("description", "text", False),
        ("timeout_s", "int", False),
        ("memory_mb", "int", False),
        ("ephemeral_storage_mb", "int", False),
        ("environment", "text", False),
        ("tags", "text", False),
        ("architectures", "text", False),
        ("reserved_concurrency", "int", True),
        ("dead_letter_target", "text", True),
        ("log_format", "text", False),
        ("log_group", "text", True),
        ("state", "text", False),
        ("state_reason", "text", True),
        ("state_reason_code", "text", True),
        ("last_update_status", "text", False),
        ("version", "text", False),
        ("lanes", "text", True),
    ],
    "invocations": [
        ("id", "text", False),
        ("function_name", "text", False),
        ("version", "text", False),
        ("type", "text", False),
        ("status", "text", False),
        ("created_at", "float", False),
        ("lane", "int", False),
        ("attempt", "int", False),
        ("payload", "bytes", False),
        ("result", "bytes", True),
        ("function_error", "text", True),
        ("error_type", "text", True),
        ("error_message", "text", True),
        ("log", "text", False),
        ("log_truncated", "bool", False),
        ("duration_ms", "float", True),
        ("billed_duration_ms", "bigint", True),
        ("init_duration_ms", "float", True),
        ("max_memory_mb", "int", True),
        ("memory_mb", "int", True),
        ("worker", "text", True),
        ("finished_at", "float", True),
        ("transitions", "json", False),
        ("available_at", "float", True),
        ("lease_owner", "text", True),
        ("lease_expires", "float", True),
        ("trace", "text", True),
        ("routed_to", "text", True),
        ("route_condition", "text", True),
    ],
    "workers": [
        ("id", "text", False),
        ("host", "text", False),
        ("pid", "int", False),
        ("started_at", "float", False),
        ("heartbeat_at", "float", False),
        ("stopped_at", "float", True),
    ],
    "event_invoke_configs": [
        ("function_name", "text", False),
        ("qualifier", "text", False),
        ("maximum_retry_attempts", "int", True),
        ("maximum_event_age_s", "int", True),
        ("on_success", "text", True),
        ("on_failure", "text", True),
        ("last_modified", "float", False),
    ],
    "provisioned_concurrency": [
        ("function_name", "text", False),
        ("qualifier", "text", False),
        ("requested", "int", False),
        ("last_modified", "float", False),
    ],
    "message_queues": [
        ("name", "text", False),
        ("fifo", "bool", False),
        ("content_based_deduplication", "bool", False),
        ("visibility_timeout_s", "int", False),
        ("delay_s", "int", False),
        ("retention_s", "int", False),
        ("maximum_message_size", "int", False),
        ("receive_wait_s", "int", False),
        ("redrive_policy", "text", True),
        ("extra_attributes", "text", False),
        ("tags", "text", False),
        ("created_at", "float", False),
        ("modified_at", "float", False),
        ("next_sequence", "bigint", False),
    ],
    "messages": [
        ("id", "text", False),
        ("queue_name", "text", False),
        ("sequence", "bigint", False),
        ("body", "text", False),
        ("attributes", "text", False),
        ("system_attributes", "text", False),
        ("sent_at", "float", False),
        ("visible_at", "float", False),
        ("receive_count", "int", False),
        ("first_received_at", "float", True),
        ("receipt_token", "text", True),
        ("group_id", "text", True),
        ("dedup_id", "text", True),
        ("source_arn", "text", True),
    ],
    "message_deduplication": [
        ("queue_name", "text", False),
        ("dedup_id", "text", False),
        ("message_id", "text", False),
        ("sequence", "bigint", False),
        ("expires_at", "float", False),
    ],
    "schedules": [
        ("name", "text", False),
        ("expression", "text", False),
        ("timezone", "text", False),
        ("function_name", "text", False),
        ("qualifier", "text", False),
        ("input", "text", True),
        ("enabled", "bool", False),
        ("flexible_window_minutes", "int", False),
        ("start_date", "float", True),
        ("end_date", "float", True),
        ("created_at", "float", False),
        ("last_modified", "float", False),
        ("next_fire_at", "float", True),
        ("last_fired_at", "float", True),
        ("description", "text", False),
        ("kind", "text", False),
        ("role_arn", "text", True),
        ("retry_max_attempts", "int", True),
        ("retry_max_event_age_s", "int", True),
        ("dead_letter_arn", "text", True),
        ("action_after_completion", "text", False),
        ("kms_key_arn", "text", True),
    ],
    "mapping_slots": [
        ("mapping_uuid", "text", False),
        ("slot", "int", False),
        ("owner", "text", False),
        ("expires", "float", False),
    ],
    "event_source_mappings": [
        ("uuid", "text", False),
        ("function_name", "text", False),
        ("qualifier", "text", False),
        ("source_arn", "text", False),
        ("source_kind", "text", False),
        ("enabled", "bool", False),
        ("state", "text", False),
        ("state_transition_reason", "text", False),
        ("last_processing_result", "text", False),
        ("last_processing_at", "float", True),
        ("created_at", "float", False),
        ("last_modified", "float", False),
        ("batch_size", "int", False),
        ("maximum_batching_window_s", "int", False),
        ("filter_patterns", "text", False),
        ("function_response_types", "text", False),
        ("maximum_concurrency", "int", True),
        ("starting_position", "text", True),
        ("starting_position_timestamp", "float", True),
        ("parallelization_factor", "int", False),
        ("maximum_retry_attempts", "int", False),
        ("maximum_record_age_s", "int", False),
        ("bisect_batch_on_function_error", "bool", False),
        ("on_failure_destination", "text", True),
    ],
    "streams": [
        ("name", "text", False),
        ("region", "text", False),
        ("account", "text", False),
        ("shard_count", "int", False),
        ("retention_hours", "int", False),
        ("status", "text", False),
        ("created_at", "float", False),
    ],
    "stream_shards": [
        ("stream_name", "text", False),
        ("shard_id", "text", False),
        ("starting_hash_key", "text", False),
        ("ending_hash_key", "text", False),
        ("last_sequence", "bigint", False),
    ],
    "stream_records": [
        ("stream_name", "text", False),
        ("shard_id", "text", False),
        ("sequence", "bigint", False),
        ("sequence_number", "text", False),
        ("partition_key", "text", False),
        ("data", "bytes", False),
        ("explicit_hash_key", "text", True),
        ("arrival", "float", False),
    ],
    "stream_shard_leases": [
        ("mapping_uuid", "text", False),
        ("shard_id", "text", False),
        ("stream_name", "text", False),
        ("checkpoint", "bigint", True),
        ("lease_owner", "text", True),
        ("lease_expires", "float", False),
        ("last_arrival", "float", True),
        ("updated_at", "float", False),
    ],
}
DECLARED_PRIMARY_KEYS = {
    "artifacts": ("invocation_id", "name"),
    "input_artifacts": ("sha256",),
    "function_parameters": ("function_name",),
    "secrets": ("name",),
    "http_routes": ("id",),
    "function_url_configs": ("function_name", "qualifier"),
    "message_queues": ("name",),
    "messages": ("id",),
    "message_deduplication": ("queue_name", "dedup_id"),
    "schema_migrations": ("version",),
    "packages": ("sha256_hex",),
    "functions": ("name",),
    "invocations": ("id",),
    "workers": ("id",),
    "event_invoke_configs": ("function_name", "qualifier"),
    "provisioned_concurrency": ("function_name", "qualifier"),
    "schedules": ("name",),
    "mapping_slots": ("mapping_uuid", "slot"),
    "event_source_mappings": ("uuid",),
    "streams": ("name",),
    "stream_shards": ("stream_name", "shard_id"),
    "stream_records": ("stream_name", "shard_id", "sequence"),
    "stream_shard_leases": ("mapping_uuid", "shard_id"),
}
DECLARED_INDEXES = {
    "artifacts_expires": ("artifacts", ("expires_at",)),
    "input_artifacts_expires": ("input_artifacts", ("expires_at",)),
    "http_routes_key": ("http_routes", ("method", "path_shape")),
    "http_routes_function": ("http_routes", ("function_name",)),
    "function_url_configs_url_id": ("function_url_configs", ("url_id",)),
    "functions_code_sha256_hex": ("functions", ("code_sha256_hex",)),
    "invocations_function_created": ("invocations", ("function_name", "created_at")),
    "invocations_function_finished_id": ("invocations", ("function_name", "finished_at", "id")),
    "invocations_status": ("invocations", ("status", "created_at")),
    "invocations_created": ("invocations", ("created_at",)),
    "invocations_pending": ("invocations", ("function_name", "lane", "available_at", "id")),
    "invocations_unfinished": ("invocations", ("function_name", "lane", "status")),
    "invocations_lease_owner": ("invocations", ("lease_owner",)),
    "invocations_lease_expires": ("invocations", ("lease_expires",)),
    "invocations_leased": ("invocations", ("function_name", "lane")),
    "messages_queue_sequence": ("messages", ("queue_name", "sequence")),
    "messages_queue_group": ("messages", ("queue_name", "group_id", "visible_at")),
    "messages_queue_sent": ("messages", ("queue_name", "sent_at")),
    "message_deduplication_expires": ("message_deduplication", ("queue_name", "expires_at")),
    "schedules_due": ("schedules", ("next_fire_at", "name")),
    "schedules_function": ("schedules", ("function_name", "name")),
    "event_source_mappings_source": ("event_source_mappings", ("source_arn", "function_name", "qualifier")),
    "event_source_mappings_function": ("event_source_mappings", ("function_name", "uuid")),
    "stream_records_arrival": ("stream_records", ("stream_name", "arrival")),
    "stream_shard_leases_stream": ("stream_shard_leases", ("stream_name",)),
}
DECLARED_FOREIGN_KEYS: set[tuple[str, str, str, str, str]] = set()

# Logical type -> what introspection reports: SQLite's column affinity, PostgreSQL's data_type.
TYPES = {
    "sqlite": {
        "text": "TEXT",
        "int": "INTEGER",
        "bigint": "INTEGER",
        "float": "REAL",
        "bytes": "BLOB",
        "bool": "INTEGER",
        "json": "TEXT",
    },
    "postgresql": {
        "text": "text",
        "int": "integer",
        "bigint": "bigint",
        "float": "double precision",
        "bytes": "bytea",
        "bool": "boolean",
        "json": "jsonb",
    },
}


@dataclass
class Schema:
    columns: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    primary_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    indexes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    foreign_keys: set[tuple[str, str, str, str, str]] = field(default_factory=set)


def declared(dialect: str) -> Schema:
    types = TYPES[dialect]
    return Schema(
        columns={t: [(c, types[kind], null) for c, kind, null in cols] for t, cols in DECLARED_COLUMNS.items()},
        primary_keys=DECLARED_PRIMARY_KEYS,
        indexes=DECLARED_INDEXES,
        foreign_keys=DECLARED_FOREIGN_KEYS,
    )


def sqlite_affinity(declared_type: str) -> str:
    """SQLite's rules (https://sqlite.org/datatype3.html, 3.1) for the affinity of a declared column type."""
    upper = declared_type.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper:
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def introspect_sqlite(path: str) -> Schema:
    conn = sqlite3.connect(path)
    try:
        schema = Schema()
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            info = conn.execute(f"PRAGMA table_info({table})").fetchall()  # cid, name, type, notnull, default, pk
            rowid_pk = [r for r in info if r[5]] == [r for r in info if r[5] and r[2].upper() == "INTEGER"]
            schema.columns[table] = [(r[1], sqlite_affinity(r[2]), not r[3] and not (r[5] and rowid_pk)) for r in info]
            schema.primary_keys[table] = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            for fk in conn.execute(f"PRAGMA foreign_key_list({table})"):  # id, seq, table, from, to, upd, del
                schema.foreign_keys.add((table, fk[3], fk[2], fk[4], fk[6]))
        for name, table in conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ):
            columns = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({name})"))
            schema.indexes[name] = (table, columns)
        return schema
    finally:
        conn.close()


_PG_INDEXES = """
SELECT i.relname AS index, t.relname AS table, x.indisprimary AS primary,
       array_agg(a.attname::text ORDER BY k.ord) AS columns
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE n.nspname = current_schema()
GROUP BY i.relname, t.relname, x.indisprimary
"""
_PG_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text, af.attname::text,
       CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE c.confdeltype::text END
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
"""


def introspect_postgres(url: str) -> tuple[Schema, dict[tuple[str, str], str]]:
    """The schema, and the non-default collations of text columns."""
    with psycopg.connect(url) as conn:
        schema = Schema()
        collations: dict[tuple[str, str], str] = {}
        for table, column, data_type, nullable, collation in conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ):
            schema.columns.setdefault(table, []).append((column, data_type, nullable == "YES"))
            if collation:
                collations[(table, column)] = collation
        for index, table, primary, columns in conn.execute(_PG_INDEXES):
            if primary:
                schema.primary_keys[table] = tuple(columns)
            else:
                schema.indexes[index] = (table, tuple(columns))
        schema.foreign_keys = {tuple(row) for row in conn.execute(_PG_FOREIGN_KEYS)}
        return schema, collations


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database without any table."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    url: str = request.getfixturevalue("pg_empty_url")
    return url


@pytest.fixture
def empty_store(empty_url: str) -> Iterator[Store]:
    store = open_store(empty_url)
    try:
        yield store
    finally:
        store.close()


LATEST = load_migrations("sqlite")[-1].version


def test_both_dialects_ship_the_same_numbered_migrations() -> None:
    sqlite_names = [(m.version, m.name) for m in load_migrations("sqlite")]
    assert sqlite_names == [(m.version, m.name) for m in load_migrations("postgresql")]
    assert sqlite_names[0] == (1, "init")


def test_migrating_twice_applies_nothing_the_second_time(empty_store: Store) -> None:
    assert empty_store.schema_version() == 0
    assert empty_store.migrate() == list(range(1, LATEST + 1))
    assert empty_store.schema_version() == LATEST
    assert empty_store.migrate() == []
    assert empty_store.schema_version() == LATEST


def test_sqlite_schema_equals_the_declared_one(tmp_path: Path) -> None:
    path = tmp_path / "schema.db"
    store = open_store(f"sqlite:///{path}")
    try:
        store.migrate()
    finally:
        store.close()
    assert introspect_sqlite(str(path)) == declared("sqlite")


@pytest.mark.postgres
def test_postgres_schema_equals_the_declared_one(pg_empty_url: str) -> None:
    store = open_store(pg_empty_url)
    try:
        store.migrate()
    finally:
        store.close()
    schema, collations = introspect_postgres(pg_empty_url)
    assert schema == declared("postgresql")
    # byte-wise ordering, as on SQLite
    assert collations == {
        ("functions", "name"): "C",
        ("message_queues", "name"): "C",
        ("schedules", "name"): "C",
        ("event_source_mappings", "uuid"): "C",
        ("streams", "name"): "C",
    }


def test_row_mapping_covers_exactly_the_declared_columns() -> None:
    def names(table: str) -> list[str]:
        return [c for c, _, _ in DECLARED_COLUMNS[table]]

    assert [*rows.PACKAGE_COLUMNS, "data"] == names("packages")
    assert list(rows.FUNCTION_COLUMNS) == names("functions")
    assert list(rows.INVOCATION_COLUMNS) == names("invocations")
    assert set(rows.invocation_params(invocation("i"))) == set(names("invocations"))
    assert list(rows.SCHEDULE_COLUMNS) == names("schedules")
    assert list(ROUTE_COLUMNS) == names("http_routes")
    assert list(SECRET_COLUMNS) == names("secrets")
    assert list(PARAMETER_COLUMNS) == names("function_parameters")
    assert list(URL_COLUMNS) == names("function_url_configs")
    assert list(MAPPING_COLUMNS) == names("event_source_mappings")
    assert list(STREAM_COLUMNS) == names("streams")
    assert list(SHARD_COLUMNS) == names("stream_shards")
    assert list(RECORD_COLUMNS) == names("stream_records")
    assert list(LEASE_COLUMNS) == names("stream_shard_leases")


def test_concurrent_migrations_apply_each_version_once(empty_url: str) -> None:
    stores = [open_store(empty_url) for _ in range(3)]
    barrier = threading.Barrier(len(stores))
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def migrate(store: Store) -> None:
        try:
            barrier.wait()
            results.append(store.migrate())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(store,)) for store in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert sorted(results) == [[], [], list(range(1, LATEST + 1))]
        assert all(store.schema_version() == LATEST for store in stores)
    finally:
        for store in stores:
            store.close()


def test_a_new_migration_applies_alone_and_a_failing_one_changes_nothing(empty_store: Store) -> None:
    """The runner is general: later migrations apply on top; a failing one rolls back with its record."""
    assert isinstance(empty_store, SqlStore)
    shipped = list(load_migrations(empty_store.dialect))
    empty_store.migrate()
    extra = Migration(
        LATEST + 1, "extra", "CREATE TABLE extra (id INTEGER PRIMARY KEY);\nCREATE INDEX extra_id ON extra (id);"
    )
    broken = Migration(LATEST + 2, "broken", "CREATE TABLE half (id INTEGER);\nSELECT * FROM no_such_table;")
    with empty_store._migration_transaction() as tx:
        assert apply_migrations(tx, [*shipped, extra], 0.0) == [LATEST + 1]
    with pytest.raises(StorageError), empty_store._migration_transaction() as tx:
        apply_migrations(tx, [*shipped, extra, broken], 0.0)
    assert empty_store.schema_version() == LATEST + 1
    with empty_store._transaction(write=False) as tx:
        assert tx.one(empty_store.table_exists_sql, {"name": "extra"}) is not None
        assert tx.one(empty_store.table_exists_sql, {"name": "half"}) is None


# -- 0003: transitions move from their own table into the invocation's row -------------------------------------------
QUEUE_COLUMNS = ("available_at", "lease_owner", "lease_expires")  # added by 0004
ASYNC_COLUMNS = ("trace", "routed_to", "route_condition")  # added by 0005
OLD_INVOCATION_COLUMNS = [
    c for c in rows.INVOCATION_COLUMNS if c not in ("transitions", *QUEUE_COLUMNS, *ASYNC_COLUMNS)
]
INSERT_OLD_INVOCATION = (
    f"INSERT INTO invocations ({', '.join(OLD_INVOCATION_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in OLD_INVOCATION_COLUMNS)})"
)
INSERT_OLD_TRANSITION = (
    "INSERT INTO invocation_transitions (invocation_id, seq, status, at, worker) "
    "VALUES (:invocation_id, :seq, :status, :at, :worker)"
)


def records_before_0003() -> list[tuple[Invocation, list[int]]]:
    """Invocations as 0002 stored them, each with the ``seq`` of each of its transitions: the full record, times
    that need 17 digits, worker names that need escaping, no transitions at all, gaps in ``seq``, and many random
    ones (written in a shuffled order, so the table's order is not the ``seq`` order)."""
    rng = random.Random(3)
    odd = (
        Transition(S.CREATED, 0.1 + 0.2),
        Transition(S.PENDING, 1_700_000_000.123456, 'quote " back \\ slash'),
        Transition(S.READY, 1 / 3, "ünïcödé ✓ 🚀\n"),
        Transition(S.RUNNING, 1e-300, ""),
        Transition(S.FAILED, 2.5e15 + 0.5, "null"),
    )
    found = [
        (FULL, [0, 1, 2, 3, 4]),
        (invocation("odd", status=S.FAILED, transitions=odd), [0, 1, 2, 3, 4]),
        (invocation("none", transitions=()), []),
        (invocation("gaps", status=S.READY, transitions=odd[:3]), [2, 5, 11]),
    ]
    for n in range(60):
        statuses = [S.CREATED, S.PENDING, S.READY, S.RUNNING, S.SUCCEEDED][: rng.randint(1, 5)]
        steps = tuple(
            Transition(status, rng.uniform(1e9, 2e9), rng.choice([None, f"host-{n}:{rng.randrange(99999)}"]))
            for status in statuses
        )
        record = invocation(f"r{n:02d}", function_name=f"fn{n % 3}", created_at=float(n), transitions=steps)
        found.append((record.replace(status=statuses[-1]), list(range(len(steps)))))
    return found


def test_migration_0003_moves_every_transition_into_its_invocation_row(empty_store: Store) -> None:
    assert isinstance(empty_store, SqlStore)
    with empty_store._migration_transaction() as tx:
        assert apply_migrations(tx, load_migrations(empty_store.dialect)[:2], 0.0) == [1, 2]
    records = records_before_0003()
    transitions = [
        {"invocation_id": inv.id, "seq": seq, "status": t.status.value, "at": t.at, "worker": t.worker}
        for inv, seqs in records
        for seq, t in zip(seqs, inv.transitions, strict=True)
    ]
    random.Random(5).shuffle(transitions)
    with empty_store._transaction(write=True) as tx:
        old_rows = [{c: rows.invocation_params(inv)[c] for c in OLD_INVOCATION_COLUMNS} for inv, _ in records]
        tx.executemany(INSERT_OLD_INVOCATION, old_rows)
        tx.executemany(INSERT_OLD_TRANSITION, transitions)
    assert len(transitions) > 150

    assert empty_store.migrate() == list(range(3, LATEST + 1))

    for inv, _ in records:
        assert empty_store.get_invocation(inv.id) == inv
    listed = empty_store.list_invocations(function_name="fn0", limit=100)
    assert [i.id for i in listed] == [f"r{n:02d}" for n in reversed(range(0, 60, 3))]
    with empty_store._transaction(write=False) as tx:
        assert tx.one(empty_store.table_exists_sql, {"name": "invocation_transitions"}) is None
    # the lifecycle goes on where it stopped, and migrated rows are replaced like new ones
    step = Transition(S.RUNNING, 1_700_000_001.000001, "w")
    assert empty_store.record_transition("gaps", step, expected=S.READY) is True
    assert empty_store.record_transition("none", Transition(S.PENDING, 2.0)) is True
    gaps = empty_store.get_invocation("gaps")
    assert gaps is not None
    assert (gaps.status, gaps.transitions) == (S.RUNNING, (*records[3][0].transitions, step))
    none = empty_store.get_invocation("none")
    assert none is not None
    assert none.transitions == (Transition(S.PENDING, 2.0),)
    empty_store.insert_invocations([FULL.replace(transitions=FULL.transitions[:1])])
    assert empty_store.get_invocation(FULL.id) == FULL.replace(transitions=FULL.transitions[:1])


def test_split_script_respects_strings_comments_and_trigger_bodies() -> None:
    script = """
        -- a comment; with a semicolon
        CREATE TABLE t (a TEXT DEFAULT 'x;y');
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN
            UPDATE t SET a = 'z'; DELETE FROM t WHERE a = ';';
        END;
        /* block; comment */ INSERT INTO t VALUES ('1');
        -- trailing comment
    """
    statements = split_script(script)
    assert len(statements) == 3
    assert statements[0].endswith("DEFAULT 'x;y');")
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    conn = sqlite3.connect(":memory:")
    try:
        for statement in statements:
            conn.execute(statement)
        assert conn.execute("SELECT a FROM t").fetchall() == [("z",)]
    finally:
        conn.close()


def test_split_script_rejects_an_unterminated_statement() -> None:
    with pytest.raises(StorageError, match="Incomplete SQL statement"):
        split_script("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER)")
