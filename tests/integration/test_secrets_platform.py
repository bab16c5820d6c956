"""Secrets in an embedded Platform (real SQLite file, real environments): a function whose environment variables
reference secrets gets the real values (it returns their hashes), while its log, result and error, as returned
and as stored, show ``***``; an unknown secret stops sync and async runs with the named error; changing or
deleting a secret retires the environments that hold it, also when another process sharing the store changes it;
a process with another key gets a clear error, never a wrong value."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdahost.core.errors import InvalidParameterValue, SecretKeyMismatch, SecretNotFound
from lambdahost.core.model import InvocationStatus
from lambdahost.core.secrets import Masker
from lambdahost.core.settings import Settings
from lambdahost.engine.secret_key import generate_key_text
from lambdahost.runtime.environment import Environment
from lambdahost.runtime.spec import InvokeRequest
from lambdahost.server import Platform
from tests.integration.platforms import finished
from tests.waiting import eventually

APP = """
import hashlib, os, sys, time

print("init sees", os.environ["TOKEN"])

def handler(event, context):
    token = os.environ["TOKEN"]
    print("token is", token)
    if event.get("linger"):
        sys.stdout.write("partial " + token[:4])
        sys.stdout.flush()
        time.sleep(event["linger"])
    print("dsn is", os.environ["DSN"])
    if event.get("fail"):
        raise RuntimeError("refused token " + token)
    return {
        "token": token,
        "sha": hashlib.sha256(token.encode()).hexdigest(),
        "dsn_sha": hashlib.sha256(os.environ["DSN"].encode()).hexdigest(),
        "pid": os.getpid(),
    }
