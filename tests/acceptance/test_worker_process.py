"""`lambdahost worker` as a separate process sharing one PostgreSQL with an API-only `lambdahost serve`
(`--worker-slots 0`): asynchronous invocations accepted by the server run in the worker's environments."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdahost.client import Client
from tests.acceptance.conftest import clean_env, start_server

APP = (
    "import os, time\n\ndef handler(event, context):\n"
    "    time.sleep(0.05)\n    return {'pid': os.getpid(), 'n': event['n']}\n"
)


def start_worker(data_dir: Path, store: str, api_url: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lambdahost",
            "worker",
            "--store",
            store,
            "--data-dir",
            str(data_dir),
            "--api-url",
            api_url,
            "--slots",
            "4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.match(r"lambdahost worker (\S+) running", line)
    assert found, f"unexpected first line from the worker: {line!r}"
    return process, found.group(1)


@pytest.mark.postgres
def test_an_api_only_server_and_a_worker_process_share_one_postgresql(pg_url: str, tmp_path: Path) -> None:
    server = start_server(tmp_path / "server", "--store", pg_url, "--worker-slots", "0")
    worker, worker_id = None, ""
    try:
        worker, worker_id = start_worker(tmp_path / "worker", pg_url, server.url)
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
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=20)
        assert worker.returncode == 0 and "lambdahost worker stopped" in err
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.communicate()
        server.stop()
