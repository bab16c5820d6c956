"""Streams on SQL: ``StreamSqlStore``, mixed into ``SqlStore`` (SQLite and PostgreSQL), with its queries (``:name``
placeholders, valid in both dialects) and row mapping.

A put is one write transaction: it reads the shards' hash key ranges, moves each touched shard's ``last_sequence``
counter on by the number of records it gets (PostgreSQL: the UPDATE locks the shard's row until commit, so
concurrent puts to a shard queue there; SQLite: ``BEGIN IMMEDIATE`` already serializes writers), inserts the
records, and deletes the stream's records past the retention. A lease is one upsert whose ``DO UPDATE`` only
applies when the lease is free, expired or the caller's.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from lambdahost.core.streams import NewRecord, Shard, ShardLease, Stream, StreamRecord, numbered, route
from lambdahost.storage.base import check_limit
from lambdahost.storage.rows import Row
from lambdahost.storage.streams import StreamStore

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx

STREAM_COLUMNS = ("name", "region", "account", "shard_count", "retention_hours", "status", "created_at")
SHARD_COLUMNS = ("stream_name", "shard_id", "starting_hash_key", "ending_hash_key", "last_sequence")
RECORD_COLUMNS = (
    "stream_name",
    "shard_id",
    "sequence",
    "sequence_number",
    "partition_key",
    "data",
    "explicit_hash_key",
    "arrival",
)
LEASE_COLUMNS = (
    "mapping_uuid",
    "shard_id",
    "stream_name",
    "checkpoint",
    "lease_owner",
    "lease_expires",
    "last_arrival",
    "updated_at",
)


def _cols(columns: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + c for c in columns)


# -- queries -------------------------------------------------------------------------------------------------------
INSERT_STREAM = (
    f"INSERT INTO streams ({_cols(STREAM_COLUMNS)}) VALUES ({_cols(STREAM_COLUMNS, ':')}) ON CONFLICT (name) DO NOTHING"
)
INSERT_SHARD = f"INSERT INTO stream_shards ({_cols(SHARD_COLUMNS)}) VALUES ({_cols(SHARD_COLUMNS, ':')})"
GET_STREAM = f"SELECT {_cols(STREAM_COLUMNS)} FROM streams WHERE name = :name"
LIST_STREAMS = f"SELECT {_cols(STREAM_COLUMNS)} FROM streams ORDER BY name LIMIT :limit"
LIST_STREAMS_AFTER = f"SELECT {_cols(STREAM_COLUMNS)} FROM streams WHERE name > :after ORDER BY name LIMIT :limit"
DELETE_STREAM = "DELETE FROM streams WHERE name = :name"
DELETE_SHARDS = "DELETE FROM stream_shards WHERE stream_name = :name"
DELETE_RECORDS = "DELETE FROM stream_records WHERE stream_name = :name"
DELETE_STREAM_LEASES = "DELETE FROM stream_shard_leases WHERE stream_name = :name"
LIST_SHARDS = f"SELECT {_cols(SHARD_COLUMNS)} FROM stream_shards WHERE stream_name = :name ORDER BY shard_id"
ADVANCE_SHARD = (
    "UPDATE stream_shards SET last_sequence = last_sequence + :count "
    "WHERE stream_name = :stream_name AND shard_id = :shard_id"
)
SHARD_SEQUENCE = "SELECT last_sequence FROM stream_shards WHERE stream_name = :stream_name AND shard_id = :shard_id"
INSERT_RECORD = f"INSERT INTO stream_records ({_cols(RECORD_COLUMNS)}) VALUES ({_cols(RECORD_COLUMNS, ':')})"
TRIM_RECORDS = "DELETE FROM stream_records WHERE stream_name = :name AND arrival < :cutoff"
GET_RECORDS = (
    f"SELECT {_cols(RECORD_COLUMNS)} FROM stream_records "
    "WHERE stream_name = :stream_name AND shard_id = :shard_id AND sequence > :after AND arrival >= :cutoff "
    "ORDER BY sequence LIMIT :limit"
)
SEQUENCE_BEFORE = (
    "SELECT MAX(sequence) AS sequence FROM stream_records "
    "WHERE stream_name = :stream_name AND shard_id = :shard_id AND arrival < :arrival"
)
UPSERT_LEASE = (
    f"INSERT INTO stream_shard_leases ({_cols(LEASE_COLUMNS)}) "
    "VALUES (:mapping_uuid, :shard_id, :stream_name, NULL, :owner, :expires, NULL, :now) "
    "ON CONFLICT (mapping_uuid, shard_id) DO UPDATE SET lease_owner = excluded.lease_owner, "
    "lease_expires = excluded.lease_expires, updated_at = excluded.updated_at "
    "WHERE stream_shard_leases.lease_owner = :owner OR stream_shard_leases.lease_owner IS NULL "
    "OR stream_shard_leases.lease_expires <= :now"
)
GET_LEASE = (
    f"SELECT {_cols(LEASE_COLUMNS)} FROM stream_shard_leases "
    "WHERE mapping_uuid = :mapping_uuid AND shard_id = :shard_id"
)
CHECKPOINT = (
    "UPDATE stream_shard_leases SET checkpoint = :sequence, last_arrival = :arrival, updated_at = :now "
    "WHERE mapping_uuid = :mapping_uuid AND shard_id = :shard_id AND lease_owner = :owner"
)
RELEASE_LEASE = (
    "UPDATE stream_shard_leases SET lease_owner = NULL, lease_expires = 0 "
    "WHERE mapping_uuid = :mapping_uuid AND shard_id = :shard_id AND lease_owner = :owner"
)
LIST_LEASES = (
    f"SELECT {_cols(LEASE_COLUMNS)} FROM stream_shard_leases WHERE mapping_uuid = :mapping_uuid ORDER BY shard_id"
)
DELETE_LEASES = "DELETE FROM stream_shard_leases WHERE mapping_uuid = :mapping_uuid"


# -- rows ----------------------------------------------------------------------------------------------------------
def stream_params(stream: Stream) -> dict[str, Any]:
    return {column: getattr(stream, column) for column in STREAM_COLUMNS}


def stream_from_row(row: Row) -> Stream:
    return Stream(
        name=row["name"],
        region=row["region"],
        account=row["account"],
        shard_count=int(row["shard_count"]),
        retention_hours=int(row["retention_hours"]),
        status=row["status"],
        created_at=float(row["created_at"]),
    )


def shard_params(shard: Shard) -> dict[str, Any]:
    return {
        "stream_name": shard.stream_name,
        "shard_id": shard.shard_id,
        "starting_hash_key": str(shard.starting_hash_key),
        "ending_hash_key": str(shard.ending_hash_key),
        "last_sequence": shard.last_sequence,
    }


def shard_from_row(row: Row) -> Shard:
    return Shard(
        stream_name=row["stream_name"],
        shard_id=row["shard_id"],
        starting_hash_key=int(row["starting_hash_key"]),
        ending_hash_key=int(row["ending_hash_key"]),
        last_sequence=int(row["last_sequence"]),
    )


def record_params(record: StreamRecord) -> dict[str, Any]:
    return {
        "stream_name": record.stream_name,
        "shard_id": record.shard_id,
        "sequence": record.sequence,
        "sequence_number": record.sequence_number,
        "partition_key": record.partition_key,
        "data": record.data,
        "explicit_hash_key": record.explicit_hash_key,
        "arrival": record.arrival,
    }


def record_from_row(row: Row) -> StreamRecord:
    return StreamRecord(
        stream_name=row["stream_name"],
        shard_id=row["shard_id"],
        sequence=int(row["sequence"]),
        partition_key=row["partition_key"],
        data=bytes(row["data"]),
        arrival=float(row["arrival"]),
        explicit_hash_key=row["explicit_hash_key"],
    )


def lease_from_row(row: Row) -> ShardLease:
    return ShardLease(
        mapping_uuid=row["mapping_uuid"],
        stream_name=row["stream_name"],
        shard_id=row["shard_id"],
        checkpoint=None if row["checkpoint"] is None else int(row["checkpoint"]),
        lease_owner=row["lease_owner"],
        lease_expires=float(row["lease_expires"]),
        last_arrival=None if row["last_arrival"] is None else float(row["last_arrival"]),
        updated_at=float(row["updated_at"]),
    )


class StreamSqlStore(StreamStore):
    """The stream methods of ``Store`` for ``SqlStore``, which provides the transactions."""

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    # -- streams ---------------------------------------------------------------------------------------------------
    def insert_stream(self, stream: Stream, shards: Sequence[Shard]) -> bool:
        with self._transaction(write=True) as tx:
            if tx.execute(INSERT_STREAM, stream_params(stream)) != 1:
                return False
            tx.executemany(INSERT_SHARD, [shard_params(s) for s in shards])
        return True

    def get_stream(self, name: str) -> Stream | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_STREAM, {"name": name})
        return stream_from_row(row) if row is not None else None

    def list_streams(self, after: str | None, limit: int) -> list[Stream]:
        check_limit(limit)
        with self._transaction(write=False) as tx:
            found = tx.all(LIST_STREAMS if after is None else LIST_STREAMS_AFTER, {"after": after, "limit": limit})
        return [stream_from_row(row) for row in found]

    def delete_stream(self, name: str) -> bool:
        with self._transaction(write=True) as tx:
            deleted = tx.execute(DELETE_STREAM, {"name": name})
            for statement in (DELETE_SHARDS, DELETE_RECORDS, DELETE_STREAM_LEASES):
                tx.execute(statement, {"name": name})
        return deleted > 0

    def list_shards(self, stream_name: str) -> list[Shard]:
        with self._transaction(write=False) as tx:
            return [shard_from_row(row) for row in tx.all(LIST_SHARDS, {"name": stream_name})]

    # -- records ---------------------------------------------------------------------------------------------------
    def put_records(self, stream_name: str, records: Sequence[NewRecord], now: float) -> list[StreamRecord] | None:
        with self._transaction(write=True) as tx:
            row = tx.one(GET_STREAM, {"name": stream_name})
            if row is None:
                return None
            stream = stream_from_row(row)
            shards = [shard_from_row(r) for r in tx.all(LIST_SHARDS, {"name": stream_name})]
            targets = route(shards, records)
            base: dict[str, int] = {}
            for shard_id, count in sorted(Counter(targets).items()):  # one lock order for every put
                key = {"stream_name": stream_name, "shard_id": shard_id}
                tx.execute(ADVANCE_SHARD, {**key, "count": count})
                current = tx.one(SHARD_SEQUENCE, key)
                assert current is not None
                base[shard_id] = int(current["last_sequence"]) - count
            stored = numbered(stream_name, records, targets, base, now)
            if stored:
                tx.executemany(INSERT_RECORD, [record_params(r) for r in stored])
            tx.execute(TRIM_RECORDS, {"name": stream_name, "cutoff": now - stream.retention_s})
        return stored

    def trim_stream(self, stream_name: str, now: float) -> int:
        with self._transaction(write=True) as tx:
            row = tx.one(GET_STREAM, {"name": stream_name})
            if row is None:
                return 0
            cutoff = now - stream_from_row(row).retention_s
            return tx.execute(TRIM_RECORDS, {"name": stream_name, "cutoff": cutoff})

    def get_records(self, stream_name: str, shard_id: str, after: int, now: float, limit: int) -> list[StreamRecord]:
        check_limit(limit)
        with self._transaction(write=False) as tx:
            row = tx.one(GET_STREAM, {"name": stream_name})
            if row is None:
                return []
            params = {
                "stream_name": stream_name,
                "shard_id": shard_id,
                "after": after,
                "cutoff": now - stream_from_row(row).retention_s,
                "limit": limit,
            }
            return [record_from_row(r) for r in tx.all(GET_RECORDS, params)]

    def sequence_before(self, stream_name: str, shard_id: str, arrival: float) -> int:
        with self._transaction(write=False) as tx:
            row = tx.one(SEQUENCE_BEFORE, {"stream_name": stream_name, "shard_id": shard_id, "arrival": arrival})
        return int(row["sequence"]) if row is not None and row["sequence"] is not None else 0

    # -- shard leases ----------------------------------------------------------------------------------------------
    def acquire_shard_lease(
        self, mapping_uuid: str, stream_name: str, shard_id: str, owner: str, now: float, lease_s: float
    ) -> ShardLease | None:
        key = {"mapping_uuid": mapping_uuid, "shard_id": shard_id}
        with self._transaction(write=True) as tx:
            tx.execute(
                UPSERT_LEASE, {**key, "stream_name": stream_name, "owner": owner, "expires": now + lease_s, "now": now}
            )
            row = tx.one(GET_LEASE, key)
        if row is None or row["lease_owner"] != owner:
            return None
        return lease_from_row(row)

    def checkpoint_shard(
        self, mapping_uuid: str, shard_id: str, owner: str, sequence: int, arrival: float | None, now: float
    ) -> bool:
        params = {
            "mapping_uuid": mapping_uuid,
            "shard_id": shard_id,
            "owner": owner,
            "sequence": sequence,
            "arrival": arrival,
            "now": now,
        }
        with self._transaction(write=True) as tx:
            return tx.execute(CHECKPOINT, params) == 1

    def release_shard_lease(self, mapping_uuid: str, shard_id: str, owner: str) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(RELEASE_LEASE, {"mapping_uuid": mapping_uuid, "shard_id": shard_id, "owner": owner}) == 1

    def list_shard_leases(self, mapping_uuid: str) -> list[ShardLease]:
        with self._transaction(write=False) as tx:
            return [lease_from_row(r) for r in tx.all(LIST_LEASES, {"mapping_uuid": mapping_uuid})]

    def delete_shard_leases(self, mapping_uuid: str) -> int:
        with self._transaction(write=True) as tx:
            return tx.execute(DELETE_LEASES, {"mapping_uuid": mapping_uuid})
