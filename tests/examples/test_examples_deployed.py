"""The examples deployed on a real ``lambdahost serve`` (their directory zipped as the CLI zips a folder, created
and invoked with boto3): they import, run inside the sandbox and write to their environment's temporary
directory, as ``serve --example`` will run them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambdahost.code.folder import zip_folder
from tests.acceptance.conftest import ServerProcess, start_server
from tests.examples.conftest import EXAMPLES
from tests.examples.jtl_gen import write_jtl


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server: ServerProcess = start_server(tmp_path_factory.mktemp("deployed") / "data")
    client = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120),
    )
    yield client
    client.close()
    server.stop()


def deploy_and_invoke(client: Any, name: str, directory: str, event: dict[str, Any]) -> dict[str, Any]:
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/any",
        Handler="app.handler",
        Code={"ZipFile": zip_folder(EXAMPLES / directory)},
        Timeout=60,
        MemorySize=512,
    )
    reply = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    body = json.loads(reply["Payload"].read())
    assert "FunctionError" not in reply, body
    result: dict[str, Any] = body
    return result


def test_jtl_report_runs_on_the_platform(client: Any, tmp_path: Path) -> None:
    truth = write_jtl(tmp_path / "run.jtl", 2000, malformed_every=900)
    result = deploy_and_invoke(client, "jtl-report", "jtl_report", {"jtl": str(tmp_path / "run.jtl")})
    assert result["samples"] == 2000 == result["totals"]["count"]
    assert result["malformed"] == len(truth.malformed_lines) == 2
    assert result["outputs"] == ["jtl-report.xlsx", "jtl-report.html"]


def test_anomaly_detect_runs_on_the_platform(client: Any) -> None:
    series = {"interval_s": 1, "response_time": [100.0 + (i % 3) for i in range(60)] + [900.0] * 3}
    result = deploy_and_invoke(client, "anomaly-detect", "anomaly_detect", {"series": series})
    assert [(a["kind"], a["start"], a["end"]) for a in result["anomalies"]] == [("spike", 60, 63)]
    assert result["outputs"] == ["anomalies.svg"]


def test_scheduled_digest_runs_on_the_platform(client: Any) -> None:
    """No requirements vendored: the standard library is all it needs, its calls to the platform included."""
    result = deploy_and_invoke(client, "scheduled-digest", "scheduled_digest", {"days": 7})
    others = {f["FunctionName"] for f in client.list_functions()["Functions"]} - {"scheduled-digest"}
    assert {row["function"] for row in result["functions"]} == others
    assert result["totals"]["functions"] == len(others)
    assert result["outputs"] == ["digest.md"]
