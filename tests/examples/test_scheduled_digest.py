"""The ``scheduled-digest`` example against a real ``lambdahost serve`` with authentication on: functions created
and invoked with boto3, then the handler (in-process, with the environment the platform gives functions) reads
them back through the Lambda API and the native invocations API, with requests it signs itself (no boto3).
``test_digest_deployed.py`` runs it deployed, inside the platform."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambdahost.code.testing import make_zip
from tests.acceptance.conftest import ServerProcess, start_server
from tests.examples.conftest import load_example

KEY_ID, SECRET = "AKIDDIGEST", "digest-test-secret"
OK = "def handler(event, context):\n    return {'ok': True}\n"
BAD = "def handler(event, context):\n    raise ValueError('broken on purpose')\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(
        tmp_path_factory.mktemp("digest") / "data", "--access-key-id", KEY_ID, "--secret-access-key", SECRET
    )
    yield running
    running.stop()


@pytest.fixture
def platform_env(server: ServerProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What the platform sets for a function (endpoint, region, key pair, output directory)."""
    for key, value in {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": "lambdahost-session",
        "LAMBDAHOST_OUTPUT_DIR": str(tmp_path / "out"),
    }.items():
        monkeypatch.setenv(key, value)


def lambda_client(url: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def create(client: Any, name: str, source: str) -> None:
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/any",
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source.encode()})},
    )


def test_digest_of_the_other_functions_runs(server: ServerProcess, platform_env: None) -> None:
    client = lambda_client(server.url)
    create(client, "digest-ok", OK)
    create(client, "digest-bad", BAD)
    create(client, "digest-self", OK)
    for _ in range(3):
        assert "FunctionError" not in client.invoke(FunctionName="digest-ok", Payload=b"{}")
    for _ in range(2):
        assert client.invoke(FunctionName="digest-bad", Payload=b"{}")["FunctionError"] == "Unhandled"
    app = load_example("scheduled_digest")

    result = app.handler({}, SimpleNamespace(function_name="digest-self"))

    rows = {row["function"]: row for row in result["functions"]}
    assert set(rows) == {"digest-ok", "digest-bad"}  # every function but the digest itself
    assert (rows["digest-ok"]["runs"], rows["digest-ok"]["succeeded"], rows["digest-ok"]["failed"]) == (3, 3, 0)
    assert rows["digest-ok"]["success_pct"] == 100
    assert rows["digest-ok"]["duration_p95_ms"] is not None
    assert (rows["digest-bad"]["runs"], rows["digest-bad"]["failed"]) == (2, 2)
    assert sum(rows["digest-bad"]["errors"].values()) == 2
    assert len(rows["digest-bad"]["recent_failures"]) == 2
    assert result["totals"] == {"functions": 2, "runs": 5, "failed": 2}
    report = (Path(result["output_dir"]) / "digest.md").read_text()
    assert "| digest-bad | 2 | 0 | 2 | 0 |" in report

    past = app.handler({"functions": ["digest-ok"], "now": time.time() - 30 * 86400}, None)
    assert past["functions"][0]["runs"] == 0  # nothing in a week that ended a month ago


def test_function_names_page_through_every_function(server: ServerProcess, platform_env: None) -> None:
    client = lambda_client(server.url)
    for i in range(5):
        create(client, f"digest-page-{i}", OK)
    listed = [
        f["FunctionName"] for page in client.get_paginator("list_functions").paginate() for f in page["Functions"]
    ]
    load_example("scheduled_digest")
    platform_api = importlib.import_module("rundigest.platform_api")

    names = platform_api.PlatformApi(functions_page=2).function_names()

    assert names == listed and len(names) >= 5 and len(set(names)) == len(names)


def test_unsigned_requests_are_refused_with_authentication_on(
    server: ServerProcess, platform_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    load_example("scheduled_digest")
    platform_api = importlib.import_module("rundigest.platform_api")
    with pytest.raises(RuntimeError, match=r"GET /2015-03-31/functions answered 403: .*Missing Authentication Token"):
        platform_api.PlatformApi().function_names()
