"""``StreamPoller.lag``: per shard, the records put after a mapping's checkpoint and the iterator age (now minus
the arrival of the last record it processed), read from the store, so any node shows every node's progress."""

from __future__ import annotations

from typing import Any, cast

from lambdahost.core.event_source_mappings import EventSourceMapping, SourceKind
from lambdahost.core.streams import NewRecord, Stream, new_shards
from lambdahost.engine.invoker import Invoker
from lambdahost.storage.memory import InMemoryStore
from lambdahost.triggers.stream_poller import ShardLag, StreamPoller

T0 = 1_700_000_000.0
ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
NO_INVOKER = cast(Invoker, None)


def unused(*args: Any) -> Any:
    raise AssertionError("not called")


def test_lag_per_shard() -> None:
    store = InMemoryStore()
    store.insert_stream(Stream("s", "us-east-1", "000000000000", 2, T0), new_shards("s", 2))
    store.put_records("s", [NewRecord("k", b"x", 0) for _ in range(5)], T0)
    store.put_records("s", [NewRecord("k", b"x", 0)], T0 + 30)
    mapping = EventSourceMapping("m", "fn", ARN, SourceKind.STREAM, T0)
    lease = store.acquire_shard_lease("m", "s", "shardId-000000000000", "node-a", T0 + 40, 30)
    assert lease is not None
    store.checkpoint_shard("m", "shardId-000000000000", "node-a", 5, T0, T0 + 40)
    poller = StreamPoller(store, list, NO_INVOKER, unused, unused, unused, "node-b", clock=lambda: T0 + 60)
    assert poller.lag(mapping) == [
        ShardLag("shardId-000000000000", records_behind=1, iterator_age_s=60.0, owner="node-a"),
        ShardLag("shardId-000000000001", records_behind=0, iterator_age_s=0.0, owner=None),
    ]
    store.checkpoint_shard("m", "shardId-000000000000", "node-a", 6, T0 + 30, T0 + 61)
    caught_up = StreamPoller(store, list, NO_INVOKER, unused, unused, unused, "node-b", clock=lambda: T0 + 80)
    assert caught_up.lag(mapping)[0] == ShardLag("shardId-000000000000", 0, 0.0, None)  # its lease ran out
