"""``core.sigv4`` against botocore's own signer (``botocore.auth.SigV4Auth``) and real boto3 requests."""

from __future__ import annotations

import calendar
import hashlib
import time
from dataclasses import replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials

from lambdahost.core import errors
from lambdahost.core.credentials import PLACEHOLDER, Credentials
from lambdahost.core.sigv4 import (
    UNSIGNED_PAYLOAD,
    HttpRequest,
    Verifier,
    canonical_query,
    canonical_uri,
    sign,
)

KEY = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
OTHER = Credentials("AKIDOTHER", "another-secret")
ENDPOINT = "http://127.0.0.1:9000"
ARN_PATH = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Amy-fn/invocations"


def botocore_signed(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None, region: str = "us-east-1"
) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(BotoCredentials(KEY.access_key_id, KEY.secret_access_key), "lambda", region).add_auth(request)
    return request


def as_http_request(request: AWSRequest) -> tuple[HttpRequest, bytes]:
    """What a server sees of a botocore request (urllib3 sends the Host header botocore signed)."""
    parts = urlsplit(request.url)
    headers = [("Host", parts.netloc)]
    for name, value in request.headers.items():
        headers.append((name, value.decode() if isinstance(value, bytes) else value))
    body = request.body or b""
    return HttpRequest(request.method, parts.path, parts.query, headers), body if isinstance(body, bytes) else b""


def epoch(timestamp: str) -> int:
    return calendar.timegm(time.strptime(timestamp, "%Y%m%dT%H%M%SZ"))


def verifier_at(timestamp: str, *keys: Credentials) -> Verifier:
    at = epoch(timestamp)
    return Verifier(keys or (KEY,), clock=lambda: at)


CASES = [
    ("POST", ENDPOINT + ARN_PATH + "?Qualifier=%24LATEST", b'{"a": 1}', {"X-Amz-Invocation-Type": "Event"}),
    ("POST", ENDPOINT + "/2015-03-31/functions/my-fn/invocations", b"", {"X-Amz-Log-Type": "Tail"}),
    ("GET", ENDPOINT + "/2015-03-31/functions?Marker=abc%2F%3D%2B%20x&MaxItems=5", b"", {}),
    ("GET", ENDPOINT + "/2015-03-31/functions/?MaxItems=50&Marker=a", b"", {}),
    ("GET", ENDPOINT + "/2015-03-31/functions/my-fn?Qualifier=1", b"", {}),
    ("PUT", ENDPOINT + "/2015-03-31/functions/my-fn/code", b'{"ZipFile": "UEsDBA=="}', {"Content-Type": "x/y"}),
    ("GET", "http://lambdahost.example/lambdahost/v1/invocations?function=a%20b&limit=5", b"", {}),
]


@pytest.mark.parametrize(("method", "url", "body", "headers"), CASES)
def test_signature_equals_botocores(method: str, url: str, body: bytes, headers: dict[str, str]) -> None:
    signed = botocore_signed(method, url, body, headers)
    timestamp = signed.headers["X-Amz-Date"]
    parts = urlsplit(url)
    request = HttpRequest(method, parts.path, parts.query, [("Host", parts.netloc), *headers.items()])
    ours = dict(sign(request, KEY, "us-east-1", "lambda", epoch(timestamp), body))
    assert ours["X-Amz-Date"] == timestamp
    assert ours["Authorization"] == signed.headers["Authorization"]


@pytest.mark.parametrize(("method", "url", "body", "headers"), CASES)
def test_verifier_accepts_botocore_requests_and_rejects_tampered_ones(
    method: str, url: str, body: bytes, headers: dict[str, str]
) -> None:
    signed = botocore_signed(method, url, body, headers, region="eu-west-3")  # any region is accepted
    request, sent = as_http_request(signed)
    verifier = verifier_at(signed.headers["X-Amz-Date"], OTHER, KEY)
    assert verifier.verify(request, sent) == KEY.access_key_id
    with pytest.raises(errors.InvalidSignature) as caught:
        verifier.verify(request, sent + b" ")
    assert caught.value.message.startswith("The request signature we calculated does not match")
    with pytest.raises(errors.InvalidSignature):
        verifier.verify(replace(request, query=request.query + "&Extra=1"), sent)
    with pytest.raises(errors.InvalidSignature):
        verifier.verify(replace(request, path=request.path.rstrip("/") + "x"), sent)
    with pytest.raises(errors.InvalidSignature):
        verifier.verify(replace(request, method="DELETE"), sent)