"""
PLAIN = "import os\n\ndef handler(event, context):\n    return {'color': os.environ.get('COLOR')}\n"
TOKEN = 'tok-3f9a"quoted"-\u00fcber-\\-end'  # JSON escapes it in a result: both forms are masked
DB_PASSWORD = "pw-71c2e0d4"
ENV = {"TOKEN": "{{secret.api-token}}", "DSN": "postgres://app:{{ secret.db.password }}@db/app"}
S = InvocationStatus


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def zipped(source: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return base64.b64encode(buf.getvalue()).decode()


def create(platform: Platform, name: str, env: dict[str, str], source: str = APP) -> None:
    platform.functions.create(
        {
            "FunctionName": name,
            "Runtime": "python3.11",
            "Handler": "app.handler",
            "Code": {"ZipFile": zipped(source)},
            "Environment": {"Variables": env},
        }
    )


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    """A Platform on a SQLite file, or (``indirect`` parameter ``"postgres"``) on a fresh PostgreSQL database."""
    store_url = request.getfixturevalue("pg_url") if getattr(request, "param", "sqlite") == "postgres" else None
    settings = Settings(data_dir=tmp_path / "a", store_url=store_url, retry_delays_s=(0.2, 0.4), config_recheck_s=0.2)
    with Platform(settings) as p:
        p.secrets.set("api-token", TOKEN)
        p.secrets.set("db.password", DB_PASSWORD)
        yield p


def assert_masked(text: str | bytes | None) -> None:
    assert text is not None
    blob = text.decode() if isinstance(text, bytes) else text
    for value in (TOKEN, DB_PASSWORD, json.dumps(TOKEN)[1:-1], json.dumps(TOKEN, ensure_ascii=False)[1:-1]):
        assert value not in blob


def test_the_function_gets_the_values_and_everything_kept_or_returned_is_masked(platform: Platform) -> None:
    create(platform, "uses", ENV)
    result = platform.invoker.invoke("uses", b"{}")
    body = json.loads(result.payload)
    assert body["sha"] == sha(TOKEN) and body["dsn_sha"] == sha(f"postgres://app:{DB_PASSWORD}@db/app")
    assert body["token"] == "***"
    assert "token is ***" in result.log and "dsn is postgres://app:***@db/app" in result.log
    assert "init sees ***" in result.log, "the init output of a cold start is masked too"
    assert_masked(result.payload)
    assert_masked(result.log)
    assert_masked(base64.b64decode(result.log_tail_b64))
    assert platform.recorder.flush()
    record = platform.store.get_invocation(result.request_id)
    assert record is not None and record.status is S.SUCCEEDED
    assert_masked(record.result)
    assert_masked(record.log)
    assert record.log is not None and "token is ***" in record.log
    # the stored configuration keeps the references, never the values
    assert platform.functions.get("uses").environment == ENV


def test_an_error_payload_is_masked_sync_and_async(platform: Platform) -> None:
    create(platform, "fails", ENV)
    result = platform.invoker.invoke("fails", b'{"fail": true}')
    error = json.loads(result.payload)
    assert result.function_error == "Unhandled" and error["errorMessage"] == "refused token ***"
    assert_masked(result.payload)
    assert_masked(result.log)
    request_id = platform.enqueuer.enqueue("fails", b'{"fail": true}')
    record = finished(platform, request_id)
    assert record.status is S.FAILED and record.error_message == "refused token ***"
    assert_masked(record.result)
    assert_masked(record.log)


def test_an_unknown_secret_stops_a_sync_run_with_its_name(platform: Platform) -> None:
    create(platform, "missing", {"TOKEN": "{{secret.nope}}", "DSN": "x"})
    cold_starts = platform.pool.cold_starts
    with pytest.raises(SecretNotFound, match=r"\{\{secret\.nope\}\} does not exist") as caught:
        platform.invoker.invoke("missing", b"{}")
    assert caught.value.status == 400 and caught.value.code == "SecretNotFoundException"
    assert platform.pool.cold_starts == cold_starts, "no environment was started"
    platform.secrets.set("nope", "now-there")  # created: the next run resolves it
    assert json.loads(platform.invoker.invoke("missing", b"{}").payload)["sha"] == sha("now-there")


def test_an_unknown_secret_fails_an_async_run_once_with_its_name(platform: Platform) -> None:
    create(platform, "missing-async", {"TOKEN": "{{secret.absent}}", "DSN": "x"})
    request_id = platform.enqueuer.enqueue("missing-async", b"{}")  # accepted: it fails when it would run
    record = finished(platform, request_id)
    assert record.status is S.FAILED and record.attempt == 1, "a configuration error is not retried"
    assert record.error_type == "SecretNotFoundException"
    assert record.error_message is not None and "{{secret.absent}}" in record.error_message
    assert [t.status for t in record.transitions][-1] is S.FAILED
    assert record.duration_ms is None, "nothing ran"


def test_a_malformed_reference_is_refused_when_configured(platform: Platform) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid secret reference"):
        create(platform, "typo", {"TOKEN": "{{secret.bad name}}"})


def test_changing_or_deleting_a_secret_retires_the_environments_holding_it(platform: Platform) -> None:
    create(platform, "rotates", ENV)
    first = json.loads(platform.invoker.invoke("rotates", b"{}").payload)
    again = json.loads(platform.invoker.invoke("rotates", b"{}").payload)
    assert again["pid"] == first["pid"], "warm environment reused while nothing changed"
    platform.secrets.set("api-token", "rotated-value")
    rotated = json.loads(platform.invoker.invoke("rotates", b"{}").payload)
    assert rotated["sha"] == sha("rotated-value") and rotated["pid"] != first["pid"]
    platform.secrets.delete("db.password")
    with pytest.raises(SecretNotFound, match=r"\{\{secret\.db\.password\}\}"):
        platform.invoker.invoke("rotates", b"{}")


@pytest.mark.parametrize("platform", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_change_through_another_process_reaches_this_one(platform: Platform, tmp_path: Path) -> None:
    create(platform, "shared", ENV)
    assert json.loads(platform.invoker.invoke("shared", b"{}").payload)["sha"] == sha(TOKEN)
    key = (platform.settings.data_dir / "secret.key").read_text()
    other = Settings(
        data_dir=tmp_path / "b", store_url=platform.settings.resolved_store_url(), secret_key=key, worker_slots=0
    )
    with Platform(other) as second:
        second.secrets.set("api-token", "set-elsewhere")

    def sees_it() -> bool:
        return json.loads(platform.invoker.invoke("shared", b"{}").payload)["sha"] == sha("set-elsewhere")

    assert eventually(sees_it, timeout=10.0, interval=0.1)


@pytest.mark.parametrize("platform", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_process_with_another_key_gets_a_clear_error_never_a_value(platform: Platform, tmp_path: Path) -> None:
    create(platform, "keyed", ENV)
    other = Settings(
        data_dir=tmp_path / "c", store_url=platform.settings.resolved_store_url(), secret_key=generate_key_text()
    )
    named = r"\{\{secret\.(api-token|db\.password)\}\} cannot be decrypted.*different key"
    with Platform(other) as second, pytest.raises(SecretKeyMismatch, match=named):
        second.invoker.invoke("keyed", b"{}")


def test_a_function_without_secrets_has_no_masker(platform: Platform) -> None:
    create(platform, "plain", {"COLOR": "red"}, PLAIN)
    _config, spec = platform.functions.resolve("plain")
    assert spec.masker is None and spec.refused is None and spec.secrets_version == ""
    assert json.loads(platform.invoker.invoke("plain", b"{}").payload) == {"color": "red"}


def test_the_live_log_of_a_running_invocation_is_masked(platform: Platform) -> None:
    create(platform, "live", ENV)
    done = threading.Thread(target=platform.invoker.invoke, args=("live", b'{"linger": 1.0}'))
    done.start()
    try:
        envs: list[Environment] = []

        def running() -> bool:
            envs[:] = [e for e in platform.pool.environments() if e.request_id and e.spec.function_name == "live"]
            return bool(envs) and b"token is" in (envs[0].running_log(envs[0].request_id or "") or b"")

        assert eventually(running, timeout=10.0)
        live = envs[0].running_log(envs[0].request_id or "")
        assert live is not None and b"token is ***\n" in live
        assert b"partial" not in live, "an unfinished line is held back: it may end in part of a value"
        assert TOKEN.encode() not in live and TOKEN[:4].encode() not in live
    finally:
        done.join()


ECHO = "def handler(event, context):\n    print('event secret', event['s'])\n    return event\n"


def test_values_given_with_one_invocation_are_masked_in_its_outcome(platform: Platform) -> None:
    create(platform, "echo", {"COLOR": "red"}, ECHO)
    _config, spec = platform.functions.resolve("echo")
    env = platform.pool.acquire(spec)
    try:
        payload = json.dumps({"s": "per-run-value"}).encode()
        masked = env.invoke(InvokeRequest("r-1", payload, "arn", masker=Masker.of(["per-run-value"])))
        plain = env.invoke(InvokeRequest("r-2", payload, "arn"))
    finally:
        platform.pool.release(env)
    assert json.loads(masked.payload) == {"s": "***"} and "event secret ***" in masked.log
    assert json.loads(plain.payload) == {"s": "per-run-value"}, "only the invocation that was given it"
