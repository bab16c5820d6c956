"""EventBridge Scheduler's API driven by a real, unmodified boto3 ``scheduler`` client against running servers:
every operation with botocore's shapes and Scheduler's errors, and schedules firing on two real nodes (a server and
a `lambdahost worker` process sharing a SQLite file or a PostgreSQL database): each due time fires once."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdahost.client import Client
from tests.acceptance.conftest import ServerProcess, start_server
from tests.acceptance.processes import start_worker

ROLE = "arn:aws:iam::000000000000:role/scheduler"
APP = "def handler(event, context):\n    return event\n"


def aws(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def create_function(url: str, name: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
    lam = aws("lambda", url)
    try:
        arn: str = lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": buf.getvalue()}
        )["FunctionArn"]
    finally:
        lam.close()
    return arn


@pytest.fixture(scope="module")
def scheduler(server: ServerProcess) -> Iterator[Any]:
    client = aws("scheduler", server.url)
    yield client
    client.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def code_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_create_get_update_list_and_delete(scheduler: Any, server: ServerProcess) -> None:
    function_arn = create_function(server.url, unique("fn"))
    name = unique("report")
    start = datetime(2030, 1, 1, tzinfo=UTC)
    arn = scheduler.create_schedule(
        Name=name,
        ScheduleExpression="cron(0 9 ? * MON *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        StartDate=start,
        Description="weekly report",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target={"Arn": function_arn, "RoleArn": ROLE, "Input": '{"report": "weekly"}'},
    )["ScheduleArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}"

    got = scheduler.get_schedule(Name=name)
    assert got["Arn"] == arn
    assert got["GroupName"] == "default"
    assert got["ScheduleExpression"] == "cron(0 9 ? * MON *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert got["StartDate"] == start
    assert got["State"] == "ENABLED"
    assert got["Description"] == "weekly report"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert got["Target"]["Arn"] == function_arn
    assert got["Target"]["Input"] == '{"report": "weekly"}'
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert got["ActionAfterCompletion"] == "NONE"
    assert isinstance(got["CreationDate"], datetime)

    scheduler.update_schedule(
        Name=name,
        ScheduleExpression="rate(2 hours)",
        State="DISABLED",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": function_arn, "RoleArn": ROLE, "RetryPolicy": {"MaximumRetryAttempts": 3}},
    )
    updated = scheduler.get_schedule(Name=name, GroupName="default")
    assert (updated["ScheduleExpression"], updated["State"]) == ("rate(2 hours)", "DISABLED")
    assert updated["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert "Input" not in updated["Target"]
    assert updated["CreationDate"] == got["CreationDate"]

    prefix = unique("page")
    for n in range(3):
        scheduler.create_schedule(
            Name=f"{prefix}-{n}",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": function_arn, "RoleArn": ROLE},
        )
    pages = list(
        scheduler.get_paginator("list_schedules").paginate(NamePrefix=prefix, PaginationConfig={"PageSize": 2})
    )
    assert [[s["Name"] for s in p["Schedules"]] for p in pages] == [[f"{prefix}-0", f"{prefix}-1"], [f"{prefix}-2"]]
    assert pages[0]["Schedules"][0]["Target"] == {"Arn": function_arn}
    disabled = scheduler.list_schedules(State="DISABLED")["Schedules"]
    assert name in [s["Name"] for s in disabled] and not any(s["Name"].startswith(prefix) for s in disabled)

    scheduler.delete_schedule(Name=name)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException) as caught:
        scheduler.get_schedule(Name=name)
    assert code_of(caught) == ("ResourceNotFoundException", f"Schedule {name} does not exist.")


def test_errors_are_schedulers(scheduler: Any, server: ServerProcess) -> None:
    function_arn = create_function(server.url, unique("fn"))
    target = {"Arn": function_arn, "RoleArn": ROLE}
    off = {"Mode": "OFF"}
    with pytest.raises(scheduler.exceptions.ValidationException) as caught:
        scheduler.create_schedule(
            Name=unique("s"), ScheduleExpression="rate(5 minute)", FlexibleTimeWindow=off, Target=target
        )
    assert "rate(5 minute)" in code_of(caught)[1] and "minutes" in code_of(caught)[1]
    with pytest.raises(scheduler.exceptions.ValidationException) as caught:
        scheduler.create_schedule(
            Name=unique("s"), ScheduleExpression="cron(0 9 * * MON *)", FlexibleTimeWindow=off, Target=target
        )
    assert "?" in code_of(caught)[1]
    with pytest.raises(scheduler.exceptions.ValidationException):
        scheduler.create_schedule(
            Name=unique("s"),
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow=off,
            Target={"Arn": function_arn + "-missing", "RoleArn": ROLE},
        )
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException) as caught:
        scheduler.create_schedule(
            Name=unique("s"),
            GroupName="other",
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow=off,
            Target=target,
        )
    assert code_of(caught) == ("ResourceNotFoundException", "Schedule group other does not exist.")
    name = unique("dup")
    scheduler.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=off, Target=target)
    with pytest.raises(scheduler.exceptions.ConflictException) as caught:
        scheduler.create_schedule(Name=name, ScheduleExpression="rate(2 hours)", FlexibleTimeWindow=off, Target=target)
    assert code_of(caught) == ("ConflictException", f"Schedule {name} already exists.")
    assert scheduler.get_schedule(Name=name)["ScheduleExpression"] == "rate(1 hour)"
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule(Name=unique("absent"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A server and a `lambdahost worker` sharing one store; yields the server's URL."""
    if request.param == "sqlite":
        store = f"sqlite:///{tmp_path / 'server' / 'lambdahost.db'}"
    else:
        store = request.getfixturevalue("pg_url")
    server = start_server(tmp_path / "server", "--store", store)
    worker = None
    try:
        worker = start_worker(tmp_path / "worker", store, server.url)
        yield server.url
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def test_one_time_schedules_fire_once_across_two_nodes(two_nodes: str) -> None:
    url = two_nodes
    function_arn = create_function(url, "ticker")
    scheduler = aws("scheduler", url)
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    names = [f"once-{n}" for n in range(4)]
    for name in names:
        scheduler.create_schedule(
            Name=name,
            ScheduleExpression=f"at({due.strftime('%Y-%m-%dT%H:%M:%S')})",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": function_arn, "RoleArn": ROLE},
        )
    scheduler.close()
    with Client(url) as client:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            runs = client.list_invocations("ticker", status="succeeded", limit=50)
            if len(runs) >= len(names):
                break
            time.sleep(0.2)
        time.sleep(2.5)  # two more ticks of both nodes: nothing fires a second time
        runs = client.list_invocations("ticker", limit=50)
        events = [json.loads(client.get_invocation(r["id"])["payload"]) for r in runs]
    assert sorted(e["resources"][0].rsplit("/", 1)[1] for e in events) == names
    assert {e["time"] for e in events} == {due.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert {e["source"] for e in events} == {"aws.scheduler"}
