"""Artifacts through a real ``lambdahost serve``: the ``jtl-report`` example (its folder zipped as the CLI zips it,
deployed and invoked with boto3) leaves its workbook and HTML page in ``$LAMBDAHOST_OUTPUT_DIR``; they are stored
with the invocation, listed and downloaded with the CLI (``invocations artifacts``/``download``), byte-identical
to what the API serves (with its content type and attachment header), and the workbook opens."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import openpyxl
from botocore.config import Config

from lambdahost.client import Client
from lambdahost.code.folder import zip_folder
from lambdahost.core.errors import ResourceNotFound
from tests.acceptance.conftest import ServerProcess
from tests.examples.conftest import EXAMPLES
from tests.examples.jtl_gen import write_jtl
from tests.waiting import eventually

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def artifact_count(api: Client, invocation_id: str) -> int:
    """How many artifacts are listed (0 while a sync invocation's record is still being written: 404)."""
    try:
        return len(api.list_artifacts(invocation_id))
    except ResourceNotFound:
        return 0


def lambda_client(server: ServerProcess) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120),
    )


def test_jtl_report_artifacts_are_listed_and_downloaded_with_the_cli(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(tmp_path / "data", "--artifact-retention", "2h")
    write_jtl(tmp_path / "run.jtl", 500)
    aws = lambda_client(server)
    aws.create_function(
        FunctionName="jtl-report",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/any",
        Handler="app.handler",
        Code={"ZipFile": zip_folder(EXAMPLES / "jtl_report")},
        Timeout=60,
        MemorySize=512,
    )
    reply = aws.invoke(FunctionName="jtl-report", Payload=json.dumps({"jtl": str(tmp_path / "run.jtl")}).encode())
    assert "FunctionError" not in reply
    invocation_id = reply["ResponseMetadata"]["RequestId"]
    api = Client(server.url)
    assert eventually(lambda: artifact_count(api, invocation_id) == 2, timeout=10)
    listed = api.list_artifacts(invocation_id)
    assert [a["Name"] for a in listed] == ["jtl-report.html", "jtl-report.xlsx"]
    assert all(a["ExpiresAt"] - a["CreatedAt"] == 7200 for a in listed)

    shown = server.run_cli("invocations", "artifacts", invocation_id)
    assert shown.returncode == 0, shown.stderr
    assert "jtl-report.xlsx" in shown.stdout and "jtl-report.html" in shown.stdout

    out = tmp_path / "downloads"
    got = server.run_cli("invocations", "download", invocation_id, "-o", str(out))
    assert got.returncode == 0, got.stderr
    assert sorted(p.name for p in out.iterdir()) == ["jtl-report.html", "jtl-report.xlsx"]
    for artifact in listed:
        data = (out / artifact["Name"]).read_bytes()
        assert len(data) == artifact["Size"] and hashlib.sha256(data).hexdigest() == artifact["Sha256"]
    workbook = openpyxl.load_workbook(out / "jtl-report.xlsx", read_only=True)
    assert len(workbook.sheetnames) >= 2
    workbook.close()

    one = server.run_cli("invocations", "download", invocation_id, "jtl-report.html", "-o", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["jtl-report.html"]
    missing = server.run_cli("invocations", "download", invocation_id, "nope.txt")
    assert missing.returncode != 0 and "nope.txt" in missing.stderr

    url = f"{server.url}/lambdahost/v1/invocations/{invocation_id}/artifacts/jtl-report.xlsx"
    with urllib.request.urlopen(url) as response:
        assert response.headers["Content-Type"] == XLSX
        assert response.headers["Content-Disposition"].startswith('attachment; filename="jtl-report.xlsx"')
        assert response.read() == (out / "jtl-report.xlsx").read_bytes()

    unknown = server.run_cli("invocations", "artifacts", "no-such-invocation")
    assert unknown.returncode == 2 and "ResourceNotFoundException" in unknown.stderr

    queued = aws.invoke(
        FunctionName="jtl-report",
        InvocationType="Event",
        Payload=json.dumps({"jtl": str(tmp_path / "run.jtl")}).encode(),
    )
    queued_id = queued["ResponseMetadata"]["RequestId"]
    assert eventually(lambda: artifact_count(api, queued_id) == 2, timeout=30)
    api.close()
    aws.close()
