"""The storage port of streams (the Kinesis subset) and of the shard leases of stream mappings, which ``Store``
inherits.

Implemented once for SQL (``streams_sql.StreamSqlStore``, SQLite and PostgreSQL) and once for the in-memory fake
(``streams_memory``); ``tests/integration/test_store_contract_streams.py`` is their contract suite. Times are the
caller's clock (``now``).

Records of one shard take consecutive sequences (1, 2, ...) from a counter in the shard's row, taken in the write
transaction that inserts them, so concurrent puts never interleave out of order. Records older than the stream's
retention are never returned and are deleted by the next put to the stream.

A shard lease gives one node at a time the right to process one mapping's batches of one shard: taken when free,
held by renewing it before ``lease_expires``, taken over by another node once it expired; the checkpoint (the last
record done with) can only be moved by the lease's owner, so a node that lost its lease cannot move it back.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from lambdahost.core.streams import NewRecord, Shard, ShardLease, Stream, StreamRecord


class StreamStore(abc.ABC):
    """Durable streams, their shards and records, and the shard leases of stream mappings."""

    # -- streams ---------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_stream(self, stream: Stream, shards: Sequence[Shard]) -> bool:
        """Insert a stream with its shards; False (nothing changed) when one with its name exists."""

    @abc.abstractmethod
    def get_stream(self, name: str) -> Stream | None: ...

    @abc.abstractmethod
    def list_streams(self, after: str | None, limit: int) -> list[Stream]:
        """Streams ordered by name (byte-wise) after ``after``."""

    @abc.abstractmethod
    def delete_stream(self, name: str) -> bool:
        """Delete a stream with its shards, records and the shard leases on it; True when it existed."""

    @abc.abstractmethod
    def list_shards(self, stream_name: str) -> list[Shard]:
        """The stream's shards in shard id order (with the sequence of their newest record); [] when absent."""

    # -- records ---------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def put_records(self, stream_name: str, records: Sequence[NewRecord], now: float) -> list[StreamRecord] | None:
        """Add records (committed on return, arrival ``now``), each to the shard whose hash key range holds its
        ``hash_key``, in the order given within each shard; returns them with their shard and sequence, in the
        order given. Deletes the stream's records past its retention. None when the stream does not exist."""

    @abc.abstractmethod
    def trim_stream(self, stream_name: str, now: float) -> int:
        """Delete the stream's records past its retention at ``now`` (a put does it too); how many."""

    @abc.abstractmethod
    def get_records(self, stream_name: str, shard_id: str, after: int, now: float, limit: int) -> list[StreamRecord]:
        """Up to ``limit`` records of a shard with a sequence above ``after``, in order, leaving out those past the
        stream's retention at ``now``."""

    @abc.abstractmethod
    def sequence_before(self, stream_name: str, shard_id: str, arrival: float) -> int:
        """The sequence of the shard's newest record that arrived before ``arrival`` (0: none): reading after it
        starts at the first record that arrived at ``arrival`` or later."""

    # -- shard leases ----------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def acquire_shard_lease(
        self, mapping_uuid: str, stream_name: str, shard_id: str, owner: str, now: float, lease_s: float
    ) -> ShardLease | None:
        """Take or renew the lease (``lease_expires = now + lease_s``) when it is free, expired or ``owner``'s
        already; the lease as it is then, or None when another owner holds it. The first take creates the row
        (``checkpoint`` None)."""

    @abc.abstractmethod
    def checkpoint_shard(
        self, mapping_uuid: str, shard_id: str, owner: str, sequence: int, arrival: float | None, now: float
    ) -> bool:
        """Set the checkpoint (and the arrival time of that record) if ``owner`` holds the lease; False if not."""

    @abc.abstractmethod
    def release_shard_lease(self, mapping_uuid: str, shard_id: str, owner: str) -> bool:
        """Give the lease up (free for any node at once) if ``owner`` holds it."""

    @abc.abstractmethod
    def list_shard_leases(self, mapping_uuid: str) -> list[ShardLease]:
        """A mapping's leases in shard id order."""

    @abc.abstractmethod
    def delete_shard_leases(self, mapping_uuid: str) -> int:
        """Forget a mapping's progress (its mapping was deleted); how many leases there were."""
