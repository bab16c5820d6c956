"""``lambdahost.client.error_from_response``: AWS error responses -> the ``core.errors`` class with that code."""

from __future__ import annotations

import json

import pytest

from lambdahost.client import UnknownServerError, error_code, error_from_response
from lambdahost.core import errors

WIRE_ERRORS = [
    errors.InvalidParameterValue,
    errors.InvalidRequestContent,
    errors.ResourceNotFound,
    errors.ResourceConflict,
    errors.ResourceInUse,
    errors.PreconditionFailed,
    errors.RequestTooLarge,
    errors.UnsupportedMediaType,
    errors.RecursiveInvocation,
    errors.AccessDenied,
    errors.ServiceError,
]


@pytest.mark.parametrize("cls", WIRE_ERRORS, ids=lambda cls: cls.code)
def test_each_wire_code_becomes_its_class(cls: type[errors.LambdaHostError]) -> None:
    sent = cls("it went wrong")
    exc = error_from_response(sent.status, sent.code, json.dumps(sent.body()).encode())
    assert type(exc) is cls
    assert exc.message == "it went wrong"
    assert error_code(exc) == cls.code
    assert exc.fields == {}


def test_subclasses_sharing_a_code_map_to_the_base() -> None:
    exc = error_from_response(500, "ServiceException", b'{"Type":"Service","Message":"boom"}')
    assert type(exc) is errors.ServiceError


def test_throttle_keeps_reason_and_retry_after() -> None:
    body = b'{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}'
    exc = error_from_response(429, "TooManyRequestsException", body, retry_after="3")
    assert isinstance(exc, errors.TooManyRequests)
    assert exc.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert exc.retry_after_s == 3
    assert exc.message == "Rate Exceeded."
    assert exc.body()["Reason"] == exc.reason


def test_unknown_code_keeps_code_status_and_fields() -> None:
    exc = error_from_response(502, "InvalidZipFileException", b'{"Type":"User","Message":"bad zip","Extra":1}')
    assert isinstance(exc, UnknownServerError)
    assert error_code(exc) == "InvalidZipFileException"
    assert exc.http_status == 502
    assert exc.message == "bad zip"
    assert exc.fields == {"Extra": 1}


def test_code_from_body_when_header_missing() -> None:
    exc = error_from_response(404, None, b'{"__type":"ResourceNotFoundException:http","Message":"gone"}')
    assert isinstance(exc, errors.ResourceNotFound)


def test_non_json_reply_is_reported_with_its_status() -> None:
    exc = error_from_response(502, None, b"<html>Bad Gateway</html>")
    assert isinstance(exc, UnknownServerError)
    assert error_code(exc) == "HTTP502"
    assert "Bad Gateway" in exc.message
