"""``Store.last_invocations`` and ``Store.trigger_counts`` (what the functions list shows of each function, read for
a page at once) on SQLite, PostgreSQL and the in-memory fake: the same answers as the per-function reads."""

from __future__ import annotations

import pytest

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.function_urls import FunctionUrlConfig
from lambdahost.core.http_routes import HttpRoute
from lambdahost.core.model import ScheduleConfig
from lambdahost.storage.base import Store
from lambdahost.storage.function_listing import MAX_NAMES
from tests.integration.records import S, invocation


def test_the_newest_invocation_of_each_function(any_store: Store) -> None:
    any_store.insert_invocations(
        [
            invocation("a1", function_name="a", created_at=10.0, status=S.SUCCEEDED),
            invocation("a2", function_name="a", created_at=30.0, status=S.FAILED),
            invocation("a0", function_name="a", created_at=20.0),
            invocation("b1", function_name="b", created_at=5.0, status=S.SUCCEEDED),
            invocation("b3", function_name="b", created_at=5.0, status=S.TERMINATED),  # a tie: the larger id
            invocation("z1", function_name="z", created_at=99.0),
        ]
    )
    found = any_store.last_invocations(["a", "b", "c", "a"])
    assert sorted(found) == ["a", "b"], "a function without invocations is left out, names once"
    assert (found["a"].id, found["a"].status) == ("a2", S.FAILED)
    assert found["b"].id == "b3"
    for name in ("a", "b"):
        assert found[name] == any_store.list_invocations(name, None, 1)[0], "what the history's first row is"
    assert any_store.last_invocations([]) == {}
    with pytest.raises(InvalidParameterValue):
        any_store.last_invocations([f"f{n}" for n in range(MAX_NAMES + 1)])


def test_trigger_counts_add_up_every_kind(any_store: Store) -> None:
    for name, function in (("s1", "a"), ("s2", "a"), ("s3", "b")):
        any_store.create_schedule(
            ScheduleConfig(
                name=name,
                expression="rate(1 hour)",
                function_name=function,
                created_at=1.0,
                last_modified=1.0,
                next_fire_at=3600.0,
            )
        )
    assert any_store.insert_http_route(HttpRoute(id="r1", method="GET", path="/a", function_name="a", created_at=1.0))
    assert any_store.insert_function_url_config(
        FunctionUrlConfig(function_name="c", url_id="u1", created_at=1.0, last_modified=1.0)
    )
    assert any_store.trigger_counts(["a", "b", "c", "d"]) == {"a": 3, "b": 1, "c": 1}
    assert any_store.trigger_counts([]) == {}
