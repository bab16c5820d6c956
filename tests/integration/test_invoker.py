"""The synchronous invoke path of an embedded Platform (real SQLite file, real environments): how a function is
named, what a change of configuration does to the next invoke, bad payloads, and the stored record."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator

import pytest

from lambdahost.core.errors import InvalidRequestContent, RequestTooLarge, ResourceNotFound
from lambdahost.core.model import InvocationStatus
from lambdahost.core.settings import Settings
from lambdahost.server import Platform

APP = "import os\n\ndef handler(event, context):\n    return {'event': event, 'color': os.environ.get('COLOR')}\n"


def zipped(source: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with Platform(Settings(data_dir=tmp_path_factory.mktemp("data"))) as p:
        p.functions.create(
            {
                "FunctionName": "fn",
                "Runtime": "python3.11",
                "Handler": "app.handler",
                "Code": {"ZipFile": zipped(APP)},
                "Environment": {"Variables": {"COLOR": "red"}},
            }
        )
        yield p


@pytest.mark.parametrize(
    "name",
    [
        "fn",
        "fn:$LATEST",
        "arn:aws:lambda:us-east-1:000000000000:function:fn",
        "000000000000:function:fn",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn",
    ],
)
def test_every_form_of_the_name_reaches_the_function(platform: Platform, name: str) -> None:
    result = platform.invoker.invoke(name, b'{"n": 1}')
    assert json.loads(result.payload) == {"event": {"n": 1}, "color": "red"}
    assert result.executed_version == "$LATEST" and result.function_error is None


def test_unknown_names_and_qualifiers(platform: Platform) -> None:
    with pytest.raises(
        ResourceNotFound, match=r"^Function not found: arn:aws:lambda:us-east-1:000000000000:function:x$"
    ):
        platform.invoker.invoke("x", b"{}")
    with pytest.raises(ResourceNotFound, match=r":function:fn:7$"):
        platform.invoker.invoke("fn", b"{}", qualifier="7")


def test_a_change_reaches_the_next_invoke(platform: Platform) -> None:
    assert json.loads(platform.invoker.invoke("fn", b"{}").payload)["color"] == "red"
    platform.functions.update_configuration("fn", {"Environment": {"Variables": {"COLOR": "blue"}}})
    assert json.loads(platform.invoker.invoke("fn", b"{}").payload)["color"] == "blue"
    assert json.loads(platform.invoker.invoke("arn:aws:lambda:us-east-1:000000000000:function:fn").payload) == {
        "event": {},
        "color": "blue",
    }
    platform.functions.update_configuration("fn", {"Environment": {"Variables": {"COLOR": "red"}}})


def test_bad_payloads_are_request_errors_and_leave_no_record(platform: Platform) -> None:
    platform.recorder.flush()
    before = len(platform.store.list_invocations("fn", limit=1000))
    with pytest.raises(InvalidRequestContent, match=r"^Could not parse request body into json: Could not parse "):
        platform.invoker.invoke("fn", b'{"unterminated": ')
    with pytest.raises(RequestTooLarge, match=r"^Request must be smaller than 6291456 bytes"):
        platform.invoker.invoke("fn", b"1" * (6291456 + 1))
    assert platform.admission.running("fn") == 0, "the slots are given back"
    assert platform.recorder.flush()
    assert len(platform.store.list_invocations("fn", limit=1000)) == before


def test_the_record_has_the_whole_sync_lifecycle(platform: Platform) -> None:
    result = platform.invoker.invoke("fn", b'{"n": 2}')
    assert platform.recorder.flush()
    record = platform.store.get_invocation(result.request_id)
    assert record is not None and record.status is InvocationStatus.SUCCEEDED
    assert [t.status for t in record.transitions] == [
        InvocationStatus.CREATED,
        InvocationStatus.PENDING,
        InvocationStatus.READY,
        InvocationStatus.RUNNING,
        InvocationStatus.SUCCEEDED,
    ]
    times = [t.at for t in record.transitions]
    assert times == sorted(times)
    assert record.payload == b'{"n": 2}' and json.loads(record.result or b"") == json.loads(result.payload)
    assert record.log == result.log and record.log.startswith(f"START RequestId: {result.request_id}")
