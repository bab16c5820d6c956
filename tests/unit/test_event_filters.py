"""EventBridge event patterns as Lambda's event filtering applies them (``core.event_filters``): every operator,
arrays, nesting, ``$or``, queue bodies that are JSON or plain text, and the checks of a pattern's definition."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.event_filters import (
    any_matches,
    compile_patterns,
    parse_filter_criteria,
    parse_pattern,
    record_view,
)


def matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    return parse_pattern(json.dumps(pattern)).matches(record)


RECORD = {
    "messageId": "m-1",
    "body": {
        "kind": "order",
        "total": 42.5,
        "tags": ["red", "big"],
        "ip": "10.0.3.7",
        "note": None,
        "file": "photos/cat.PNG",
        "customer": {"tier": "gold", "country": "FR"},
    },
    "attributes": {"ApproximateReceiveCount": "1"},
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"body": {"kind": ["order"]}}, True),
        ({"body": {"kind": ["refund", "order"]}}, True),
        ({"body": {"kind": ["refund"]}}, False),
        ({"body": {"total": [42.5]}}, True),
        ({"body": {"total": ["42.5"]}}, False),  # a string is not the number
        ({"body": {"note": [None]}}, True),
        ({"body": {"missing": [None]}}, False),
        ({"body": {"tags": ["big"]}}, True),  # an array field matches when any element does
        ({"body": {"tags": ["small"]}}, False),
        ({"body": {"kind": [{"prefix": "ord"}]}}, True),
        ({"body": {"kind": [{"prefix": "Ord"}]}}, False),
        ({"body": {"kind": [{"prefix": {"equals-ignore-case": "ORD"}}]}}, True),
        ({"body": {"file": [{"suffix": ".PNG"}]}}, True),
        ({"body": {"file": [{"suffix": ".png"}]}}, False),
        ({"body": {"file": [{"suffix": {"equals-ignore-case": ".png"}}]}}, True),
        ({"body": {"kind": [{"equals-ignore-case": "ORDER"}]}}, True),
        ({"body": {"file": [{"wildcard": "photos/*.PNG"}]}}, True),
        ({"body": {"file": [{"wildcard": "videos/*"}]}}, False),
        ({"body": {"kind": [{"anything-but": "refund"}]}}, True),
        ({"body": {"kind": [{"anything-but": ["refund", "order"]}]}}, False),
        ({"body": {"kind": [{"anything-but": {"prefix": "ord"}}]}}, False),
        ({"body": {"kind": [{"anything-but": {"suffix": "xyz"}}]}}, True),
        ({"body": {"kind": [{"anything-but": {"equals-ignore-case": ["ORDER"]}}]}}, False),
        ({"body": {"tags": [{"anything-but": "red"}]}}, False),  # every element must be something else
        ({"body": {"missing": [{"anything-but": "x"}]}}, False),
        ({"body": {"total": [{"numeric": [">", 40, "<=", 42.5]}]}}, True),
        ({"body": {"total": [{"numeric": ["<", 42.5]}]}}, False),
        ({"body": {"total": [{"numeric": ["=", 42.5]}]}}, True),
        ({"body": {"kind": [{"numeric": [">", 0]}]}}, False),
        ({"body": {"kind": [{"exists": True}]}}, True),
        ({"body": {"missing": [{"exists": False}]}}, True),
        ({"body": {"kind": [{"exists": False}]}}, False),
        ({"body": {"customer": [{"exists": True}]}}, False),  # exists looks at leaves, not objects
        ({"body": {"ip": [{"cidr": "10.0.0.0/16"}]}}, True),
        ({"body": {"ip": [{"cidr": "192.168.0.0/16"}]}}, False),
        ({"body": {"customer": {"tier": ["gold"], "country": ["FR"]}}}, True),
        ({"body": {"customer": {"tier": ["gold"], "country": ["DE"]}}}, False),  # every key must match
        ({"body": {"$or": [{"kind": ["refund"]}, {"total": [{"numeric": [">", 40]}]}]}}, True),
        ({"body": {"$or": [{"kind": ["refund"]}, {"total": [{"numeric": [">", 50]}]}]}}, False),
        ({"body": {"kind": ["order"]}, "attributes": {"ApproximateReceiveCount": ["1"]}}, True),
        ({"messageId": [{"prefix": "m-"}]}, True),
        ({}, True),
    ],
)
def test_operators(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, RECORD) is expected


def test_a_queue_body_is_matched_as_json_when_it_is_json_and_as_text_otherwise() -> None:
    json_record = record_view({"messageId": "1", "body": '{"kind": "order"}'})
    text_record = record_view({"messageId": "2", "body": "order placed"})
    assert json_record["body"] == {"kind": "order"}
    assert matches({"body": {"kind": ["order"]}}, json_record)
    assert not matches({"body": {"kind": ["order"]}}, text_record)
    assert matches({"body": [{"prefix": "order"}]}, text_record)
    assert not matches({"body": [{"prefix": "order"}]}, json_record)


def test_no_filters_pass_everything_and_any_one_filter_is_enough() -> None:
    assert any_matches((), {"body": "x"})
    patterns = compile_patterns(['{"body": ["a"]}', '{"body": ["b"]}'])
    assert any_matches(patterns, {"body": "b"})
    assert not any_matches(patterns, {"body": "c"})


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"body": "order"}',  # a leaf value must be an array
        '{"body": []}',
        '{"body": [{"nope": 1}]}',
        '{"body": [{"prefix": 1}]}',
        '{"body": [{"numeric": [">"]}]}',
        '{"body": [{"numeric": ["!=", 1]}]}',
        '{"body": [{"exists": "yes"}]}',
        '{"body": [{"cidr": "not-a-block"}]}',
        '{"body": [{"anything-but": {"numeric": [">", 1]}}]}',
        '{"$or": [{"a": ["b"]}]}',
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        "{" + '"a": ["' + "x" * 4100 + '"]}',
    ],
)
def test_invalid_patterns_are_refused(text: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid filter pattern definition"):
        parse_pattern(text)


def test_filter_criteria() -> None:
    assert parse_filter_criteria(None) == ()
    assert parse_filter_criteria({}) == ()
    assert parse_filter_criteria({"Filters": []}) == ()
    assert parse_filter_criteria({"Filters": [{"Pattern": '{"body": ["a"]}'}]}) == ('{"body": ["a"]}',)
    with pytest.raises(InvalidParameterValue, match="maximum number of filters per event source mapping is 5"):
        parse_filter_criteria({"Filters": [{"Pattern": "{}"}] * 6})
    with pytest.raises(InvalidParameterValue, match="Pattern"):
        parse_filter_criteria({"Filters": [{"Nope": "{}"}]})
