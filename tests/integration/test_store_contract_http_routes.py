"""The ``Store`` contract for HTTP routes and function URL configs: insert (refusing a duplicate id, a second route
with one method and path shape, a second URL of a function and qualifier, a taken url id), read, list (in one
order), update, delete, and both deleted with their function. Every test runs against SQLite (a real file),
PostgreSQL (a fresh database) and the in-memory fake."""

from __future__ import annotations

import threading

from lambdahost.core.function_urls import FunctionUrlConfig
from lambdahost.core.http_routes import HttpRoute
from lambdahost.core.model import FunctionConfig
from lambdahost.storage.base import Store, open_store
from lambdahost.storage.memory import InMemoryStore

T0 = 1_700_000_000.123456  # needs every digit of a double: stored and read back exactly
URL_A = "a" * 32
URL_B = "b" * 32


def route(route_id: str, method: str = "GET", path: str = "/items/{id}", function: str = "fn") -> HttpRoute:
    return HttpRoute(route_id, method, path, function, T0, payload_format="1.0")


def url(function: str = "fn", url_id: str = URL_A, **changes: object) -> FunctionUrlConfig:
    return FunctionUrlConfig(function, url_id, T0, T0 + 1).replace(**changes)


def function(name: str) -> FunctionConfig:
    return FunctionConfig(
        name=name,
        runtime="python3.11",
        handler="app.handler",
        role="arn:aws:iam::000000000000:role/x",
        code_sha256_hex="0" * 64,
        code_size=1,
        revision_id="r1",
        last_modified=T0,
    )


# -- routes --------------------------------------------------------------------------------------------------------
def test_a_route_roundtrips_and_a_duplicate_id_or_key_is_refused(any_store: Store) -> None:
    first = route("r1")
    assert any_store.insert_http_route(first)
    assert any_store.get_http_route("r1") == first
    assert any_store.get_http_route("nope") is None
    assert not any_store.insert_http_route(route("r1", method="POST"))  # the id is taken
    assert not any_store.insert_http_route(route("r2", path="/items/{other}"))  # same method and shape
    assert any_store.insert_http_route(route("r3", method="ANY", path="/items/{other}"))
    assert any_store.insert_http_route(route("r4", path="/items/{id}/parts"))
    assert [r.id for r in any_store.list_http_routes()] == ["r1", "r4", "r3"]


def test_routes_list_by_path_method_and_id_for_all_or_one_function(any_store: Store) -> None:
    for record in (
        route("z", "POST", "/b", "one"),
        route("y", "GET", "/b", "two"),
        route("x", "GET", "/a/{proxy+}", "one"),
        route("w", "GET", "/B", "one"),  # byte-wise: upper case first
    ):
        assert any_store.insert_http_route(record)
    assert [r.id for r in any_store.list_http_routes()] == ["w", "x", "y", "z"]
    assert [r.id for r in any_store.list_http_routes("one")] == ["w", "x", "z"]
    assert any_store.list_http_routes("none") == []


def test_deleting_a_route_frees_its_key(any_store: Store) -> None:
    assert any_store.insert_http_route(route("r1"))
    assert any_store.delete_http_route("r1")
    assert not any_store.delete_http_route("r1")
    assert any_store.get_http_route("r1") is None
    assert any_store.insert_http_route(route("r2", path="/items/{name}"))


def test_concurrent_inserts_of_one_key_store_one(any_store_url: str, any_store: Store) -> None:
    stores = [any_store] + [
        any_store if isinstance(any_store, InMemoryStore) else open_store(any_store_url) for _ in range(3)
    ]
    results: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def insert(index: int, store: Store) -> None:
        barrier.wait()
        results.append(store.insert_http_route(route(f"r{index}", path=f"/items/{{p{index}}}")))

    threads = [threading.Thread(target=insert, args=(i, s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for store in stores[1:]:
        if store is not any_store:
            store.close()
    assert sorted(results) == [False, False, False, True]
    assert len(any_store.list_http_routes()) == 1


# -- function URL configs ------------------------------------------------------------------------------------------
def test_a_url_config_roundtrips_with_cors_and_is_found_by_id(any_store: Store) -> None:
    cors = {"AllowOrigins": ["*"], "AllowMethods": ["GET"], "MaxAge": 60, "AllowCredentials": False}
    config = url(cors=cors, auth_type="AWS_IAM", invoke_mode="RESPONSE_STREAM")
    assert any_store.insert_function_url_config(config)
    assert any_store.get_function_url_config("fn", "$LATEST") == config
    assert any_store.get_function_url_config_by_id(URL_A) == config
    assert any_store.get_function_url_config_by_id(URL_B) is None
    assert any_store.get_function_url_config("fn", "live") is None


def test_one_url_per_function_and_qualifier_and_unique_url_ids(any_store: Store) -> None:
    assert any_store.insert_function_url_config(url())
    assert not any_store.insert_function_url_config(url(url_id=URL_B))  # the function has one
    assert not any_store.insert_function_url_config(url("other"))  # the id is taken
    assert any_store.insert_function_url_config(url(url_id=URL_B, qualifier="live"))
    assert any_store.insert_function_url_config(url("other", "c" * 32))
    assert [(c.function_name, c.qualifier) for c in any_store.list_function_url_configs()] == [
        ("fn", "$LATEST"),
        ("fn", "live"),
        ("other", "$LATEST"),
    ]
    assert [c.url_id for c in any_store.list_function_url_configs("fn")] == [URL_A, URL_B]


def test_update_changes_settings_but_not_id_or_creation(any_store: Store) -> None:
    assert not any_store.update_function_url_config(url())
    assert any_store.insert_function_url_config(url(cors={"AllowOrigins": ["*"]}))
    changed = url(url_id=URL_B, created_at=T0 + 50, last_modified=T0 + 100, auth_type="AWS_IAM", cors=None)
    assert any_store.update_function_url_config(changed)
    stored = any_store.get_function_url_config("fn", "$LATEST")
    assert stored == url(last_modified=T0 + 100, auth_type="AWS_IAM", cors=None)


def test_deleting_a_url_config(any_store: Store) -> None:
    assert any_store.insert_function_url_config(url())
    assert any_store.delete_function_url_config("fn", "$LATEST")
    assert not any_store.delete_function_url_config("fn", "$LATEST")
    assert any_store.get_function_url_config_by_id(URL_A) is None


# -- with their function -------------------------------------------------------------------------------------------
def test_routes_and_urls_are_deleted_with_their_function(any_store: Store) -> None:
    any_store.create_function(function("fn"))
    any_store.create_function(function("keep"))
    assert any_store.insert_http_route(route("r1"))
    assert any_store.insert_http_route(route("r2", path="/other", function="keep"))
    assert any_store.insert_function_url_config(url())
    assert any_store.insert_function_url_config(url("keep", URL_B))
    assert any_store.delete_function("fn")
    assert [r.id for r in any_store.list_http_routes()] == ["r2"]
    assert [c.function_name for c in any_store.list_function_url_configs()] == ["keep"]
