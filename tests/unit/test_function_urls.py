"""Function URL configs (``core.function_urls``): AWS's validation of AuthType, InvokeMode, Qualifier and Cors, and
the CORS answers (preflight by the platform, the config's headers in place of the function's)."""

from __future__ import annotations

from typing import Any

import pytest

from lambdahost.core.errors import ValidationError
from lambdahost.core.function_urls import (
    URL_ID_RE,
    check_auth_type,
    check_cors,
    check_invoke_mode,
    check_qualifier,
    is_preflight,
    new_url_id,
    preflight_headers,
    response_headers,
)

FULL = {
    "AllowOrigins": ["https://app.example.com"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["content-type", "x-token"],
    "ExposeHeaders": ["x-total"],
    "MaxAge": 600,
    "AllowCredentials": True,
}


def test_url_ids_are_32_lower_case_letters_and_digits_and_differ() -> None:
    ids = {new_url_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(URL_ID_RE.match(i) for i in ids)


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (check_auth_type, "IAM", "Value 'IAM' at 'authType' failed to satisfy constraint: Member must satisfy enum"),
        (check_invoke_mode, "STREAM", "at 'invokeMode' failed to satisfy constraint"),
        (check_qualifier, "$LATEST", "at 'qualifier' failed to satisfy constraint"),
        (check_qualifier, "12", "at 'qualifier' failed to satisfy constraint"),
        (check_cors, {"MaxAge": 86401}, "at 'cors.maxAge' failed to satisfy constraint: Member must have value less"),
        (check_cors, {"MaxAge": -1}, "at 'cors.maxAge' failed to satisfy constraint: Member must have value greater"),
        (check_cors, {"AllowMethods": ["GET"] * 7}, "at 'cors.allowMethods'"),
        (check_cors, {"AllowMethods": ["OPTIONSX"]}, "length less than or equal to 6"),
        (check_cors, {"AllowOrigins": [""]}, "length greater than or equal to 1"),
        (check_cors, {"AllowOrigins": ["x" * 254]}, "length less than or equal to 253"),
        (check_cors, {"AllowHeaders": "content-type"}, "Member must be a list of strings"),
        (check_cors, {"AllowCredentials": "yes"}, "Member must be a boolean"),
    ],
)
def test_values_outside_the_model_are_validation_errors(check: Any, value: object, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check(value)
    assert caught.value.code == "ValidationException"
    assert message in caught.value.message


def test_valid_values_pass_and_unknown_cors_keys_are_dropped() -> None:
    assert check_auth_type("AWS_IAM") == "AWS_IAM"
    assert check_invoke_mode("RESPONSE_STREAM") == "RESPONSE_STREAM"
    assert check_qualifier("live") == "live"
    assert check_qualifier(None) is None
    assert check_cors({**FULL, "Other": 1}) == FULL
    assert check_cors(None) is None
    assert check_cors({}) == {}


def test_a_preflight_needs_options_origin_and_a_requested_method() -> None:
    assert is_preflight("OPTIONS", [("Origin", "x"), ("Access-Control-Request-Method", "GET")])
    assert not is_preflight("OPTIONS", [("Origin", "x")])
    assert not is_preflight("GET", [("Origin", "x"), ("Access-Control-Request-Method", "GET")])


def test_preflight_of_an_allowed_origin_gets_every_configured_header() -> None:
    assert dict(preflight_headers(FULL, "https://APP.example.com")) == {
        "access-control-allow-origin": "https://APP.example.com",
        "access-control-allow-methods": "GET,POST",
        "access-control-allow-headers": "content-type,x-token",
        "access-control-max-age": "600",
        "access-control-allow-credentials": "true",
        "vary": "Origin",
    }
    assert preflight_headers(FULL, "https://evil.example.com") == []
    assert preflight_headers(FULL, None) == []


def test_a_wildcard_origin_answers_star_unless_credentials_are_allowed() -> None:
    assert dict(preflight_headers({"AllowOrigins": ["*"]}, "https://a.b"))["access-control-allow-origin"] == "*"
    with_credentials = {"AllowOrigins": ["*"], "AllowCredentials": True}
    assert dict(preflight_headers(with_credentials, "https://a.b"))["access-control-allow-origin"] == "https://a.b"


def test_the_configs_cors_headers_replace_the_functions_own() -> None:
    function_headers = [("content-type", "text/plain"), ("Access-Control-Allow-Origin", "*"), ("x-total", "3")]
    assert response_headers(FULL, "https://app.example.com", function_headers) == [
        ("content-type", "text/plain"),
        ("x-total", "3"),
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-expose-headers", "x-total"),
        ("access-control-allow-credentials", "true"),
        ("vary", "Origin"),
    ]
    assert response_headers(FULL, "https://other.example.com", function_headers) == [
        ("content-type", "text/plain"),
        ("x-total", "3"),
    ]
