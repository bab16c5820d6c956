"""Route keys and matching (``core.http_routes``): validation with clear errors, conflicts, and API Gateway's
precedence (exact path over parameters over greedy; a method over ANY; the longest greedy prefix)."""

from __future__ import annotations

import pytest

from lambdahost.core.errors import InvalidParameterValue, ResourceConflict
from lambdahost.core.http_routes import HttpRoute, RouteTable, parse_path, parse_route_key

T0 = 1_700_000_000.0


def route(key: str, function: str = "fn", route_id: str | None = None) -> HttpRoute:
    method, path = parse_route_key(key)
    return HttpRoute(route_id or key, method, path, function, T0)


def table(*keys: str) -> RouteTable:
    built = RouteTable()
    for key in keys:
        built.add(route(key))
    return built


def matched(t: RouteTable, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    found = t.match(method, path)
    return None if found is None else (found.route.route_key, dict(found.path_parameters))


# -- validation ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("GET items", "must start with '/'"),
        ("GET /a//b", "empty segment"),
        ("GET /a/", "empty segment"),
        ("GET /{proxy+}/x", "greedy parameter ({proxy+}) must be the last segment"),
        ("GET /a/{id}/{id}", "parameter 'id' is used twice"),
        ("GET /a/{my-id}", "neither a literal"),
        ("GET /a/x{id}", "neither a literal"),
        ("GET /a?b", "neither a literal"),
        ("FETCH /a", "must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY"),
        ("GET", "expected 'METHOD /path'"),
        ("GET /lambda-url/abc", "belong to function URLs"),
    ],
)
def test_invalid_route_keys_are_refused_with_the_reason(key: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        parse_route_key(key)
    assert message in caught.value.message


def test_valid_keys_parse_with_the_method_upper_cased() -> None:
    assert parse_route_key("get /reports/{id}") == ("GET", "/reports/{id}")
    assert parse_route_key("ANY /files/{proxy+}") == ("ANY", "/files/{proxy+}")
    assert parse_route_key("GET /") == ("GET", "/")
    assert parse_path("/a/{id}/{rest+}").shape_text == "/a/{}/{+}"


def test_the_same_method_and_path_up_to_parameter_names_conflicts() -> None:
    t = table("GET /items/{id}")
    with pytest.raises(ResourceConflict) as caught:
        t.add(route("GET /items/{name}"))
    assert "conflicts with route GET /items/{id}" in caught.value.message
    t.add(route("POST /items/{name}"))  # another method
    t.add(route("ANY /items/{name}"))  # ANY is a method of its own
    t.add(route("GET /items/{id}/parts"))  # another shape
    assert len(t) == 4


def test_a_table_built_from_stored_routes_keeps_the_first_of_a_conflict() -> None:
    t = RouteTable([route("GET /a/{x}", "first"), route("GET /a/{y}", "second")])
    assert len(t) == 1
    found = t.match("GET", "/a/1")
    assert found is not None and found.route.function_name == "first"


# -- precedence ----------------------------------------------------------------------------------------------------
def test_exact_path_beats_parameters_beats_greedy() -> None:
    t = table("GET /{proxy+}", "GET /items/{id}", "GET /items/special")
    assert matched(t, "GET", "/items/special") == ("GET /items/special", {})
    assert matched(t, "GET", "/items/7") == ("GET /items/{id}", {"id": "7"})
    assert matched(t, "GET", "/other/7") == ("GET /{proxy+}", {"proxy": "other/7"})


def test_a_specific_method_beats_any_on_the_same_path() -> None:
    t = table("ANY /items/{id}", "DELETE /items/{id}")
    assert matched(t, "DELETE", "/items/1") == ("DELETE /items/{id}", {"id": "1"})
    assert matched(t, "GET", "/items/1") == ("ANY /items/{id}", {"id": "1"})
    assert matched(t, "PATCH", "/items/1") == ("ANY /items/{id}", {"id": "1"})


def test_a_path_without_the_method_falls_back_to_a_less_specific_one() -> None:
    t = table("POST /items/{id}", "GET /{proxy+}")
    assert matched(t, "GET", "/items/1") == ("GET /{proxy+}", {"proxy": "items/1"})
    assert matched(t, "POST", "/items/1") == ("POST /items/{id}", {"id": "1"})
    assert matched(t, "PUT", "/items/1") is None


def test_the_longest_greedy_prefix_wins() -> None:
    t = table("ANY /{proxy+}", "ANY /files/{proxy+}", "ANY /files/docs/{rest+}")
    assert matched(t, "GET", "/files/docs/a/b.txt") == ("ANY /files/docs/{rest+}", {"rest": "a/b.txt"})
    assert matched(t, "GET", "/files/img/x.png") == ("ANY /files/{proxy+}", {"proxy": "img/x.png"})
    assert matched(t, "GET", "/else") == ("ANY /{proxy+}", {"proxy": "else"})


def test_a_literal_segment_beats_a_parameter_from_the_left() -> None:
    t = table("GET /{a}/b", "GET /a/{b}")
    assert matched(t, "GET", "/a/b") == ("GET /a/{b}", {"b": "b"})
    assert matched(t, "GET", "/x/b") == ("GET /{a}/b", {"a": "x"})


def test_greedy_needs_at_least_one_segment_and_root_is_its_own_route() -> None:
    t = table("GET /files/{proxy+}")
    assert matched(t, "GET", "/files") is None
    assert matched(t, "GET", "/files/") is None
    t.add(route("GET /"))
    assert matched(t, "GET", "/") == ("GET /", {})
    assert matched(t, "GET", "") == ("GET /", {})


def test_path_parameters_are_percent_decoded_and_plus_is_kept() -> None:
    t = table("GET /users/{name}", "GET /files/{proxy+}")
    assert matched(t, "GET", "/users/Ada%20Lovelace") == ("GET /users/{name}", {"name": "Ada Lovelace"})
    assert matched(t, "GET", "/users/a+b") == ("GET /users/{name}", {"name": "a+b"})
    assert matched(t, "GET", "/files/dir%2Fx/%C3%A9t%C3%A9.txt") == (
        "GET /files/{proxy+}",
        {"proxy": "dir/x/été.txt"},
    )


def test_literals_compare_decoded_and_methods_case_insensitively() -> None:
    t = table("GET /caf%C3%A9")
    assert matched(t, "get", "/café") == ("GET /caf%C3%A9", {})
    assert matched(t, "GET", "/caf%C3%A9") == ("GET /caf%C3%A9", {})


def test_no_match_for_extra_or_missing_segments_and_empty_parameters() -> None:
    t = table("GET /items/{id}")
    assert matched(t, "GET", "/items") is None
    assert matched(t, "GET", "/items/1/2") is None
    assert matched(t, "GET", "/items/") is None