def test_wrong_secret_is_a_signature_mismatch() -> None:
    signed = botocore_signed("GET", ENDPOINT + "/2015-03-31/functions")
    request, _ = as_http_request(signed)
    verifier = verifier_at(signed.headers["X-Amz-Date"], Credentials(KEY.access_key_id, "not-the-secret"))
    with pytest.raises(errors.InvalidSignature) as caught:
        verifier.verify(request)
    assert caught.value.message == (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details."
    )
    assert caught.value.status == 403 and caught.value.code == "InvalidSignatureException"


def test_unknown_key_and_missing_authorization() -> None:
    signed = botocore_signed("GET", ENDPOINT + "/2015-03-31/functions")
    request, _ = as_http_request(signed)
    with pytest.raises(errors.UnrecognizedClient) as unknown:
        verifier_at(signed.headers["X-Amz-Date"], OTHER).verify(request)
    assert unknown.value.message == "The security token included in the request is invalid."
    assert unknown.value.code == "UnrecognizedClientException"
    unsigned = HttpRequest("GET", "/2015-03-31/functions", "", [("Host", "127.0.0.1:9000")])
    with pytest.raises(errors.MissingAuthenticationToken) as missing:
        Verifier([KEY]).verify(unsigned)
    assert missing.value.message == "Missing Authentication Token"
    assert missing.value.body() == {"Type": "User", "message": "Missing Authentication Token"}
    assert (missing.value.status, missing.value.code) == (403, "MissingAuthenticationTokenException")


def test_expiry_with_an_injected_clock() -> None:
    now = 1_700_000_000  # 2023-11-14T22:13:20Z
    request = HttpRequest("GET", "/2015-03-31/functions", "MaxItems=5", [("Host", "h")])
    signed = replace(request, headers=[*request.headers, *sign(request, KEY, "us-east-1", "lambda", now)])
    clock = [float(now)]
    verifier = Verifier([KEY], clock=lambda: clock[0])
    for skew in (0, 15 * 60, -15 * 60):
        clock[0] = now + skew
        assert verifier.verify(signed) == KEY.access_key_id
    clock[0] = now + 15 * 60 + 1
    with pytest.raises(errors.InvalidSignature) as expired:
        verifier.verify(signed)
    assert expired.value.message == (
        "Signature expired: 20231114T221320Z is now earlier than 20231114T221321Z (20231114T222821Z - 15 min.)"
    )
    clock[0] = now - 15 * 60 - 1
    with pytest.raises(errors.InvalidSignature) as early:
        verifier.verify(signed)
    assert early.value.message == (
        "Signature not yet current: 20231114T221320Z is still later than 20231114T221319Z (20231114T215819Z + 15 min.)"
    )


