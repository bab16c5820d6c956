from __future__ import annotations

import itertools

import pytest

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.ids import format_last_modified
from lambdahost.core.lifecycle import IllegalTransition, can_transition, check_transition
from lambdahost.core.model import InvocationStatus as S
from lambdahost.core.names import FunctionRef, function_arn, parse_function_ref


@pytest.mark.parametrize(
    ("raw", "qualifier", "expected"),
    [
        ("my-fn", None, FunctionRef("my-fn")),
        ("my_fn:$LATEST", None, FunctionRef("my_fn", "$LATEST")),
        ("my-fn:prod", None, FunctionRef("my-fn", "prod")),
        ("arn:aws:lambda:us-east-1:123456789012:function:my-fn", None, FunctionRef("my-fn")),
        (
            "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn%3A3",
            None,
            FunctionRef("my-fn", "3"),
        ),
        ("123456789012:function:my-fn", "7", FunctionRef("my-fn", "7")),
        ("my-fn", "$LATEST", FunctionRef("my-fn", "$LATEST")),
    ],
)
def test_parse_function_ref(raw: str, qualifier: str | None, expected: FunctionRef) -> None:
    assert parse_function_ref(raw, qualifier) == expected


@pytest.mark.parametrize(
    ("raw", "qualifier"),
    [("bad name", None), ("x" * 65, None), ("fn:a", "b"), ("fn", "bad qualifier!"), ("", None)],
)
def test_parse_function_ref_rejects(raw: str, qualifier: str | None) -> None:
    with pytest.raises(InvalidParameterValue):
        parse_function_ref(raw, qualifier)


def test_function_arn() -> None:
    assert function_arn("eu-west-1", "000000000000", "f") == "arn:aws:lambda:eu-west-1:000000000000:function:f"
    assert function_arn("eu-west-1", "000000000000", "f", "$LATEST").endswith(":function:f:$LATEST")


def test_last_modified_format_is_awss() -> None:
    assert format_last_modified(1586545592.5634) == "2020-04-10T19:06:32.563+0000"
    assert format_last_modified(1586545592.9999) == "2020-04-10T19:06:33.000+0000"


def test_lifecycle() -> None:
    path = [S.CREATED, S.PENDING, S.READY, S.RUNNING, S.SUCCEEDED]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)
    assert can_transition(S.RUNNING, S.ORPHANED) and can_transition(S.ORPHANED, S.PENDING)
    for status in (S.CREATED, S.PENDING, S.READY, S.RUNNING, S.ORPHANED):
        assert can_transition(status, S.TERMINATED)
    for final in (S.SUCCEEDED, S.FAILED, S.TERMINATED):
        assert final.finished
        with pytest.raises(IllegalTransition):
            check_transition(final, S.PENDING)
    with pytest.raises(IllegalTransition):
        check_transition(S.CREATED, S.RUNNING)
