"""`lambdahost worker` as a separate process sharing one PostgreSQL with an API-only `lambdahost serve`
(`--worker-slots 0`): asynchronous invocations accepted by the server run in the worker's environments."""

from __future__ import annotations

import io
import json
import signal
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdahost.client import Client
from tests.acceptance.conftest import start_server
from tests.acceptance.processes import start_worker

APP = (
    "import os, time\n\ndef handler(event, context):\n"
    "    time.sleep(0.05)\n    return {'pid': os.getpid(), 'n': event['n']}\n"
)


@pytest.mark.postgres
def test_an_api_only_server_and_a_worker_process_share_one_postgresql(pg_url: str, tmp_path: Path) -> None:
    server = start_server(tmp_path / "server", "--store", pg_url, "--worker-slots", "0")
    worker = None
    try:
        worker = start_worker(tmp_path / "worker", pg_url, server.url, "--slots", "4")
        worker_id = worker.id
        lam: Any = boto3.client(
            "lambda",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", APP)
        lam.create_function(
            FunctionName="shared-work",
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/x",
            Handler="app.handler",
            Code={"ZipFile": buf.getvalue()},
        )
        ids = [
            lam.invoke(FunctionName="shared-work", InvocationType="Event", Payload=json.dumps({"n": n}))[
                "ResponseMetadata"
            ]["RequestId"]
            for n in range(12)
        ]
        lam.close()
        records: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 30
        with Client(server.url) as client:
            while len(records) < len(ids) and time.monotonic() < deadline:
                for request_id in ids:
                    if request_id not in records:
                        record = client.get_invocation(request_id)
                        if record["status"] == "succeeded":
                            records[request_id] = record
                time.sleep(0.1)
        assert len(records) == 12, "every accepted invocation ran"
        assert {r["worker"] for r in records.values()} == {worker_id}, "the API-only server ran none of them"
        assert sorted(json.loads(r["result"])["n"] for r in records.values()) == list(range(12))
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=20) == 0 and "lambdahost worker stopped" in worker.output()
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
