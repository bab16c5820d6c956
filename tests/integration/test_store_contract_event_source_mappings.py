"""The ``Store`` contract for event source mappings: create (uuid and source + function + qualifier unique), get,
filtered and paged listings, update (which leaves the pollers' processing result alone), delete and
``set_processing_result``. Every test runs against SQLite (a real file), PostgreSQL (a fresh database) and the
in-memory fake."""

from __future__ import annotations

import threading

import pytest

from lambdahost.core.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from lambdahost.core.event_source_mappings import (
    EventSourceMapping,
    MappingState,
    SourceKind,
    StartingPosition,
)
from lambdahost.storage.base import Store

T0 = 1_700_000_000.123456  # needs every digit of a double: stored and read back exactly
QUEUE = "arn:aws:sqs:us-east-1:000000000000:orders"
STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"


def mapping(uuid: str, function_name: str = "fn", source_arn: str = QUEUE, **changes: object) -> EventSourceMapping:
    kind = SourceKind.STREAM if ":kinesis:" in source_arn else SourceKind.QUEUE
    return EventSourceMapping(uuid, function_name, source_arn, kind, last_modified=T0).replace(**changes)


def test_every_field_of_both_kinds_round_trips(any_store: Store) -> None:
    queue = mapping(
        "a1",
        qualifier="live",
        enabled=False,
        state=MappingState.DISABLED,
        last_processing_result="PROBLEM: Function call failed",
        last_processing_at=T0 + 1,
        batch_size=500,
        maximum_batching_window_s=5,
        filter_patterns=('{"body": {"kind": ["a"]}}', '{"attributes": {"ApproximateReceiveCount": ["1"]}}'),
        function_response_types=("ReportBatchItemFailures",),
        maximum_concurrency=7,
    )
    stream = mapping(
        "a2",
        source_arn=STREAM,
        batch_size=100,
        starting_position=StartingPosition.AT_TIMESTAMP,
        starting_position_timestamp=T0 - 60,
        parallelization_factor=3,
        maximum_retry_attempts=5,
        maximum_record_age_s=600,
        bisect_batch_on_function_error=True,
        on_failure_destination="arn:aws:sqs:us-east-1:000000000000:failed",
    )
    for record in (queue, stream):
        assert any_store.create_event_source_mapping(record) == record
        assert any_store.get_event_source_mapping(record.uuid) == record
    assert any_store.get_event_source_mapping("nope") is None


def test_a_taken_uuid_or_a_second_mapping_of_one_source_and_function_conflicts(any_store: Store) -> None:
    any_store.create_event_source_mapping(mapping("a1"))
    with pytest.raises(ResourceConflict):
        any_store.create_event_source_mapping(mapping("a1", function_name="other", source_arn=STREAM))
    with pytest.raises(ResourceConflict, match=r"The event source arn \(.*orders\) and function \(fn\)"):
        any_store.create_event_source_mapping(mapping("a2"))
    # another qualifier, another function or another source is another mapping
    any_store.create_event_source_mapping(mapping("a3", qualifier="live"))
    any_store.create_event_source_mapping(mapping("a4", function_name="other"))
    any_store.create_event_source_mapping(mapping("a5", source_arn=STREAM))
    page, marker = any_store.list_event_source_mappings(None, None, None, 10)
    assert [m.uuid for m in page] == ["a1", "a3", "a4", "a5"] and marker is None


def test_listings_filter_by_function_and_source_and_page_in_uuid_order(any_store: Store) -> None:
    for n, (function_name, source) in enumerate([("fn", QUEUE), ("other", QUEUE), ("fn", STREAM), ("third", STREAM)]):
        any_store.create_event_source_mapping(mapping(f"u{9 - n}", function_name, source))
    everything = [m.uuid for m in any_store.list_event_source_mappings(None, None, None, 100)[0]]
    assert everything == ["u6", "u7", "u8", "u9"]
    assert [m.uuid for m in any_store.list_event_source_mappings("fn", None, None, 100)[0]] == ["u7", "u9"]
    assert [m.uuid for m in any_store.list_event_source_mappings(None, QUEUE, None, 100)[0]] == ["u8", "u9"]
    assert [m.uuid for m in any_store.list_event_source_mappings("fn", STREAM, None, 100)[0]] == ["u7"]
    assert any_store.list_event_source_mappings("nobody", None, None, 100) == ([], None)

    seen: list[str] = []
    marker: str | None = None
    while True:
        page, marker = any_store.list_event_source_mappings(None, None, marker, 3)
        seen += [m.uuid for m in page]
        if marker is None:
            break
        assert marker == page[-1].uuid
    assert seen == everything
    page, marker = any_store.list_event_source_mappings(None, QUEUE, None, 1)
    assert [m.uuid for m in page] == ["u8"] and marker == "u8"
    page, marker = any_store.list_event_source_mappings(None, STREAM, "u6", 1)
    assert [m.uuid for m in page] == ["u7"] and marker is None
    with pytest.raises(InvalidParameterValue):
        any_store.list_event_source_mappings(None, None, None, 0)


