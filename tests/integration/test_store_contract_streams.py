"""The ``Store`` contract for streams: streams with shards, records numbered per shard in put order (also under
concurrent puts from several store objects), retention, and the shard leases stream mappings take (one owner at a
time, taken over after expiry, checkpoints only by the owner). SQLite (a real file), PostgreSQL (a fresh database)
and the in-memory fake."""

from __future__ import annotations

import itertools
import threading

import pytest

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.streams import (
    HASH_KEY_LIMIT,
    NewRecord,
    Stream,
    format_sequence,
    new_shards,
    parse_sequence,
    partition_hash,
)
from lambdahost.storage.base import Store
from tests.integration.conftest import another_store

T0 = 1_700_000_000.123456


def stream(name: str = "clicks", shards: int = 2, **changes: object) -> Stream:
    return Stream(name=name, region="us-east-1", account="123456789012", shard_count=shards, created_at=T0).replace(
        **changes
    )


def create(store: Store, name: str = "clicks", shards: int = 2, **changes: object) -> Stream:
    record = stream(name, shards, **changes)
    assert store.insert_stream(record, new_shards(name, shards))
    return record


def rec(key: str, data: bytes = b"x", explicit: int | None = None) -> NewRecord:
    hash_key = partition_hash(key) if explicit is None else explicit
    return NewRecord(key, data, hash_key, None if explicit is None else str(explicit))


# -- streams -------------------------------------------------------------------------------------------------------
def test_insert_get_list_and_delete(any_store: Store) -> None:
    full = create(any_store, "clicks", 3, retention_hours=48)
    assert any_store.get_stream("clicks") == full
    assert not any_store.insert_stream(stream("clicks", 1), new_shards("clicks", 1))
    assert any_store.get_stream("clicks") == full  # the conflict changed nothing
    shards = any_store.list_shards("clicks")
    assert [s.shard_id for s in shards] == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    assert shards[0].starting_hash_key == 0 and shards[-1].ending_hash_key == HASH_KEY_LIMIT - 1
    assert all(a.ending_hash_key + 1 == b.starting_hash_key for a, b in itertools.pairwise(shards))
    for name in ["b", "Z", "a-1", "a_1"]:
        create(any_store, name, 1)
    assert [s.name for s in any_store.list_streams(None, 10)] == ["Z", "a-1", "a_1", "b", "clicks"]
    assert [s.name for s in any_store.list_streams("a_1", 2)] == ["b", "clicks"]
    with pytest.raises(InvalidParameterValue):
        any_store.list_streams(None, 0)
    any_store.put_records("clicks", [rec("k")], T0)
    assert any_store.delete_stream("clicks") is True
    assert any_store.delete_stream("clicks") is False
    assert any_store.get_stream("clicks") is None and any_store.list_shards("clicks") == []
    create(any_store, "clicks", 1)  # the name is free again, with no records left over
    assert any_store.get_records("clicks", "shardId-000000000000", 0, T0, 10) == []


