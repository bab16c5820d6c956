"""One view of a function's triggers (``GET /lambdahost/v1/functions/{name}/triggers`` and ``lambdahost triggers``)
against a running server: a schedule, a queue mapping and a stream mapping (each with its lag), an HTTP route and a
function URL, all made through boto3 and the native API as users make them."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any

from lambdahost.client import Client
from tests.acceptance.conftest import ServerProcess
from tests.acceptance.test_scheduler_boto3 import ROLE, aws, create_function

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_every_trigger_of_a_function_in_one_view(server: ServerProcess, cli: Cli) -> None:
    name = f"view-{uuid.uuid4().hex[:8]}"
    function_arn = create_function(server.url, name)
    scheduler, sqs, kinesis, lam = (aws(s, server.url) for s in ("scheduler", "sqs", "kinesis", "lambda"))
    try:
        scheduler.create_schedule(
            Name=f"{name}-daily",
            ScheduleExpression="cron(0 6 * * ? *)",
            ScheduleExpressionTimezone="Europe/Berlin",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": function_arn, "RoleArn": ROLE},
        )
        queue_url = sqs.create_queue(QueueName=f"{name}-q")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for n in range(3):
            sqs.send_message(QueueUrl=queue_url, MessageBody=str(n))
        queue_mapping = lam.create_event_source_mapping(
            EventSourceArn=queue_arn, FunctionName=name, BatchSize=5, Enabled=False
        )["UUID"]
        stream = f"{name}-s"
        kinesis.create_stream(StreamName=stream, ShardCount=1)
        stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
        kinesis.put_record(StreamName=stream, Data=b"{}", PartitionKey="k")
        stream_mapping = lam.create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName=name, StartingPosition="TRIM_HORIZON", Enabled=False
        )["UUID"]
        url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    finally:
        for client in (scheduler, sqs, kinesis, lam):
            client.close()
    with Client(server.url) as native:
        route = native.create_route("GET", f"/{name}/{{id}}", name)
        deadline = time.monotonic() + 10
        view: dict[str, Any] = native.triggers(name)
        while time.monotonic() < deadline and {m["State"] for m in view["EventSourceMappings"]} != {"Disabled"}:
            time.sleep(0.2)
            view = native.triggers(name)

    assert view["FunctionName"] == name and view["FunctionArn"] == function_arn
    assert [(s["Name"], s["ScheduleExpression"], s["State"]) for s in view["Schedules"]] == [
        (f"{name}-daily", "cron(0 6 * * ? *)", "ENABLED")
    ]
    assert view["Schedules"][0]["NextFireTime"] > time.time()
    mappings = {m["UUID"]: m for m in view["EventSourceMappings"]}
    assert set(mappings) == {queue_mapping, stream_mapping}
    assert mappings[queue_mapping]["Kind"] == "sqs" and mappings[queue_mapping]["State"] == "Disabled"
    assert mappings[queue_mapping]["Lag"] == {"Visible": 3, "InFlight": 0, "Delayed": 0}
    assert mappings[queue_mapping]["LastProcessingResult"] == "No records processed"
    stream_lag = mappings[stream_mapping]["Lag"]
    assert mappings[stream_mapping]["Kind"] == "kinesis"
    assert stream_lag["RecordsBehind"] == 1 and [s["ShardId"] for s in stream_lag["Shards"]] == ["shardId-000000000000"]
    assert [(r["RouteId"], r["RouteKey"]) for r in view["Routes"]] == [(route["RouteId"], f"GET /{name}/{{id}}")]
    assert view["Routes"][0]["Url"].endswith(f"/{name}/{{id}}")
    assert [u["FunctionUrl"] for u in view["FunctionUrls"]] == [url]

    shown = cli("triggers", name)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert f"{name}-daily" in text and "cron(0 6 * * ? *) Europe/Berlin" in text
    assert "3 visible, 0 in flight, 0 delayed" in text and "1 records behind" in text
    assert f"GET /{name}/{{id}}" in text and url in text
    assert json.loads(cli("triggers", name, "--json").stdout)["Routes"][0]["RouteId"] == route["RouteId"]
    missing = cli("triggers", f"{name}-missing")
    assert missing.returncode != 0 and "Function not found" in missing.stderr
