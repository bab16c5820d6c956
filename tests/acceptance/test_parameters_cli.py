"""Parameters through a real ``lambdahost serve`` and the real CLI: ``lambdahost parameters`` (--set, --file,
show), ``lambdahost run`` with ``--param`` and ``--param-file`` and its exit statuses for CI (0 succeeded, 1 the
function failed, 2 a bad value, an unknown parameter or a missing secret, with nothing run), ``--async`` and
``--async --wait`` (a run whose event holds a secret is refused asynchronously and runs synchronously), and the
secret's value never in any output."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from lambdahost.client import Client
from tests.acceptance.conftest import ServerProcess
from tests.waiting import eventually

APP = """
import hashlib

def handler(event, context):
    print("event is", event)
    out = {"event": event}
    if "token" in event:
        out["token_sha"] = hashlib.sha256(event["token"].encode()).hexdigest()
    if "data" in event:
        with open(event["data"]) as f:
            out["rows"] = len(f.read().splitlines())
    if event.get("threshold", 0) > 100:
        raise ValueError("threshold %s over 100 (token %s)" % (event["threshold"], event.get("token")))
    return out
"""

Cli = Callable[..., subprocess.CompletedProcess[str]]


def make_function(cli: Cli, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "code"
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(APP)
    made = cli("create", name, "--code", str(folder), "--handler", "app.handler")
    assert made.returncode == 0, made.stderr


def test_declare_show_and_run_with_exit_statuses(server: ServerProcess, cli: Cli, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    fn, secret, value = f"report-{tag}", f"tok-{tag}", f"secret-value-{tag}"
    make_function(cli, tmp_path, fn)
    assert cli("secrets", "set", secret, "--value", value).returncode == 0
    declared = cli(
        "parameters",
        fn,
        "--set",
        "threshold:number=10",
        "--set",
        "label:string!",
        "--set",
        f"token:secret={{{{secret.{secret}}}}}",
    )
    assert declared.returncode == 0, declared.stderr
    assert "threshold  number  10" in declared.stdout
    shown = cli("parameters", fn, "--json")
    assert [p["Name"] for p in json.loads(shown.stdout)["Parameters"]] == ["threshold", "label", "token"]

    ok = cli("run", fn, "--param", "label=nightly", "--param", "threshold=42", "--log")
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert result["event"] == {"threshold": 42, "label": "nightly", "token": "***"}
    assert value not in ok.stdout + ok.stderr and "event is" in ok.stderr

    failed = cli("run", fn, "--param", "label=x", "--param", "threshold=500")
    assert failed.returncode == 1
    assert "run failed: ValueError: threshold 500 over 100 (token ***)" in failed.stderr
    assert value not in failed.stdout + failed.stderr

    with Client(server.url) as client:  # the two runs above, once recorded (the recorder writes behind)
        assert eventually(lambda: len(client.list_invocations(fn)) == 2)
    bad = cli("run", fn, "--param", "label=x", "--param", "threshold=lots")
    assert bad.returncode == 2
    assert "Parameter 'threshold' (number): 'lots' is not a number" in bad.stderr
    unknown = cli("run", fn, "--param", "label=x", "--param", "colour=red")
    assert unknown.returncode == 2 and "Unknown parameter(s): 'colour'" in unknown.stderr
    missing = cli("run", fn, "--param", "label=x", "--param", "token={{secret.nope}}")
    assert missing.returncode == 2 and "SecretNotFoundException" in missing.stderr
    assert "{{secret.nope}}" in missing.stderr
    required = cli("run", fn)
    assert required.returncode == 2 and "Parameter 'label' (string): required" in required.stderr
    with Client(server.url) as client:
        assert len(client.list_invocations(fn)) == 2, "a refused run stores nothing"

    nowhere = cli("run", f"no-such-{tag}")
    assert nowhere.returncode == 2 and "ResourceNotFoundException" in nowhere.stderr

    bad_declaration = cli("parameters", fn, "--set", "n:number=ten")
    assert bad_declaration.returncode == 2 and "Parameter 'n' (number): 'ten' is not a number" in bad_declaration.stderr


def test_async_runs_and_wait(cli: Cli, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    fn, secret, value = f"async-{tag}", f"atok-{tag}", f"async-secret-{tag}"
    make_function(cli, tmp_path, fn)
    assert cli("secrets", "set", secret, "--value", value).returncode == 0
    declaration = tmp_path / "params.json"
    declaration.write_text(json.dumps({"Parameters": [{"Name": "threshold", "Type": "number", "Default": 5}]}))
    assert cli("parameters", fn, "--file", str(declaration)).returncode == 0

    started = cli("run", fn, "--async")
    assert started.returncode == 0, started.stderr
    request_id = started.stdout.strip()
    assert len(request_id) >= 32

    waited = cli("run", fn, "--async", "--wait", "--param", "threshold=7")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["event"] == {"threshold": 7}

    failing = cli("run", fn, "--async", "--wait", "--param", "threshold=101")
    assert failing.returncode == 1, failing.stderr
    assert "run failed: ValueError: threshold 101 over 100" in failing.stderr

    # a secret in the event: never written to the queue, so an asynchronous run is refused (nothing runs); the same
    # run synchronously gets the value, masked in what comes back
    assert cli("parameters", fn, "--set", f"token:secret={{{{secret.{secret}}}}}", "--set", "data:file").returncode == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("a\nb\nc\n")
    refused = cli("run", fn, "--async", "--wait", "--param-file", f"data=@{rows}")
    assert refused.returncode == 2 and "cannot carry secret values" in refused.stderr
    secret_run = cli("run", fn, "--param-file", f"data=@{rows}", "--log")
    assert secret_run.returncode == 0, secret_run.stderr
    body = json.loads(secret_run.stdout)
    assert body["event"]["token"] == "***" and body["rows"] == 3
    assert value not in secret_run.stdout + secret_run.stderr
