"""The ``scheduled-digest`` example's own SigV4 signer (``rundigest/sigv4.py``, standard library only) against the AWS
SigV4 test suite's vectors and against botocore's signer (``SigV4Auth``) for the same request, credentials and a
fixed time: the Authorization header must be the same, character for character."""

from __future__ import annotations

import datetime
import importlib
from types import ModuleType
from urllib.parse import parse_qsl

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from tests.examples.conftest import load_example

KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AT = datetime.datetime(2026, 3, 2, 23, 59, 58)  # naive UTC, as botocore's clock gives it


@pytest.fixture(scope="module")
def sigv4() -> ModuleType:
    load_example("scheduled_digest")  # puts the example's directory on sys.path
    return importlib.import_module("rundigest.sigv4")


def epoch(moment: datetime.datetime) -> float:
    return moment.replace(tzinfo=datetime.UTC).timestamp()


def botocore_headers(
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
    path: str,
    params: dict[str, str],
    token: str | None,
    region: str,
    service: str = "lambda",
) -> dict[str, str]:
    """What botocore's signer adds to a GET of ``endpoint + path`` with ``params``, at ``AT``."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: AT)
    request = AWSRequest(method="GET", url=endpoint + path, params=params)
    SigV4Auth(BotoCredentials(KEY_ID, SECRET, token), service, region).add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize(
    ("params", "signature"),
    [
        ({}, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),  # get-vanilla
        (  # get-vanilla-query-order-key-case
            {"Param2": "value2", "Param1": "value1"},
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
    ],
)
def test_aws_test_suite_vectors(sigv4: ModuleType, params: dict[str, str], signature: str) -> None:
    """AWS's SigV4 test suite: host example.amazonaws.com, 2015-08-30T12:36:00Z, us-east-1, service "service"."""
    credentials = sigv4.Credentials(KEY_ID, SECRET)
    query = sigv4.canonical_query(params)
    at = epoch(datetime.datetime(2015, 8, 30, 12, 36))
    headers = sigv4.signed_headers("example.amazonaws.com", "/", query, credentials, "us-east-1", "service", at)
    assert headers == {
        "Host": "example.amazonaws.com",
        "X-Amz-Date": "20150830T123600Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={signature}",
    }


@pytest.mark.parametrize("token", [None, "lambdahost-session"])
@pytest.mark.parametrize(
    ("endpoint", "path", "params", "region"),
    [
        ("http://127.0.0.1:9000", "/2015-03-31/functions", {"MaxItems": "50"}, "us-east-1"),
        ("http://127.0.0.1:9000", "/2015-03-31/functions/", {"MaxItems": "2", "Marker": "c2V0/+=="}, "us-east-1"),
        (
            "http://localhost:41234",
            "/lambdahost/v1/invocations",
            {"function": "jtl-report", "limit": "1000", "before": "1772495998.123456"},
            "eu-central-1",
        ),
        ("http://lambdahost.internal", "/lambdahost/v1/invocations", {"function": "a b~c_d.e-f é*'!"}, "us-west-2"),
        ("https://lambdahost.example.com:443", "/2015-03-31/functions/", {}, "us-east-1"),
        ("https://lambdahost.example.com:8443", "/lambdahost/v1/invocations", {"function": "x&y=z"}, "ap-south-1"),
    ],
)
def test_same_authorization_as_botocore(
    sigv4: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
    path: str,
    params: dict[str, str],
    region: str,
    token: str | None,
) -> None:
    expected = botocore_headers(monkeypatch, endpoint, path, params, token, region)
    credentials = sigv4.Credentials(KEY_ID, SECRET, token)
    host = sigv4.host_header(endpoint)

    ours = sigv4.signed_headers(host, path, sigv4.canonical_query(params), credentials, region, "lambda", epoch(AT))

    assert ours.pop("Host") == host  # sent as signed; equal Authorization headers mean botocore signed it too
    assert ours == expected
    assert ("X-Amz-Security-Token" in ours) == (token is not None)


def test_the_query_sent_is_the_one_signed(sigv4: ModuleType) -> None:
    """Names and values RFC 3986-encoded (UTF-8, only A-Za-z0-9-_.~ kept), sorted by encoded name."""
    query = sigv4.canonical_query({"b": "x y", "a": "é/+=", "Marker": "~ok-_."})
    assert query == "Marker=~ok-_.&a=%C3%A9%2F%2B%3D&b=x%20y"
    assert parse_qsl(query) == [("Marker", "~ok-_."), ("a", "é/+="), ("b", "x y")]


def test_host_header_and_credentials_from_the_environment(sigv4: ModuleType) -> None:
    assert sigv4.host_header("http://127.0.0.1:9000") == "127.0.0.1:9000"
    assert sigv4.host_header("http://127.0.0.1:80") == "127.0.0.1"
    assert sigv4.host_header("https://h.example:443/") == "h.example"
    assert sigv4.host_header("http://[::1]:9000") == "[::1]:9000"
    with pytest.raises(ValueError, match="not a URL with a host"):
        sigv4.host_header("127.0.0.1:9000")
    assert sigv4.Credentials.from_environment({}) is None
    assert sigv4.Credentials.from_environment({"AWS_ACCESS_KEY_ID": "k"}) is None
    assert sigv4.Credentials.from_environment(
        {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    ) == sigv4.Credentials("k", "s", None)
    assert sigv4.Credentials.from_environment(
        {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
    ) == sigv4.Credentials("k", "s", "t")
