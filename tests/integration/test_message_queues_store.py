"""The ``Store`` contract for named message queues (the SQS subset): every test runs against a real SQLite file and
a real PostgreSQL database. Receives are leases; FIFO groups, deduplication, delays, retention, redrive and exact
counts behave the same on both."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from lambdahost.core.messages import (
    LeaseOutcome,
    MessageAttribute,
    MessageCounts,
    OutgoingMessage,
    Queue,
    RedrivePolicy,
)
from lambdahost.storage.base import Store

ARN = "arn:aws:sqs:us-east-1:000000000000:"


def make_queue(store: Store, name: str, **attributes: object) -> Queue:
    queue = Queue(name=name, created_at=1.0, modified_at=1.0).replace(**attributes)
    assert store.insert_message_queue(queue)
    return queue


def out(n: int | str, body: str | None = None, **fields: object) -> OutgoingMessage:
    return OutgoingMessage(f"m{n}", body or f"body {n}", **fields)  # type: ignore[arg-type]


def receive(store: Store, name: str, now: float, limit: int = 10, timeout: float = 30.0, token: str = "t") -> list[str]:
    found = store.receive_messages(name, now, limit, timeout, token)
    assert found is not None
    return [m.id for m in found]


# -- queues ----------------------------------------------------------------------------------------------------------
def test_queues_are_created_once_listed_by_prefix_updated_and_deleted(store: Store) -> None:
    policy = RedrivePolicy(ARN + "dlq", 3)
    first = make_queue(store, "orders", visibility_timeout_s=5, tags={"team": "a"}, extra_attributes={"Policy": "{}"})
    assert not store.insert_message_queue(first.replace(visibility_timeout_s=9))
    assert store.get_message_queue("orders") == first
    for name in ("orders-dlq", "Orders", "other"):
        make_queue(store, name)
    assert [q.name for q in store.list_message_queues(None, None, 10)] == ["Orders", "orders", "orders-dlq", "other"]
    assert [q.name for q in store.list_message_queues("orders", None, 10)] == ["orders", "orders-dlq"]
    assert [q.name for q in store.list_message_queues(None, "orders", 1)] == ["orders-dlq"]
    assert [q.name for q in store.list_message_queues("o_", None, 10)] == []  # no LIKE wildcards

    changed = first.replace(visibility_timeout_s=7, redrive_policy=policy, modified_at=2.0, fifo=True, created_at=9.0)
    assert store.update_message_queue(changed)
    assert store.get_message_queue("orders") == changed.replace(fifo=False, created_at=1.0)
    assert not store.update_message_queue(changed.replace(name="missing"))

    store.send_messages("orders", [out(1)], 1.0)
    assert store.delete_message_queue("orders")
    assert not store.delete_message_queue("orders")
    assert store.get_message_queue("orders") is None
    make_queue(store, "orders")
    assert receive(store, "orders", 2.0) == []  # the messages went with the queue


def test_a_missing_queue_takes_and_gives_no_messages(store: Store) -> None:
    assert store.send_messages("nope", [out(1)], 1.0) is None
    assert store.receive_messages("nope", 1.0, 1, 30, "t") is None
    assert store.message_counts("nope", 1.0) == MessageCounts()
    assert store.purge_message_queue("nope") == 0


# -- send, receive (a lease), delete ---------------------------------------------------------------------------------
def test_a_receive_leases_messages_in_order_and_never_deletes_them(store: Store) -> None:
    make_queue(store, "q")
    attributes = {"n": MessageAttribute("Number", "1"), "b": MessageAttribute("Binary", binary_value=b"\x00\xff")}
    sent = store.send_messages("q", [out(1, attributes=attributes), out(2), out(3)], 100.0)
    assert sent is not None
    assert [m.sequence for m in sent] == sorted(m.sequence for m in sent)
    assert store.message_counts("q", 100.0) == MessageCounts(visible=3)

    leased = store.receive_messages("q", 101.0, 2, 30.0, "tok1")
    assert leased is not None
    assert [m.id for m in leased] == ["m1", "m2"]
    first = leased[0]
    assert (first.receive_count, first.first_received_at, first.receipt_token, first.visible_at) == (
        1,
        101.0,
        "tok1",
        131.0,
    )
    assert first.attributes == attributes
    assert first.sent_at == 100.0
    assert store.message_counts("q", 101.0) == MessageCounts(visible=1, in_flight=2)
    assert receive(store, "q", 102.0) == ["m3"]
    assert receive(store, "q", 103.0) == []

    again = store.receive_messages("q", 131.0, 10, 30.0, "tok2")  # the visibility timeout ran out
    assert again is not None
    assert [(m.id, m.receive_count, m.first_received_at) for m in again] == [("m1", 2, 101.0), ("m2", 2, 101.0)]

    assert store.delete_message("q", "m1", "tok1") is LeaseOutcome.STALE  # received again since
    assert store.delete_message("q", "m1", "tok2") is LeaseOutcome.DONE
    assert store.delete_message("q", "m1", "tok2") is LeaseOutcome.GONE
    assert store.delete_message("other", "m2", "tok2") is LeaseOutcome.GONE
    assert store.message_counts("q", 131.0) == MessageCounts(in_flight=2)


def test_visibility_changes_need_the_latest_lease_of_a_message_in_flight(store: Store) -> None:
    make_queue(store, "q")
    store.send_messages("q", [out(1)], 0.0)
    assert receive(store, "q", 1.0, timeout=10, token="a") == ["m1"]
    assert store.change_message_visibility("q", "m1", "a", 2.0, 100.0) is LeaseOutcome.DONE
    assert receive(store, "q", 50.0) == []
    assert store.change_message_visibility("q", "m1", "a", 60.0, 0.0) is LeaseOutcome.DONE
    assert store.message_counts("q", 60.0) == MessageCounts(visible=1)
    assert store.change_message_visibility("q", "m1", "a", 61.0, 10.0) is LeaseOutcome.NOT_IN_FLIGHT
    assert receive(store, "q", 61.0, token="b") == ["m1"]
    assert store.change_message_visibility("q", "m1", "a", 62.0, 10.0) is LeaseOutcome.STALE
    assert store.change_message_visibility("q", "m9", "a", 62.0, 10.0) is LeaseOutcome.GONE


def test_delayed_messages_count_as_delayed_until_they_become_visible(store: Store) -> None:
    make_queue(store, "q")
    store.send_messages("q", [out(1, delay_s=10), out(2)], 100.0)
    assert store.message_counts("q", 100.0) == MessageCounts(visible=1, delayed=1)
    assert receive(store, "q", 105.0) == ["m2"]
    assert store.message_counts("q", 105.0) == MessageCounts(in_flight=1, delayed=1)
    assert receive(store, "q", 110.0) == ["m1"]


def test_messages_past_the_retention_period_are_gone(store: Store) -> None:
    make_queue(store, "q", retention_s=60)
    store.send_messages("q", [out(1)], 100.0)
    store.send_messages("q", [out(2)], 130.0)
    assert store.message_counts("q", 161.0) == MessageCounts(visible=1)
    assert receive(store, "q", 161.0) == ["m2"]
    assert store.delete_message("q", "m1", "t") is LeaseOutcome.GONE


def test_purge_deletes_every_message_in_flight_or_not(store: Store) -> None:
    make_queue(store, "q")
    store.send_messages("q", [out(n) for n in range(5)], 1.0)
    receive(store, "q", 2.0, limit=2)
    assert store.purge_message_queue("q") == 5
    assert store.message_counts("q", 2.0) == MessageCounts()


def test_a_batch_delete_is_one_call_with_an_outcome_per_message(store: Store) -> None:
    make_queue(store, "q")
    store.send_messages("q", [out(1), out(2), out(3)], 0.0)
    assert [m.id for m in store.receive_messages("q", 1.0, 3, 0.5, "old") or []] == ["m1", "m2", "m3"]
    assert [m.id for m in store.receive_messages("q", 2.0, 1, 30, "new") or []] == ["m1"]  # m1 received again
    leases = [("m1", "old"), ("m2", "old"), ("m3", "old"), ("m9", "old")]
    outcomes = store.delete_messages("q", leases)
    assert outcomes == [LeaseOutcome.STALE, LeaseOutcome.DONE, LeaseOutcome.DONE, LeaseOutcome.GONE]
    assert store.message_counts("q", 2.0) == MessageCounts(in_flight=1)  # m1 stays with its new receiver
    assert store.delete_messages("q", []) == []


# -- redrive ---------------------------------------------------------------------------------------------------------
def test_a_message_moves_to_the_dead_letter_queue_after_max_receive_count(store: Store) -> None:
    make_queue(store, "dlq")
    make_queue(store, "src", redrive_policy=RedrivePolicy(ARN + "dlq", 2))
    store.send_messages("src", [out(1), out(2)], 0.0)
    assert receive(store, "src", 1.0, limit=1, timeout=1) == ["m1"]
    assert receive(store, "src", 3.0, limit=1, timeout=1) == ["m1"]
    # m1 had its 2 receives: the next receive moves it and delivers m2 instead
    assert receive(store, "src", 5.0, limit=1, timeout=1) == ["m2"]
    assert store.message_counts("dlq", 5.0) == MessageCounts(visible=1)
    moved = store.receive_messages("dlq", 6.0, 10, 30, "d")
    assert moved is not None
    assert [(m.id, m.receive_count, m.source_arn, m.sent_at) for m in moved] == [("m1", 1, ARN + "src", 0.0)]

    # and back to the source (a dead-letter queue's redrive)
    assert store.change_message_visibility("dlq", "m1", "d", 6.0, 0) is LeaseOutcome.DONE
    assert store.move_messages("dlq", "src", 7.0, 10) == 1
    assert store.move_messages("dlq", "missing", 7.0, 10) == 0
    back = store.receive_messages("src", 7.0, 10, 30, "s")
    assert back is not None
    assert [(m.id, m.receive_count, m.source_arn) for m in back] == [("m2", 2, None), ("m1", 1, None)]


def test_a_redrive_can_take_only_the_messages_of_one_source(store: Store) -> None:
    make_queue(store, "dlq")
    for name in ("a", "b"):
        make_queue(store, name, redrive_policy=RedrivePolicy(ARN + "dlq", 1))
    store.send_messages("a", [out(1)], 0.0)
    store.send_messages("b", [out(2)], 0.0)
    for name in ("a", "b"):
        assert len(receive(store, name, 1.0, timeout=1)) == 1
        assert receive(store, name, 3.0, timeout=1) == []  # moved to the dead-letter queue
    assert store.move_messages("dlq", "b", 4.0, 10, from_arn=ARN + "b") == 1
    assert store.move_messages("dlq", "b", 4.0, 10, from_arn=ARN + "b") == 0
    assert receive(store, "b", 5.0, timeout=1) == ["m2"]
    assert store.message_counts("dlq", 5.0) == MessageCounts(visible=1)  # a's message stays


def test_without_its_dead_letter_queue_a_message_stays(store: Store) -> None:
    make_queue(store, "src", redrive_policy=RedrivePolicy(ARN + "missing", 1))
    store.send_messages("src", [out(1)], 0.0)
    assert receive(store, "src", 1.0, timeout=1) == ["m1"]
    assert receive(store, "src", 3.0, timeout=1) == ["m1"]


# -- FIFO ------------------------------------------------------------------------------------------------------------
def test_fifo_delivers_each_group_in_order_and_blocks_a_group_while_one_of_its_messages_is_in_flight(
    store: Store,
) -> None:
    make_queue(store, "f.fifo", fifo=True)
    messages = [out(1, group_id="a", dedup_id="1"), out(2, group_id="b", dedup_id="2")]
    messages += [out(3, group_id="a", dedup_id="3"), out(4, group_id="b", dedup_id="4")]
    store.send_messages("f.fifo", messages, 0.0)
    assert receive(store, "f.fifo", 1.0, limit=1, timeout=10) == ["m1"]
    assert receive(store, "f.fifo", 1.0, limit=10, timeout=10) == ["m2", "m4"]  # group a is blocked by m1
    assert receive(store, "f.fifo", 2.0) == []
    assert receive(store, "f.fifo", 11.0, limit=10, token="again") == ["m1", "m2", "m3", "m4"]


def test_fifo_deduplicates_within_five_minutes_even_after_a_delete(store: Store) -> None:
    make_queue(store, "f.fifo", fifo=True)
    first = store.send_messages("f.fifo", [out(1, group_id="g", dedup_id="d"), out(2, group_id="g", dedup_id="d")], 0)
    assert first is not None
    assert [m.id for m in first] == ["m1", "m1"]
    assert first[0].sequence == first[1].sequence
    assert receive(store, "f.fifo", 1.0, token="x") == ["m1"]
    assert store.delete_message("f.fifo", "m1", "x") is LeaseOutcome.DONE
    again = store.send_messages("f.fifo", [out(3, group_id="g", dedup_id="d")], 299.0)
    assert again is not None
    assert again[0].id == "m1"
    assert store.message_counts("f.fifo", 299.0) == MessageCounts()
    later = store.send_messages("f.fifo", [out(4, group_id="g", dedup_id="d")], 301.0)
    assert later is not None
    assert later[0].id == "m4"
    assert receive(store, "f.fifo", 301.0) == ["m4"]


# -- racing receivers ------------------------------------------------------------------------------------------------
def test_racing_receivers_never_get_one_message_twice_within_its_visibility_timeout(store: Store) -> None:
    make_queue(store, "q")
    store.send_messages("q", [out(n) for n in range(60)], 0.0)
    barrier = threading.Barrier(4)

    def drain(worker: int) -> list[str]:
        barrier.wait()
        got: list[str] = []
        while batch := receive(store, "q", 1.0, limit=7, timeout=300, token=f"w{worker}"):
            got += batch
        return got

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(drain, range(4)))
    everything = [m for got in results for m in got]
    assert sorted(everything) == sorted(f"m{n}" for n in range(60))
    assert store.message_counts("q", 1.0) == MessageCounts(in_flight=60)


def test_racing_fifo_receivers_never_hold_two_receives_of_one_group(store: Store) -> None:
    make_queue(store, "f.fifo", fifo=True)
    store.send_messages("f.fifo", [out(n, group_id=f"g{n % 3}", dedup_id=str(n)) for n in range(30)], 0.0)
    barrier = threading.Barrier(4)

    def grab(worker: int) -> list[list[str]]:
        barrier.wait()
        return [receive(store, "f.fifo", 1.0, limit=4, timeout=300, token=f"w{worker}-{n}") for n in range(3)]

    with ThreadPoolExecutor(4) as pool:
        batches = [batch for got in pool.map(grab, range(4)) for batch in got if batch]
    # each group's messages came in one receive (its group was blocked afterwards), and in order
    for batch in batches:
        groups = [int(m[1:]) % 3 for m in batch]
        for group in set(groups):
            ids = [int(m[1:]) for m in batch if int(m[1:]) % 3 == group]
            assert ids == [n for n in range(30) if n % 3 == group][: len(ids)]
    received_groups = [int(m[1:]) % 3 for batch in batches for m in batch]
    assert sorted(set(received_groups)) == [0, 1, 2]
    assert sum(1 for batch in batches for _ in {int(m[1:]) % 3 for m in batch}) == 3


@pytest.mark.parametrize("size", [1, 9])
def test_counts_are_exact_for_any_mix(store: Store, size: int) -> None:
    make_queue(store, "q")
    store.send_messages("q", [out(n) for n in range(size)], 0.0)
    store.send_messages("q", [out(f"d{n}", delay_s=50) for n in range(size)], 0.0)
    receive(store, "q", 1.0, limit=size)
    assert store.message_counts("q", 1.0) == MessageCounts(visible=0, in_flight=size, delayed=size)
