"""``lambdahost mappings ...``: event source mappings from the real CLI against a running server, and a mapping
made there really draining its queue."""

from __future__ import annotations

import io
import json
import subprocess
import uuid
import zipfile
from collections.abc import Callable

from lambdahost.client import Client
from tests.acceptance.conftest import ServerProcess
from tests.waiting import eventually

Cli = Callable[..., subprocess.CompletedProcess[str]]


def ok(cli: Cli, *args: str) -> str:
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def noop_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buf.getvalue()


def test_mapping_commands(cli: Cli, server: ServerProcess) -> None:
    function_name, queue = f"cli-fn-{uuid.uuid4().hex[:8]}", f"cli-src-{uuid.uuid4().hex[:8]}"
    with Client(server.url) as client:
        client.create_function(function_name, noop_zip(), "app.handler")
    ok(cli, "queues", "create", queue)

    created = json.loads(
        ok(
            cli,
            "mappings",
            "create",
            function_name,
            queue,
            "--batch-size",
            "20",
            "--window",
            "1",
            "--report-failures",
            "--filter",
            '{"body": [{"prefix": "go"}]}',
            "--disabled",
        )
    )
    uuid_ = created["UUID"]
    assert created["EventSourceArn"] == f"arn:aws:sqs:us-east-1:000000000000:{queue}"
    assert (created["BatchSize"], created["FunctionResponseTypes"]) == (20, ["ReportBatchItemFailures"])
    assert created["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": [{"prefix": "go"}]}'}]}

    listing = ok(cli, "mappings", "list", "--function", function_name)
    row = next(line.split() for line in listing.splitlines() if line.startswith(uuid_))
    assert row[1:5] == [function_name, queue, "Disabled", "20"]
    assert json.loads(ok(cli, "mappings", "get", uuid_))["State"] == "Disabled"

    updated = json.loads(ok(cli, "mappings", "update", uuid_, "--batch-size", "5", "--no-filters"))
    assert updated["BatchSize"] == 5 and "FilterCriteria" not in updated

    for n in range(3):
        ok(cli, "queues", "send", queue, f"message {n}")
    assert ok(cli, "mappings", "enable", uuid_).strip() == "Enabling"
    with Client(server.url) as client:
        assert eventually(lambda: client.queue_attributes(queue)["ApproximateNumberOfMessages"] == "0", timeout=10)
        assert eventually(lambda: client.queue_attributes(queue)["ApproximateNumberOfMessagesNotVisible"] == "0")
    assert eventually(lambda: json.loads(ok(cli, "mappings", "get", uuid_))["LastProcessingResult"] == "OK")
    assert ok(cli, "mappings", "disable", uuid_).strip() == "Disabling"
    assert ok(cli, "mappings", "delete", uuid_).strip() == "Deleting"
    assert ok(cli, "mappings", "list", "--function", function_name).strip() == "no event source mappings"

    missing = cli("mappings", "get", uuid_)
    assert missing.returncode == 2
    assert "ResourceNotFoundException" in missing.stderr
    refused = cli("mappings", "create", function_name, queue, "--batch-size", "11")
    assert refused.returncode == 2 and "Maximum batch window in seconds" in refused.stderr
