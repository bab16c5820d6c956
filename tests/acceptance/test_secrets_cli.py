"""Secrets through a real ``lambdahost serve`` and the real CLI: ``secrets set`` (--value, --from-file, stdin),
``list`` and ``rm``; a function whose environment references a secret runs with the value while the CLI's
result, log tail, ``logs`` and ``invocations show`` and every API response show ``***`` or the reference, never
the value; an unknown secret stops a run (CLI, boto3) with its name; the key file is created 0600 and a looser one
stops the server; a server sharing the store with another key gets a clear error, never a value."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdahost.client import Client
from lambdahost.engine.secret_key import generate_key_text
from tests.acceptance.conftest import ServerProcess, clean_env

APP = """
import hashlib, os

def handler(event, context):
    token = os.environ["TOKEN"]
    print("the token is", token)
    return {"token": token, "sha": hashlib.sha256(token.encode()).hexdigest()}
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def raw_get(url: str, path: str) -> bytes:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(APP)
    return folder


def lambda_client(url: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )


def test_secret_commands_and_masked_output(
    server: ServerProcess, cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    name, piped, filed, fn = f"tok-{tag}", f"piped-{tag}", f"filed-{tag}", f"secret-fn-{tag}"
    value = f'value-{tag}-"q"-\u00fc'
    outputs: list[str] = []

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = cli(*args, stdin=stdin) if stdin is not None else cli(*args)
        outputs.extend((done.stdout, done.stderr))
        return done

    created = run("secrets", "set", name, "--value", value)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"secret {name} created: reference it as {{{{secret.{name}}}}}"
    assert run("secrets", "set", piped, stdin="piped-value\n").returncode == 0
    (tmp_path / "value.txt").write_text("filed-value")
    assert run("secrets", "set", filed, "--from-file", str(tmp_path / "value.txt")).returncode == 0
    updated = run("secrets", "set", name, "--value", value)
    assert updated.returncode == 0 and f"secret {name} updated" in updated.stdout
    listed = run("secrets", "list")
    assert listed.returncode == 0 and all(n in listed.stdout for n in (name, piped, filed))

    made = run("create", fn, "--code", str(code_dir(tmp_path)), "--handler", "app.handler", "--env",
               f"TOKEN={{{{secret.{name}}}}}")  # fmt: skip
    assert made.returncode == 0, made.stderr
    invoked = run("invoke", fn, "--log", "--raw")
    assert invoked.returncode == 0, invoked.stderr
    result = json.loads(invoked.stdout)
    assert result == {"token": "***", "sha": sha(value)}, "the function got the real value; the caller sees ***"
    assert "the token is ***" in invoked.stderr
    queued = run("invoke", fn, "--async")
    assert queued.returncode == 0, queued.stderr
    request_id = queued.stdout.strip()
    with Client(server.url) as client:
        deadline = time.monotonic() + 20
        while client.get_invocation(request_id)["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the async invocation did not finish"
            time.sleep(0.05)
        other = f"{fn}-other"
        client.create_function(
            other, code_zip(tmp_path), "app.handler", environment={"TOKEN": f"{{{{secret.{piped}}}}}"}
        )
        assert json.loads(client.invoke(other, {}).payload)["sha"] == sha("piped-value"), "one line end dropped"
        client.update_function_configuration(other, environment={"TOKEN": f"{{{{secret.{filed}}}}}"})
        assert json.loads(client.invoke(other, {}).payload)["sha"] == sha("filed-value"), "the file, exactly"
    shown = run("invocations", "show", request_id)
    assert shown.returncode == 0 and "the token is ***" in shown.stdout, shown.stdout
    logs = run("logs", fn)
    assert logs.returncode == 0 and logs.stdout.count("the token is ***") >= 2, logs.stdout

    responses = [
        raw_get(server.url, "/lambdahost/v1/secrets"),
        raw_get(server.url, f"/2015-03-31/functions/{fn}/configuration"),
        raw_get(server.url, f"/lambdahost/v1/invocations/{request_id}"),
        raw_get(server.url, f"/lambdahost/v1/functions/{fn}/logs"),
    ]
    assert f"{{{{secret.{name}}}}}".encode() in responses[1], "the configuration shows the reference"
    for text in [*outputs, *(r.decode() for r in responses), server.output()]:
        for secret in (value, json.dumps(value)[1:-1], "piped-value", "filed-value"):
            assert secret not in text

    removed = run("secrets", "rm", name, piped, filed)
    assert removed.returncode == 0 and removed.stdout.splitlines() == [
        f"secret {name} deleted",
        f"secret {piped} deleted",
        f"secret {filed} deleted",
    ]
    assert name not in run("secrets", "list").stdout
    again = run("secrets", "rm", name)
    assert again.returncode == 2 and f"ResourceNotFoundException: Secret not found: {name}" in again.stderr
    stopped = run("invoke", fn)
    assert stopped.returncode == 2
    assert f"SecretNotFoundException: The secret {{{{secret.{name}}}}} does not exist" in stopped.stderr


def test_an_unknown_secret_is_a_named_400_for_boto3(server: ServerProcess, tmp_path: Path) -> None:
    fn = f"secret-missing-{uuid.uuid4().hex[:8]}"
    with Client(server.url) as client:
        client.create_function(fn, code_zip(tmp_path), "app.handler", environment={"TOKEN": "{{secret.never-set}}"})
    with pytest.raises(ClientError) as caught:
        lambda_client(server.url).invoke(FunctionName=fn, Payload=b"{}")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "SecretNotFoundException"
    assert "{{secret.never-set}}" in error["Error"]["Message"]


def code_zip(tmp_path: Path) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
    return buf.getvalue()


def test_the_key_file_is_created_with_mode_0600(server: ServerProcess) -> None:
    key_file = server.data_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_key_file_others_can_read_stops_the_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key_file = data_dir / "secret.key"
    key_file.write_text(generate_key_text() + "\n")
    os.chmod(key_file, 0o644)
    done = subprocess.run(
        [sys.executable, "-m", "lambdahost", "serve", "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"SecretKeyError: The secrets key file {key_file} has mode 0644" in done.stderr
    assert f"chmod 600 {key_file}" in done.stderr


def test_a_server_with_another_key_says_so_and_never_shows_a_value(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    first = server_factory(tmp_path / "one", "--secret-key", generate_key_text())
    store = f"sqlite:///{first.data_dir / 'lambdahost.db'}"
    with Client(first.url) as client:
        client.put_secret("shared-token", "shared-value-123")
        client.create_function(
            "keyed", code_zip(tmp_path), "app.handler", environment={"TOKEN": "{{secret.shared-token}}"}
        )
        assert json.loads(client.invoke("keyed", {}).payload)["sha"] == sha("shared-value-123")
    second = server_factory(
        tmp_path / "two", "--store", store, "--secret-key", generate_key_text(), "--worker-slots", "0"
    )
    done = second.run_cli("invoke", "keyed")
    assert done.returncode == 2
    assert "SecretKeyMismatchException: The secret {{secret.shared-token}} cannot be decrypted" in done.stderr
    assert "LAMBDAHOST_SECRET_KEY" in done.stderr
    for text in (done.stdout, done.stderr, second.output()):
        assert "shared-value-123" not in text
