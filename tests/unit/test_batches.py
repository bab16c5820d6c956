"""Batches of asynchronous invocations, the pure parts (``core.batches``: payload encoding, request bodies, how a
client splits a list into requests) and the in-memory store's ``enqueue_many`` (the fake keeps the contract)."""

from __future__ import annotations

import json

import pytest

from lambdahost.core import batches
from lambdahost.core.errors import InvalidParameterValue, ResourceConflict
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, Transition
from lambdahost.engine.enqueue import MAX_EVENT_PAYLOAD
from lambdahost.storage.memory import InMemoryStore

S = InvocationStatus


def test_the_client_side_payload_limit_is_the_event_limit() -> None:
    assert batches.MAX_BATCH_PAYLOAD == MAX_EVENT_PAYLOAD


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ({"b": 1, "a": [1, 2.5, None, True]}, b'{"b":1,"a":[1,2.5,null,true]}'),
        ("caf\u00e9", '"caf\u00e9"'.encode()),
        ("\ud800 lone surrogate, é", b'"\\ud800 lone surrogate, \\u00e9"'),
        (None, b"null"),
    ],
    ids=["compact", "utf-8", "lone-surrogate-escaped", "null"],
)
def test_encode_payload_is_compact_json_of_the_same_value(value: object, encoded: bytes) -> None:
    assert batches.encode_payload(value) == encoded
    assert json.loads(encoded) == value


def test_request_body_is_the_json_the_server_reads() -> None:
    payloads = [b'{"a":1}', b"2"]
    assert json.loads(batches.request_body(payloads)) == {"Payloads": [{"a": 1}, 2]}
    assert json.loads(batches.request_body(payloads, lane=2, qualifier="$LATEST")) == {
        "Payloads": [{"a": 1}, 2],
        "Lane": 2,
        "Qualifier": "$LATEST",
    }
    assert json.loads(batches.request_body([])) == {"Payloads": []}


def test_split_respects_the_count_and_the_body_size() -> None:
    payloads = [b"x" * 10] * 7
    assert list(batches.split(payloads, overhead=5, max_invocations=3)) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    # each payload takes 11 bytes (its comma); 5 + 3 x 11 = 38 fits in 40, a 4th does not
    assert list(batches.split(payloads, overhead=5, max_bytes=40)) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert list(batches.split([b"x" * 100, b"y"], overhead=5, max_bytes=40)) == [slice(0, 1), slice(1, 2)]
    assert list(batches.split([])) == []


def test_split_bodies_fit_the_limit_exactly() -> None:
    payloads = [batches.encode_payload("x" * n) for n in range(0, 5000, 7)]
    overhead = len(batches.request_body([], lane=1))
    parts = list(batches.split(payloads, overhead=overhead, max_bytes=20_000))
    assert [p for part in parts for p in payloads[part]] == payloads
    assert all(len(batches.request_body(payloads[part], lane=1)) <= 20_000 for part in parts)


def queued(inv_id: str, **changes: object) -> Invocation:
    steps = (Transition(S.CREATED, 100.0), Transition(S.PENDING, 100.0))
    record = Invocation(
        id=inv_id,
        function_name="fn",
        version="$LATEST",
        type=InvocationType.EVENT,
        status=S.PENDING,
        created_at=100.0,
        transitions=steps,
    )
    return record.replace(**changes)


def test_the_in_memory_store_enqueues_a_batch_all_or_nothing() -> None:
    store = InMemoryStore()
    stored = store.enqueue_many([queued("b"), queued("a")])
    assert [inv.id for inv in stored] == ["b", "a"] and stored[0].available_at == 100.0
    with pytest.raises(ResourceConflict, match=r"^Invocation already exists: a$"):
        store.enqueue_many([queued("c"), queued("a")])
    with pytest.raises(ResourceConflict, match="d appears twice"):
        store.enqueue_many([queued("d"), queued("d")])
    with pytest.raises(InvalidParameterValue):
        store.enqueue_many([queued("e"), queued("f", lease_owner="w")])
    assert [store.get_invocation(i) is not None for i in "abcdef"] == [True, True, False, False, False, False]
