"""Parameters in an embedded Platform on a SQLite file and on PostgreSQL, with real environments: the declaration's
round trip through the store; a run's event built from defaults and overrides, exactly; a bad value or a missing
secret refused with nothing stored or invoked; a secret in a default reaching the function and masked in the
result, the log and the recorded payload; a file parameter handed over as a readable path; an asynchronous run."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdahost.core.errors import InvalidParameterValue, ResourceNotFound, SecretNotFound
from lambdahost.core.model import InvocationStatus
from lambdahost.core.parameters import ParameterType, shape
from lambdahost.core.settings import Settings
from lambdahost.server import Platform
from tests.integration.platforms import finished

APP = """
import hashlib

def handler(event, context):
    print("event is", event)
    out = {"event": event}
    if "token" in event:
        out["token_sha"] = hashlib.sha256(event["token"].encode()).hexdigest()
    if "data" in event:
        with open(event["data"], "rb") as f:
            out["data"] = f.read().decode()
    if event.get("fail"):
        raise RuntimeError("failed with " + event.get("token", ""))
    return out
"""
TOKEN = "tok-5d1e9c7a-0b2f"
DECLARATION: list[dict[str, Any]] = [
    {"Name": "threshold", "Type": "number", "Default": 10, "Description": "ms"},
    {"Name": "label", "Type": "string", "Required": True},
    {"Name": "verbose", "Type": "boolean", "Default": False},
    {"Name": "options", "Type": "json", "Default": {"sheets": ["summary"]}},
    {"Name": "token", "Type": "secret", "Default": "{{secret.api-token}}"},
    {"Name": "fail", "Type": "boolean", "Default": False},
]
BOTH = pytest.mark.parametrize(
    "platform", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def zipped(source: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return base64.b64encode(buf.getvalue()).decode()


def create(platform: Platform, name: str) -> None:
    platform.functions.create(
        {"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": zipped(APP)}}
    )


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    store_url = request.getfixturevalue("pg_url") if getattr(request, "param", "sqlite") == "postgres" else None
    settings = Settings(data_dir=tmp_path / "a", store_url=store_url, config_recheck_s=0.2)
    with Platform(settings) as p:
        p.secrets.set("api-token", TOKEN)
        create(p, "report")
        p.parameters.declare("report", DECLARATION)
        yield p


def invocations_of(platform: Platform, name: str) -> int:
    assert platform.recorder.flush()
    return len(platform.store.list_invocations(name))


@BOTH
def test_the_declaration_round_trips_and_goes_with_the_function(platform: Platform) -> None:
    stored = [shape(p) for p in platform.parameters.declared("report")]
    assert stored == [
        {"Description": "", "Required": False, **item} if "Description" not in item else {"Required": False, **item}
        for item in DECLARATION
    ]
    assert platform.parameters.declared("report")[4].type is ParameterType.SECRET
    platform.parameters.declare("report", [{"Name": "only", "Type": "number"}])
    assert [p.name for p in platform.parameters.declared("report")] == ["only"]
    platform.functions.delete("report")
    with pytest.raises(ResourceNotFound):
        platform.parameters.declared("report")
    with pytest.raises(ResourceNotFound):
        platform.parameters.declare("report", DECLARATION)
    create(platform, "report")
    assert platform.parameters.declared("report") == (), "a new function of the same name declares nothing"


@BOTH
def test_a_run_gets_exactly_the_event_of_defaults_and_overrides(platform: Platform) -> None:
    result = asyncio.run(platform.parameters.run("report", {"label": "nightly", "threshold": "12.5", "verbose": True}))
    body = json.loads(result.payload)
    assert result.function_error is None
    assert body["event"] == {
        "threshold": 12.5,
        "label": "nightly",
        "verbose": True,
        "options": {"sheets": ["summary"]},
        "token": "***",  # the function got the value (below); what comes back is masked
        "fail": False,
    }
    assert body["token_sha"] == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert TOKEN not in result.log and "'token': '***'" in result.log
    assert platform.recorder.flush()
    record = platform.store.get_invocation(result.request_id)
    assert record is not None and record.status is InvocationStatus.SUCCEEDED
    assert TOKEN.encode() not in record.payload and b'"token":"***"' in record.payload
    assert record.result is not None and TOKEN.encode() not in record.result
    assert TOKEN not in record.log


@BOTH
def test_bad_values_and_missing_secrets_are_refused_before_anything_runs(platform: Platform) -> None:
    before = invocations_of(platform, "report")
    cold = platform.pool.cold_starts
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"label": "x", "threshold": "abc"}, InvalidParameterValue, "Parameter 'threshold' (number)"),
        ({"threshold": 1}, InvalidParameterValue, "Parameter 'label' (string): required"),
        ({"label": "x", "colour": "red"}, InvalidParameterValue, "Unknown parameter(s): 'colour'"),
        ({"label": "x", "token": "{{secret.nope}}"}, SecretNotFound, "{{secret.nope}} does not exist"),
    ]
    for given, error, message in cases:
        with pytest.raises(error) as caught:
            asyncio.run(platform.parameters.run("report", given))
        assert message in str(caught.value)
        with pytest.raises(error):
            asyncio.run(platform.parameters.start("report", given))
    assert invocations_of(platform, "report") == before
    assert platform.pool.cold_starts == cold
    assert [d for d in platform.store.queue_depth() if d.function_name == "report"] == []


@BOTH
def test_a_failed_run_has_its_error_masked(platform: Platform) -> None:
    result = asyncio.run(platform.parameters.run("report", {"label": "x", "fail": "true"}))
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorMessage"] == "failed with ***"
    assert TOKEN not in result.log


@BOTH
def test_an_async_run_is_queued_with_its_event(platform: Platform) -> None:
    platform.parameters.declare("report", [{"Name": "label", "Type": "string", "Default": "queued"}])
    request_id = asyncio.run(platform.parameters.start("report", {}))
    record = finished(platform, request_id)
    assert record.status is InvocationStatus.SUCCEEDED
    assert record.result is not None and json.loads(record.result)["event"] == {"label": "queued"}


def test_a_file_parameter_is_a_readable_path(platform: Platform) -> None:
    platform.parameters.declare("report", [{"Name": "data", "Type": "file", "Required": True}])
    content = "timeStamp,elapsed,label\n1700000000000,120,home\n"
    upload = {"Filename": "run.jtl", "ContentBase64": base64.b64encode(content.encode()).decode()}
    result = asyncio.run(platform.parameters.run("report", {"data": upload}))
    body = json.loads(result.payload)
    assert result.function_error is None, body
    assert body["data"] == content
    path = Path(body["event"]["data"])
    assert path.name == "run.jtl" and path.read_text() == content
