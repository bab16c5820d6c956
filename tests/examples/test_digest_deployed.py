"""``serve --example`` deploys ``scheduled-digest`` beside the other examples, with its weekly schedule, on a real
``lambdahost serve``: the digest runs inside the platform (its own signed calls to the platform's API accepted,
also with authentication on) and counts the other examples' runs exactly; the schedule ``weekly-digest`` exists
after the start with its expression, time zone, input and target, and is still the only one, as the user left it,
after a restart on the same data directory."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambdahost.client import Client
from lambdahost.core.credentials import Credentials
from tests.acceptance.conftest import ServerProcess, start_server
from tests.examples.jtl_gen import write_jtl
from tests.waiting import eventually

KEY_ID, SECRET = "AKIDQUICKSTART", "quick-start-secret"
DEPLOYED = "run it now with"  # the last line of what `serve --example` prints once everything is deployed
EXAMPLE_FUNCTIONS = ["anomaly-detect", "hello", "jtl-report", "scheduled-digest"]


def serve_example(data_dir: Path, auth: bool = False) -> ServerProcess:
    keys = ("--access-key-id", KEY_ID, "--secret-access-key", SECRET) if auth else ()
    server = start_server(data_dir, "--example", *keys)
    if not eventually(lambda: DEPLOYED in server.output(), timeout=30):
        server.stop()
        pytest.fail(f"the examples were not deployed:\n{server.output()}")
    return server


def aws(server: ServerProcess, service: str, auth: bool) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID if auth else "test",
        aws_secret_access_key=SECRET if auth else "test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120),
    )


def invoke(client: Any, name: str, event: dict[str, Any]) -> tuple[str, Any, bool]:
    """The request id, the decoded payload and whether the function failed."""
    reply = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return reply["ResponseMetadata"]["RequestId"], json.loads(reply["Payload"].read()), "FunctionError" in reply


@pytest.fixture
def stopping() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


@pytest.mark.parametrize("auth", [False, True], ids=["open", "authentication"])
def test_the_deployed_digest_counts_the_other_examples_runs(
    auth: bool, tmp_path: Path, stopping: list[ServerProcess]
) -> None:
    server = serve_example(tmp_path / "data", auth)
    stopping.append(server)
    lam = aws(server, "lambda", auth)
    write_jtl(tmp_path / "run.jtl", 300)
    series = {"interval_s": 1, "response_time": [100.0 + (i % 3) for i in range(40)]}
    runs = [
        ("hello", {"name": "Ada"}),
        ("hello", {"name": "Grace"}),
        ("hello", {}),
        ("anomaly-detect", {"series": series}),
        ("anomaly-detect", {"series": series}),
        ("anomaly-detect", {}),  # neither "jtl" nor "series": fails
        ("jtl-report", {"jtl": str(tmp_path / "run.jtl")}),
        ("jtl-report", {"jtl": str(tmp_path / "missing.jtl")}),  # fails
    ]
    failures: dict[str, list[str]] = {}
    for name, event in runs:
        request_id, _, failed = invoke(lam, name, event)
        if failed:
            failures.setdefault(name, []).append(request_id)
    assert {name: len(ids) for name, ids in failures.items()} == {"anomaly-detect": 1, "jtl-report": 1}

    for _ in range(2):  # the second run counts the same: the digest leaves itself out
        request_id, result, failed = invoke(lam, "scheduled-digest", {"days": 7})
        assert not failed, result

        rows = {row["function"]: row for row in result["functions"]}
        assert sorted(rows) == ["anomaly-detect", "hello", "jtl-report"]
        counts = {name: (row["runs"], row["succeeded"], row["failed"], row["unfinished"]) for name, row in rows.items()}
        assert counts == {"hello": (3, 3, 0, 0), "anomaly-detect": (3, 2, 1, 0), "jtl-report": (2, 1, 1, 0)}
        for name, ids in failures.items():
            assert rows[name]["recent_failures"] == ids
            assert sum(rows[name]["errors"].values()) == 1
        assert rows["hello"]["success_pct"] == 100 and rows["hello"]["last_status"] == "succeeded"
        assert result["totals"] == {"functions": 3, "runs": 8, "failed": 2}
        assert result["until"] - result["since"] == 7 * 86400
        assert result["outputs"] == ["digest.md"]

    credentials = Credentials(KEY_ID, SECRET) if auth else None
    with Client(server.url, credentials=credentials) as client:  # the recorder keeps the file after the reply
        assert eventually(lambda: len(client.list_artifacts(request_id)) == 1, timeout=10)
        report = client.get_artifact(request_id, "digest.md").decode()
    assert "| hello | 3 | 3 | 0 | 100 |" in report
    assert "| jtl-report | 2 | 1 | 1 | 50 |" in report


def test_the_weekly_schedule_is_created_once_and_kept_across_restarts(
    tmp_path: Path, stopping: list[ServerProcess]
) -> None:
    data = tmp_path / "data"
    server = serve_example(data)
    stopping.append(server)
    assert "scheduled as 'weekly-digest' (cron(0 8 ? * MON *), UTC)" in server.output()
    scheduler, lam = aws(server, "scheduler", False), aws(server, "lambda", False)

    schedule = scheduler.get_schedule(Name="weekly-digest")
    assert schedule["ScheduleExpression"] == "cron(0 8 ? * MON *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["State"] == "ENABLED"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == lam.get_function(FunctionName="scheduled-digest")["Configuration"]["FunctionArn"]
    assert json.loads(target["Input"]) == {"days": 7}
    with Client(server.url) as client:
        next_fire = client.get_schedule("weekly-digest")["LambdahostNextFireTime"]
    due = datetime.datetime.fromtimestamp(next_fire, datetime.UTC)
    assert (due.weekday(), due.hour, due.minute, due.second) == (0, 8, 0, 0)  # a Monday, 08:00 UTC
    assert 0 < next_fire - datetime.datetime.now(datetime.UTC).timestamp() <= 7 * 86400
    created = schedule["CreationDate"]
    # the user disables it: a restart must leave it so
    scheduler.update_schedule(
        Name="weekly-digest",
        ScheduleExpression=schedule["ScheduleExpression"],
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target["Arn"], "RoleArn": target["RoleArn"], "Input": target["Input"]},
        State="DISABLED",
    )
    assert server.stop() == 0

    again = serve_example(data)
    stopping.append(again)
    assert "its schedule 'weekly-digest' kept as it was" in again.output()
    scheduler, lam = aws(again, "scheduler", False), aws(again, "lambda", False)
    listed = scheduler.list_schedules()["Schedules"]
    assert [s["Name"] for s in listed] == ["weekly-digest"]
    kept = scheduler.get_schedule(Name="weekly-digest")
    assert (kept["State"], kept["CreationDate"], kept["ScheduleExpression"]) == (
        "DISABLED",
        created,
        "cron(0 8 ? * MON *)",
    )
    names = sorted(f["FunctionName"] for f in lam.list_functions()["Functions"])
    assert names == EXAMPLE_FUNCTIONS


def test_the_quick_start_tasks_run_with_their_parameters(tmp_path: Path, stopping: list[ServerProcess]) -> None:
    """`lambdahost run` against `serve --example`: a JTL uploaded as jtl-report's file parameter, a parameter
    overridden, the report's files kept as artifacts; a bad value refused (exit 2) before anything runs."""
    server = serve_example(tmp_path / "data")
    stopping.append(server)
    truth = write_jtl(tmp_path / "run.jtl", 1500)
    ran = server.run_cli(
        "run", "jtl-report", "--param-file", f"jtl=@{tmp_path / 'run.jtl'}", "--param", "title=Nightly"
    )
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["samples"] == len(truth.all()) and result["subsamples"] == truth.subsamples
    assert result["outputs"] == ["jtl-report.xlsx", "jtl-report.html"]
    with Client(server.url) as client:
        (record,) = client.list_invocations("jtl-report")
    artifacts = server.run_cli("invocations", "artifacts", record["id"])
    assert artifacts.returncode == 0, artifacts.stderr
    assert "jtl-report.xlsx" in artifacts.stdout and "jtl-report.html" in artifacts.stdout

    refused = server.run_cli("run", "anomaly-detect", "--param-file", f"jtl=@{tmp_path / 'run.jtl'}",
                             "--param", "bucket_s=ten")  # fmt: skip
    assert refused.returncode == 2 and "bucket_s" in refused.stderr
    digest = server.run_cli("run", "scheduled-digest", "--param", "days=1", "--param", 'functions=["jtl-report"]')
    assert digest.returncode == 0, digest.stderr
    assert [row["function"] for row in json.loads(digest.stdout)["functions"]] == ["jtl-report"]
