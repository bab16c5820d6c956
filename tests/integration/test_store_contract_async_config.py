"""The ``Store`` contract for what functions say about their asynchronous invocations: event invoke configs,
provisioned concurrency, lanes. Every test runs against SQLite (a real file) and PostgreSQL (a fresh database),
and the in-memory fake must agree."""

from __future__ import annotations

from lambdahost.core.model import EventInvokeConfig, ProvisionedConcurrency
from lambdahost.storage.base import Store
from tests.integration.records import function, package

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def _with_functions(store: Store, *names: str) -> None:
    store.put_package(package(), b"zip")
    for name in names:
        store.create_function(function(name))


def test_event_invoke_config_roundtrip_replace_and_defaults(any_store: Store) -> None:
    _with_functions(any_store, "fn", "other")
    full = EventInvokeConfig("fn", "$LATEST", 0, 60, ARN + "other", "arn:aws:sqs:us-east-1:000000000000:dlq", 5.5)
    assert any_store.put_event_invoke_config(full) == full
    assert any_store.get_event_invoke_config("fn", "$LATEST") == full
    assert any_store.get_event_invoke_config("fn", "1") is None
    assert any_store.get_event_invoke_config("other", "$LATEST") is None
    bare = EventInvokeConfig("fn", "$LATEST", last_modified=6.0)
    any_store.put_event_invoke_config(bare)  # a put replaces every field
    stored = any_store.get_event_invoke_config("fn", "$LATEST")
    assert stored == bare
    assert stored is not None and (stored.retry_attempts, stored.max_event_age_s) == (2, 21600)


def test_event_invoke_configs_list_per_function_and_delete(any_store: Store) -> None:
    _with_functions(any_store, "fn", "other")
    for qualifier in ("live", "$LATEST", "2"):
        any_store.put_event_invoke_config(EventInvokeConfig("fn", qualifier, maximum_retry_attempts=1))
    any_store.put_event_invoke_config(EventInvokeConfig("other", "$LATEST", maximum_event_age_s=100))
    assert [c.qualifier for c in any_store.list_event_invoke_configs("fn")] == ["$LATEST", "2", "live"]
    assert any_store.delete_event_invoke_config("fn", "2") is True
    assert any_store.delete_event_invoke_config("fn", "2") is False
    assert [c.qualifier for c in any_store.list_event_invoke_configs("fn")] == ["$LATEST", "live"]
    assert any_store.list_event_invoke_configs("missing") == []


def test_provisioned_concurrency_roundtrip_list_and_delete(any_store: Store) -> None:
    _with_functions(any_store, "a", "b")
    any_store.put_provisioned_concurrency(ProvisionedConcurrency("b", "$LATEST", 3, 1.0))
    any_store.put_provisioned_concurrency(ProvisionedConcurrency("a", "$LATEST", 2, 2.0))
    any_store.put_provisioned_concurrency(ProvisionedConcurrency("a", "$LATEST", 5, 3.0))  # replaces
    assert any_store.get_provisioned_concurrency("a", "$LATEST") == ProvisionedConcurrency("a", "$LATEST", 5, 3.0)
    assert [(c.function_name, c.requested) for c in any_store.list_provisioned_concurrency()] == [("a", 5), ("b", 3)]
    assert [c.function_name for c in any_store.list_provisioned_concurrency("b")] == ["b"]
    assert any_store.delete_provisioned_concurrency("a", "$LATEST") is True
    assert any_store.get_provisioned_concurrency("a", "$LATEST") is None
    assert any_store.delete_provisioned_concurrency("a", "$LATEST") is False


def test_deleting_a_function_deletes_its_async_settings_only(any_store: Store) -> None:
    _with_functions(any_store, "fn", "other")
    for name in ("fn", "other"):
        any_store.put_event_invoke_config(EventInvokeConfig(name, "$LATEST", maximum_retry_attempts=0))
        any_store.put_provisioned_concurrency(ProvisionedConcurrency(name, "$LATEST", 1, 1.0))
    assert any_store.delete_function("fn") is True
    assert any_store.list_event_invoke_configs("fn") == []
    assert any_store.list_provisioned_concurrency("fn") == []
    assert len(any_store.list_event_invoke_configs("other")) == 1
    assert len(any_store.list_provisioned_concurrency("other")) == 1


def test_function_lanes_roundtrip(any_store: Store) -> None:
    _with_functions(any_store, "fn")
    assert any_store.get_function("fn") is not None
    assert any_store.get_function("fn").lanes is None  # type: ignore[union-attr]
    any_store.update_function(function("fn", lanes=(10, 2)))
    stored = any_store.get_function("fn")
    assert stored is not None and stored.lanes == (10, 2)