def test_real_boto3_requests_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact bytes boto3's lambda client would send (captured before sending), ARNs and pagination."""
    captured: list[AWSRequest] = []

    class Captured(Exception):
        pass

    def capture(request: AWSRequest, **kwargs: Any) -> None:
        captured.append(request)
        raise Captured

    client = boto3.client(
        "lambda",
        endpoint_url=ENDPOINT,
        region_name="ap-south-1",
        aws_access_key_id=KEY.access_key_id,
        aws_secret_access_key=KEY.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )
    client.meta.events.register("before-send", capture)
    calls = [
        lambda: client.invoke(
            FunctionName="arn:aws:lambda:us-east-1:000000000000:function:my-fn", Payload=b"{}", Qualifier="$LATEST"
        ),
        lambda: client.list_functions(Marker="a/b+c=", MaxItems=7),
        lambda: client.get_function_configuration(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:f:2"),
        lambda: client.update_function_configuration(FunctionName="f", Environment={"Variables": {"A": "é ü"}}),
    ]
    for call in calls:
        with pytest.raises(Captured):
            call()
    assert "arn%3Aaws%3Alambda" in captured[0].url and "Qualifier=%24LATEST" in captured[0].url
    assert "x-amz-content-sha256" not in {name.lower() for name in captured[0].headers}  # the body is hashed
    for request in captured:
        http_request, body = as_http_request(request)
        verifier = verifier_at(request.headers["X-Amz-Date"].decode())
        assert verifier.verify(http_request, body) == KEY.access_key_id


def test_declared_payload_hash_and_unsigned_payload() -> None:
    body = b'{"x": 1}'
    url = ENDPOINT + "/2015-03-31/functions/f/invocations"
    declared = botocore_signed("POST", url, body, {"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
    request, sent = as_http_request(declared)
    pending = verifier_at(declared.headers["X-Amz-Date"]).check(request)
    assert pending.needs_body
    assert pending.verify(sent) == KEY.access_key_id
    with pytest.raises(errors.InvalidSignature) as caught:
        pending.verify(b"{}")
    assert "x-amz-content-sha256" in caught.value.message

    unsigned = botocore_signed("POST", url, body, {"X-Amz-Content-SHA256": UNSIGNED_PAYLOAD})
    request, _ = as_http_request(unsigned)
    pending = verifier_at(unsigned.headers["X-Amz-Date"]).check(request)
    assert not pending.needs_body
    assert pending.verify() == KEY.access_key_id

    streaming = botocore_signed("POST", url, body, {"X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"})
    request, _ = as_http_request(streaming)
    with pytest.raises(errors.InvalidSignature):
        verifier_at(streaming.headers["X-Amz-Date"]).check(request)


def test_date_header_instead_of_x_amz_date() -> None:
    signed = botocore_signed("GET", ENDPOINT + "/2015-03-31/functions", headers={"Date": "placeholder"})
    assert "X-Amz-Date" not in signed.headers
    request, _ = as_http_request(signed)
    at = parsedate_to_datetime(signed.headers["Date"]).timestamp()
    assert Verifier([KEY], clock=lambda: at).verify(request) == KEY.access_key_id


def test_scope_and_malformed_headers() -> None:
    now = 1_700_000_000
    request = HttpRequest("GET", "/2015-03-31/functions", "", [("Host", "h")])
    verifier = Verifier([KEY], clock=lambda: now)

    def with_auth(authorization: str, timestamp: str = "20231114T221320Z") -> HttpRequest:
        return replace(request, headers=[("Host", "h"), ("X-Amz-Date", timestamp), ("Authorization", authorization)])

    def error_of(candidate: HttpRequest) -> errors.LambdaHostError:
        with pytest.raises(errors.AccessDenied) as caught:
            verifier.check(candidate)
        return caught.value

    good = dict(sign(request, KEY, "us-east-1", "lambda", now))["Authorization"]
    wrong_service = sign(request, KEY, "us-east-1", "s3", now)[1][1]
    assert isinstance(error_of(with_auth(wrong_service)), errors.InvalidSignature)
    assert "scoped to correct service: 'lambda'" in error_of(with_auth(wrong_service)).message
    terminator = good.replace("/aws4_request", "/aws5_request")
    assert "valid terminator" in error_of(with_auth(terminator)).message
    other_day = error_of(with_auth(good, "20231115T000000Z"))
    assert "Date in Credential scope does not match" in other_day.message
    incomplete = error_of(with_auth("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/lambda/aws4_request"))
    assert isinstance(incomplete, errors.IncompleteSignature)
    assert "requires 'Signature' parameter" in incomplete.message
    assert "requires 'SignedHeaders' parameter" in incomplete.message
    assert incomplete.code == "IncompleteSignatureException"
    assert isinstance(error_of(with_auth("Bearer abc.def")), errors.IncompleteSignature)
    assert "missing equal-sign" in error_of(with_auth(good.replace("Signature=", "Signature "))).message
    no_date = replace(request, headers=[("Host", "h"), ("Authorization", good)])
    assert "either a 'X-Amz-Date' or a 'Date' header" in error_of(no_date).message
    host_unsigned = good.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date")
    assert "'Host'" in error_of(with_auth(host_unsigned)).message


def test_canonical_uri_and_query_follow_the_spec() -> None:
    assert canonical_uri("") == "/"
    assert canonical_uri("/a/./b/../c//d/") == "/a/c/d/"
    assert canonical_uri("/functions/arn%3Aaws%3Alambda") == "/functions/arn%253Aaws%253Alambda"
    assert canonical_uri("/x y~") == "/x%20y~"
    assert canonical_query("b=2&a=3&a=1&c") == "a=1&a=3&b=2&c="
    assert canonical_query("Marker=a%2fb&x=a+b&y=%7e") == "Marker=a%2Fb&x=a%2Bb&y=~"


def test_credentials_hide_the_secret_and_validate() -> None:
    assert KEY.secret_access_key not in repr(KEY)
    generated = Credentials.generate("LHFN")
    assert generated.access_key_id.startswith("LHFN") and len(generated.access_key_id) == 20
    assert generated != Credentials.generate("LHFN") and generated != PLACEHOLDER
    with pytest.raises(ValueError):
        Credentials("has/slash", "s")
    with pytest.raises(ValueError):
        Credentials("id", "")
