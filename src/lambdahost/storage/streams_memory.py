"""Streams in memory: the fake's ``StreamStore`` (mixed into ``InMemoryStore``), with the same semantics as the SQL
stores (per-shard sequences, retention, leases), no durability."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.streams import NewRecord, Shard, ShardLease, Stream, StreamRecord, numbered, route
from lambdahost.storage.streams import StreamStore


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    streams: dict[str, Stream] = field(default_factory=dict)
    shards: dict[str, list[Shard]] = field(default_factory=dict)
    records: dict[tuple[str, str], list[StreamRecord]] = field(default_factory=dict)
    leases: dict[tuple[str, str], ShardLease] = field(default_factory=dict)


class StreamMemoryStore(StreamStore):
    _streams: _State

    def _init_streams(self) -> None:
        self._streams = _State()

    def insert_stream(self, stream: Stream, shards: Sequence[Shard]) -> bool:
        with self._streams.lock:
            if stream.name in self._streams.streams:
                return False
            self._streams.streams[stream.name] = stream
            self._streams.shards[stream.name] = sorted(shards, key=lambda s: s.shard_id)
            for shard in shards:
                self._streams.records[(stream.name, shard.shard_id)] = []
            return True

    def get_stream(self, name: str) -> Stream | None:
        return self._streams.streams.get(name)

    def list_streams(self, after: str | None, limit: int) -> list[Stream]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        names = sorted(n for n in self._streams.streams if after is None or n.encode() > after.encode())
        return [self._streams.streams[n] for n in names[:limit]]

    def delete_stream(self, name: str) -> bool:
        with self._streams.lock:
            existed = self._streams.streams.pop(name, None) is not None
            for shard in self._streams.shards.pop(name, []):
                self._streams.records.pop((name, shard.shard_id), None)
            for key in [k for k, lease in self._streams.leases.items() if lease.stream_name == name]:
                del self._streams.leases[key]
            return existed

    def list_shards(self, stream_name: str) -> list[Shard]:
        return list(self._streams.shards.get(stream_name, []))

    def put_records(self, stream_name: str, records: Sequence[NewRecord], now: float) -> list[StreamRecord] | None:
        with self._streams.lock:
            stream = self._streams.streams.get(stream_name)
            if stream is None:
                return None
            shards = self._streams.shards[stream_name]
            targets = route(shards, records)
            base = {s.shard_id: s.last_sequence for s in shards}
            stored = numbered(stream_name, records, targets, base, now)
            counts = Counter(targets)
            self._streams.shards[stream_name] = [
                dataclasses.replace(s, last_sequence=s.last_sequence + counts[s.shard_id]) for s in shards
            ]
            cutoff = now - stream.retention_s
            for shard in shards:
                key = (stream_name, shard.shard_id)
                kept = [r for r in self._streams.records[key] if r.arrival >= cutoff]
                self._streams.records[key] = kept + [r for r in stored if r.shard_id == shard.shard_id]
            return stored

    def trim_stream(self, stream_name: str, now: float) -> int:
        with self._streams.lock:
            stream = self._streams.streams.get(stream_name)
            if stream is None:
                return 0
            cutoff = now - stream.retention_s
            removed = 0
            for shard in self._streams.shards[stream_name]:
                key = (stream_name, shard.shard_id)
                kept = [r for r in self._streams.records[key] if r.arrival >= cutoff]
                removed += len(self._streams.records[key]) - len(kept)
                self._streams.records[key] = kept
            return removed

    def get_records(self, stream_name: str, shard_id: str, after: int, now: float, limit: int) -> list[StreamRecord]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        stream = self._streams.streams.get(stream_name)
        if stream is None:
            return []
        cutoff = now - stream.retention_s
        found = self._streams.records.get((stream_name, shard_id), [])
        return [r for r in found if r.sequence > after and r.arrival >= cutoff][:limit]

    def sequence_before(self, stream_name: str, shard_id: str, arrival: float) -> int:
        found = self._streams.records.get((stream_name, shard_id), [])
        return max((r.sequence for r in found if r.arrival < arrival), default=0)

    def acquire_shard_lease(
        self, mapping_uuid: str, stream_name: str, shard_id: str, owner: str, now: float, lease_s: float
    ) -> ShardLease | None:
        key = (mapping_uuid, shard_id)
        with self._streams.lock:
            lease = self._streams.leases.get(key)
            if lease is None:
                lease = ShardLease(mapping_uuid, stream_name, shard_id, None, owner, now + lease_s, None, now)
            elif lease.lease_owner in (owner, None) or lease.lease_expires <= now:
                lease = dataclasses.replace(lease, lease_owner=owner, lease_expires=now + lease_s, updated_at=now)
            else:
                return None
            self._streams.leases[key] = lease
            return lease

    def checkpoint_shard(
        self, mapping_uuid: str, shard_id: str, owner: str, sequence: int, arrival: float | None, now: float
    ) -> bool:
        key = (mapping_uuid, shard_id)
        with self._streams.lock:
            lease = self._streams.leases.get(key)
            if lease is None or lease.lease_owner != owner:
                return False
            self._streams.leases[key] = dataclasses.replace(
                lease, checkpoint=sequence, last_arrival=arrival, updated_at=now
            )
            return True

    def release_shard_lease(self, mapping_uuid: str, shard_id: str, owner: str) -> bool:
        key = (mapping_uuid, shard_id)
        with self._streams.lock:
            lease = self._streams.leases.get(key)
            if lease is None or lease.lease_owner != owner:
                return False
            self._streams.leases[key] = dataclasses.replace(lease, lease_owner=None, lease_expires=0.0)
            return True

    def list_shard_leases(self, mapping_uuid: str) -> list[ShardLease]:
        found = [lease for (uuid, _), lease in self._streams.leases.items() if uuid == mapping_uuid]
        return sorted(found, key=lambda lease: lease.shard_id)

    def delete_shard_leases(self, mapping_uuid: str) -> int:
        with self._streams.lock:
            keys = [k for k in self._streams.leases if k[0] == mapping_uuid]
            for key in keys:
                del self._streams.leases[key]
            return len(keys)
