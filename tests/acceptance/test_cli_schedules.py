"""``lambdahost schedules add|list|show|enable|disable|rm`` from the real CLI against a running server."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable

from tests.acceptance.conftest import ServerProcess
from tests.acceptance.test_scheduler_boto3 import create_function

Cli = Callable[..., subprocess.CompletedProcess[str]]


def ok(cli: Cli, *args: str) -> str:
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_schedule_commands_add_list_show_disable_enable_and_remove(cli: Cli, server: ServerProcess) -> None:
    function = f"cli-fn-{uuid.uuid4().hex[:8]}"
    create_function(server.url, function)
    name = f"cli-sched-{uuid.uuid4().hex[:8]}"
    added = ok(
        cli,
        "schedules", "add", name, "cron(0 9 ? * MON *)", function,
        "--timezone", "Europe/Berlin", "--input", '{"report": "weekly"}', "--window", "5", "--start", "2030-01-01",
    )  # fmt: skip
    assert added.startswith(f"{name}: next 2030-01-07 ")  # the first Monday of 2030, 09:00 in Berlin

    listing = ok(cli, "schedules", "list", "--prefix", name)
    row = next(line.split() for line in listing.splitlines() if line.startswith(name + " "))
    assert row[:5] == [name, "cron(0", "9", "?", "*"] and function in row and "enabled" in row

    shown = json.loads(ok(cli, "schedules", "show", name))
    assert shown["Target"]["Input"] == '{"report": "weekly"}'
    assert shown["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    assert shown["ScheduleExpressionTimezone"] == "Europe/Berlin"

    assert ok(cli, "schedules", "disable", name).strip() == f"{name}: disabled"
    assert json.loads(ok(cli, "schedules", "show", name))["State"] == "DISABLED"
    assert ok(cli, "schedules", "enable", name).startswith(f"{name}: enabled, next 2030-01-07 ")
    after = json.loads(ok(cli, "schedules", "show", name))
    assert after["State"] == "ENABLED" and after["Target"]["Input"] == '{"report": "weekly"}'

    bad = cli("schedules", "add", f"{name}-bad", "rate(5 minute)", function)
    assert bad.returncode != 0 and "rate(5 minute)" in bad.stderr
    assert ok(cli, "schedules", "rm", name).strip() == f"deleted {name}"
    assert name not in ok(cli, "schedules", "list")
    missing = cli("schedules", "rm", name)
    assert missing.returncode != 0 and "does not exist" in missing.stderr