def test_put_routes_by_hash_key_and_numbers_records_per_shard_in_order(any_store: Store) -> None:
    create(any_store, "clicks", 2)
    low, high = rec("a", explicit=0), rec("b", explicit=HASH_KEY_LIMIT - 1)
    stored = any_store.put_records("clicks", [low, high, rec("c", b"\x00\xff", explicit=5), high], T0)
    assert stored is not None
    assert [(r.shard_id, r.sequence) for r in stored] == [
        ("shardId-000000000000", 1),
        ("shardId-000000000001", 1),
        ("shardId-000000000000", 2),
        ("shardId-000000000001", 2),
    ]
    assert stored[2].sequence_number == format_sequence(0, 2) and parse_sequence(stored[2].sequence_number) == (0, 2)
    read = any_store.get_records("clicks", "shardId-000000000000", 0, T0 + 1, 10)
    assert read == stored[0::2]
    assert read[1].data == b"\x00\xff" and read[1].explicit_hash_key == "5" and read[1].arrival == T0
    assert any_store.get_records("clicks", "shardId-000000000000", 1, T0, 10) == [stored[2]]
    assert any_store.get_records("clicks", "shardId-000000000001", 0, T0, 1) == [stored[1]]
    assert [s.last_sequence for s in any_store.list_shards("clicks")] == [2, 2]
    assert any_store.put_records("missing", [low], T0) is None
    # partition keys spread by their MD5, the way Kinesis does
    md5_high = next(k for k in map(str, range(100)) if partition_hash(k) >= HASH_KEY_LIMIT // 2)
    placed = any_store.put_records("clicks", [rec(md5_high)], T0)
    assert placed is not None and placed[0].shard_id == "shardId-000000000001"


def test_retention_hides_and_deletes_old_records(any_store: Store) -> None:
    create(any_store, "clicks", 1, retention_hours=24)
    shard = "shardId-000000000000"
    any_store.put_records("clicks", [rec("old")], T0)
    any_store.put_records("clicks", [rec("new")], T0 + 3600)
    day = 24 * 3600
    assert [r.partition_key for r in any_store.get_records("clicks", shard, 0, T0 + day, 10)] == ["old", "new"]
    assert [r.partition_key for r in any_store.get_records("clicks", shard, 0, T0 + day + 1, 10)] == ["new"]
    assert any_store.trim_stream("clicks", T0 + day - 1) == 0
    assert any_store.trim_stream("missing", T0 + day + 1) == 0
    any_store.put_records("clicks", [rec("newest")], T0 + day + 1)  # deletes "old"
    assert any_store.sequence_before("clicks", shard, T0 + 1) == 0  # nothing left that arrived before
    assert any_store.sequence_before("clicks", shard, T0 + 3601) == 2
    assert any_store.sequence_before("clicks", shard, T0 + 3600) == 0
    assert [r.sequence for r in any_store.get_records("clicks", shard, 0, T0, 10)] == [2, 3]  # "old" is gone
    assert any_store.trim_stream("clicks", T0 + day + 3601) == 1  # deletes "new" only
    assert [r.sequence for r in any_store.get_records("clicks", shard, 0, T0, 10)] == [3]


def test_concurrent_puts_keep_per_shard_order_without_gaps(any_store: Store, any_store_url: str) -> None:
    create(any_store, "clicks", 2)
    stores = [another_store(any_store_url, any_store) for _ in range(3)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def put(n: int, store: Store) -> None:
        try:
            barrier.wait()
            for i in range(15):
                store.put_records("clicks", [rec(f"w{n}", f"{n}:{i}:{j}".encode()) for j in range(2)], T0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(n, s)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        if store is not any_store:
            store.close()
    assert errors == []
    seen = 0
    for shard in any_store.list_shards("clicks"):
        records = any_store.get_records("clicks", shard.shard_id, 0, T0, 1000)
        assert [r.sequence for r in records] == list(range(1, len(records) + 1))
        assert shard.last_sequence == len(records)
        for writer in {r.partition_key for r in records}:  # one writer's records keep their order
            mine = [tuple(map(int, r.data.decode().split(":")[1:])) for r in records if r.partition_key == writer]
            assert mine == sorted(mine) and len(mine) == 30
        seen += len(records)
    assert seen == 90


# -- shard leases --------------------------------------------------------------------------------------------------
def test_one_owner_at_a_time_takeover_after_expiry_and_owner_only_checkpoints(any_store: Store) -> None:
    create(any_store, "clicks", 1)
    shard = "shardId-000000000000"
    first = any_store.acquire_shard_lease("m1", "clicks", shard, "node-a", T0, 10)
    assert first is not None and first.checkpoint is None and first.lease_owner == "node-a"
    assert first.lease_expires == T0 + 10
    assert any_store.acquire_shard_lease("m1", "clicks", shard, "node-b", T0 + 5, 10) is None
    renewed = any_store.acquire_shard_lease("m1", "clicks", shard, "node-a", T0 + 5, 10)
    assert renewed is not None and renewed.lease_expires == T0 + 15
    assert any_store.checkpoint_shard("m1", shard, "node-a", 7, T0 - 1, T0 + 6)
    assert not any_store.checkpoint_shard("m1", shard, "node-b", 9, None, T0 + 6)
    assert any_store.acquire_shard_lease("m1", "clicks", shard, "node-b", T0 + 14.9, 10) is None
    taken = any_store.acquire_shard_lease("m1", "clicks", shard, "node-b", T0 + 15, 10)  # node-a stopped renewing
    assert taken is not None and taken.lease_owner == "node-b"
    assert taken.checkpoint == 7 and taken.last_arrival == T0 - 1  # from the last checkpoint
    assert not any_store.checkpoint_shard("m1", shard, "node-a", 8, None, T0 + 16)  # the old owner cannot
    assert any_store.acquire_shard_lease("m1", "clicks", shard, "node-a", T0 + 16, 10) is None
    assert not any_store.release_shard_lease("m1", shard, "node-a")
    assert any_store.release_shard_lease("m1", shard, "node-b")
    back = any_store.acquire_shard_lease("m1", "clicks", shard, "node-a", T0 + 17, 10)  # free at once
    assert back is not None and back.checkpoint == 7
    other = any_store.acquire_shard_lease("m2", "clicks", shard, "node-b", T0 + 17, 10)  # another mapping
    assert other is not None and other.checkpoint is None
    assert [lease.lease_owner for lease in any_store.list_shard_leases("m1")] == ["node-a"]
    assert any_store.delete_shard_leases("m1") == 1
    assert any_store.list_shard_leases("m1") == []
    assert any_store.delete_stream("clicks")
    assert any_store.list_shard_leases("m2") == []  # a deleted stream's progress goes with it


def test_two_nodes_racing_for_every_shard_never_share_one(any_store: Store, any_store_url: str) -> None:
    create(any_store, "clicks", 4)
    shards = [s.shard_id for s in any_store.list_shards("clicks")]
    nodes = {"node-a": another_store(any_store_url, any_store), "node-b": another_store(any_store_url, any_store)}
    barrier = threading.Barrier(2)
    won: dict[str, list[str]] = {"node-a": [], "node-b": []}

    def race(node: str) -> None:
        barrier.wait()
        for shard in shards:
            if nodes[node].acquire_shard_lease("m", "clicks", shard, node, T0, 30) is not None:
                won[node].append(shard)

    threads = [threading.Thread(target=race, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in nodes.values():
        if store is not any_store:
            store.close()
    assert sorted(won["node-a"] + won["node-b"]) == shards  # every shard leased exactly once
    owners = {lease.shard_id: lease.lease_owner for lease in any_store.list_shard_leases("m")}
    assert owners == {shard: node for node, mine in won.items() for shard in mine}