def test_update_replaces_the_settings_but_not_the_processing_result(any_store: Store) -> None:
    any_store.create_event_source_mapping(mapping("a1", created_at=T0 - 5))
    assert any_store.set_processing_result("a1", "OK", T0 + 5)
    changed = mapping(
        "a1",
        batch_size=3,
        enabled=False,
        state=MappingState.DISABLED,
        filter_patterns=("{}",),
        maximum_concurrency=2,
        last_modified=T0 + 10,
        last_processing_result="ignored",
    )
    stored = any_store.update_event_source_mapping(changed.replace(created_at=T0 + 10))
    assert stored == changed.replace(last_processing_result="OK", last_processing_at=T0 + 5, created_at=T0 - 5)
    assert any_store.get_event_source_mapping("a1") == stored
    with pytest.raises(ResourceNotFound):
        any_store.update_event_source_mapping(mapping("missing"))


def test_processing_result_and_delete(any_store: Store) -> None:
    any_store.create_event_source_mapping(mapping("a1"))
    assert any_store.set_processing_result("a1", "PROBLEM: Function call failed", T0 + 1)
    found = any_store.get_event_source_mapping("a1")
    assert found is not None
    assert (found.last_processing_result, found.last_processing_at) == ("PROBLEM: Function call failed", T0 + 1)
    assert found.batch_size == 10  # nothing else changed
    assert not any_store.set_processing_result("missing", "OK", T0)
    assert any_store.delete_event_source_mapping("a1")
    assert not any_store.delete_event_source_mapping("a1")
    assert any_store.get_event_source_mapping("a1") is None
    # the same source and function can be mapped again once deleted
    any_store.create_event_source_mapping(mapping("a2"))


def test_an_update_that_would_map_a_source_and_function_twice_conflicts(any_store: Store) -> None:
    any_store.create_event_source_mapping(mapping("a1", function_name="fn"))
    any_store.create_event_source_mapping(mapping("a2", function_name="other"))
    with pytest.raises(ResourceConflict):
        any_store.update_event_source_mapping(mapping("a2", function_name="fn", last_modified=T0 + 1))
    stored = any_store.get_event_source_mapping("a2")
    assert stored is not None and stored.function_name == "other"


# -- slots: ScalingConfig.MaximumConcurrency across nodes -----------------------------------------------------------
def test_slots_cap_the_holders_and_expire_with_their_owner(any_store: Store) -> None:
    any_store.create_event_source_mapping(mapping("a1"))
    assert any_store.acquire_mapping_slot("a1", "node-1", 2, T0, 30) == 0
    assert any_store.acquire_mapping_slot("a1", "node-2", 2, T0, 30) == 1
    assert any_store.acquire_mapping_slot("a1", "node-2", 2, T0, 30) is None  # both held
    assert any_store.acquire_mapping_slot("other", "node-2", 2, T0, 30) == 0  # per mapping

    assert any_store.renew_mapping_slots("node-1", T0 + 20, 30) == {("a1", 0)}
    # node-2 stopped renewing: its slots expire at T0 + 30, node-1's at T0 + 50
    assert any_store.acquire_mapping_slot("a1", "node-3", 2, T0 + 31, 30) == 1
    assert any_store.renew_mapping_slots("node-2", T0 + 32, 30) == set()  # all of node-2's slots had expired
    any_store.release_mapping_slot("a1", 0, "node-2")  # not its slot: nothing happens
    assert any_store.acquire_mapping_slot("a1", "node-4", 2, T0 + 33, 30) is None
    any_store.release_mapping_slot("a1", 0, "node-1")
    assert any_store.acquire_mapping_slot("a1", "node-4", 2, T0 + 33, 30) == 0

    assert any_store.delete_event_source_mapping("a1")
    assert any_store.acquire_mapping_slot("a1", "node-5", 1, T0 + 34, 30) == 0  # the deleted mapping's slots went


def test_racing_nodes_never_hold_more_slots_than_the_limit(any_store: Store) -> None:
    any_store.create_event_source_mapping(mapping("a1"))
    taken: list[int] = []
    lock = threading.Lock()

    def take(node: int) -> None:
        for _ in range(5):
            slot = any_store.acquire_mapping_slot("a1", f"node-{node}", 3, T0, 30)
            if slot is not None:
                with lock:
                    taken.append(slot)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(taken) == [0, 1, 2]
