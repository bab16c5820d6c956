"""The bundled example functions (``lambdahost/examples``), deployed by ``serve --example`` (the quick start):
``hello``, and the tasks performance engineers keep: ``jtl-report`` (a JMeter JTL to an Excel workbook and an HTML
report), ``anomaly-detect`` (response-time spikes and throughput drops) and ``scheduled-digest`` (the last week's runs
of the other functions), with its weekly schedule ``weekly-digest``. ``docs/examples.md`` describes their events.

``jtl-report`` needs openpyxl, which lambdahost installs as a dependency of its own for this example: functions run on
the platform's interpreter and find it there, so the quick start needs no pip run and no network. The others need
only the standard library (``scheduled-digest`` signs its calls to the platform's API itself).

Each task declares its parameters (the web UI's run dialog shows them with their defaults, a JTL is uploaded as a
file parameter; ``lambdahost run jtl-report --param-file jtl=@run.jtl``).

Deploying again (every start of ``serve --example``) updates a function's code, configuration or parameters only
where they differ from the bundled ones (so a restart of the same version changes nothing and keeps warm
environments), and leaves an existing schedule as it is (the user may have changed or disabled it): a restart
neither duplicates nor fails, also when two servers sharing a store start at once (the loser of a race tries again
against what the winner wrote)."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdahost.core.model import ScheduleConfig
    from lambdahost.server import Platform

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


def _parameter(name: str, kind: str, description: str, default: Any = None, required: bool = False) -> dict[str, Any]:
    """A parameter declaration in the API's wire shape (``core/parameters.py``)."""
    item: dict[str, Any] = {"Name": name, "Type": kind, "Description": description, "Required": required}
    if default is not None:
        item["Default"] = default
    return item


@dataclass(frozen=True)
class Example:
    name: str
    folder: str
    description: str
    timeout_s: int = 3
    memory_mb: int = 128
    parameters: tuple[dict[str, Any], ...] = ()  # what the run dialog and `lambdahost run` offer

    def configuration(self) -> dict[str, Any]:
        return {
            "Runtime": f"python{sys.version_info.major}.{sys.version_info.minor}",
            "Handler": "app.handler",
            "Description": self.description,
            "Timeout": self.timeout_s,
            "MemorySize": self.memory_mb,
        }


EXAMPLES = (
    Example("hello", "hello", "lambdahost's example: greets event['name']."),
    Example(
        "jtl-report",
        "jtl_report",
        'A JMeter JTL to per-label statistics, an Excel workbook and an HTML report (event: {"jtl": PATH}).',
        timeout_s=300,
        memory_mb=512,
        parameters=(
            _parameter("jtl", "file", "The JMeter results file (JTL, CSV) to report on.", required=True),
            _parameter("baseline", "file", "A baseline run's JTL: regressions against it are flagged."),
            _parameter("threshold_pct", "number", "Worse than the baseline by more than this % is a regression.", 10),
            _parameter("regression_metrics", "json", "Compared: count, errors, error_pct, throughput, pNN.", ["p95"]),
            _parameter("percentiles", "json", "Percentiles of elapsed, latency and connect.", [50, 90, 95, 99]),
            _parameter("title", "string", "The report's title (default: the file's name)."),
        ),
    ),
    Example(
        "anomaly-detect",
        "anomaly_detect",
        'Response-time spikes and throughput drops in a JTL or a series (event: {"jtl": PATH}).',
        timeout_s=120,
        memory_mb=256,
        parameters=(
            _parameter("jtl", "file", "The JMeter results file (JTL, CSV) to look at.", required=True),
            _parameter("label", "string", "Only this label's samples (default: all of them)."),
            _parameter("bucket_s", "number", "Seconds per response-time point.", 10),
            _parameter("window", "number", "Points in the rolling median before each point.", 30),
            _parameter("min_periods", "number", "Points needed before one is judged.", 10),
            _parameter("threshold", "number", "The robust z-score past which a point is anomalous.", 3.5),
            _parameter("min_points", "number", "Consecutive anomalous points that make a window.", 2),
        ),
    ),
    Example(
        "scheduled-digest",
        "scheduled_digest",
        "The last days' runs of every other function: runs, failures, durations, errors "
        '(event: {"days": 7}); scheduled weekly as weekly-digest.',
        timeout_s=300,
        memory_mb=256,
        parameters=(
            _parameter("days", "number", "How many days back the digest looks.", 7),
            _parameter("functions", "json", 'The functions to summarise, e.g. ["jtl-report"] (default: all others).'),
            _parameter("max_invocations", "number", "The most runs read per function.", 10000),
        ),
    ),
)


@dataclass(frozen=True)
class ExampleSchedule:
    """A schedule ``serve --example`` creates (EventBridge Scheduler's semantics, times in UTC)."""

    name: str
    expression: str
    function: str
    input: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def draft(self) -> ScheduleConfig:
        from lambdahost.cli.schedules import ROLE
        from lambdahost.core.model import ScheduleConfig

        return ScheduleConfig(
            name=self.name,
            expression=self.expression,
            function_name=self.function,
            created_at=0.0,
            last_modified=0.0,
            timezone="UTC",
            input=json.dumps(self.input),
            description=self.description,
            role_arn=ROLE,
        )


WEEKLY_DIGEST = ExampleSchedule(
    "weekly-digest",
    "cron(0 8 ? * MON *)",
    "scheduled-digest",
    {"days": 7},
    "lambdahost's example: the last week's runs of every function, every Monday at 08:00 UTC.",
)
SCHEDULES = (WEEKLY_DIGEST,)
EXAMPLE_NAME = EXAMPLES[0].name  # the one the quick start invokes


@dataclass(frozen=True)
class Deployment:
    """What ``deploy_example`` did: per function "deployed" (created), "updated" or "kept" (it was the same), per
    schedule "created" or "kept" (it existed: left as it is)."""

    functions: dict[str, str]
    schedules: dict[str, str]

    @property
    def verb(self) -> str:
        """What was done to ``hello``."""
        return self.functions[EXAMPLE_NAME]


def deploy_example(platform: Platform) -> Deployment:
    """Create each example, or update its code and configuration where they differ; then create each example
    schedule that does not exist yet."""
    functions = {example.name: _deploy(platform, example) for example in EXAMPLES}
    schedules = {schedule.name: _schedule(platform, schedule) for schedule in SCHEDULES}
    return Deployment(functions, schedules)


def _deploy(platform: Platform, example: Example, attempts: int = 3) -> str:
    """What was done: "deployed" (created), "updated" (its code or configuration differed) or "kept" (nothing
    differed: no new revision, warm environments stay). A create or update that loses a race with another server
    sharing the store (a conflict, a changed revision) is tried again against what that server wrote."""
    from lambdahost.code.folder import read_code_arg
    from lambdahost.core.errors import PreconditionFailed, ResourceConflict

    code = read_code_arg(EXAMPLES_DIR / example.folder)
    for _ in range(attempts - 1):
        try:
            return _create_or_update(platform, example, code)
        except (ResourceConflict, PreconditionFailed):
            continue  # another server sharing the store changed it meanwhile: look again
    return _create_or_update(platform, example, code)


def _create_or_update(platform: Platform, example: Example, code: bytes) -> str:
    from lambdahost.core.errors import ResourceNotFound

    functions = platform.functions
    try:
        current = functions.get(example.name)
    except ResourceNotFound:
        functions.create({"FunctionName": example.name, "Code": {"ZipFile": code}, **example.configuration()})
        _declare(platform, example)
        return "deployed"
    verb = "kept"
    if current.code_sha256_hex != hashlib.sha256(code).hexdigest():
        functions.update_code(example.name, {"ZipFile": code})
        verb = "updated"
    wanted = example.configuration()
    now = {
        "Runtime": current.runtime,
        "Handler": current.handler,
        "Description": current.description,
        "Timeout": current.timeout_s,
        "MemorySize": current.memory_mb,
    }
    if now != wanted:
        functions.update_configuration(example.name, wanted)
        verb = "updated"
    if _declare(platform, example):
        verb = "updated"
    return verb


def _declare(platform: Platform, example: Example) -> bool:
    """Declare the example's parameters unless they are declared already; whether anything changed."""
    from lambdahost.core.parameters import parse_declarations

    if platform.parameters.declared(example.name) == parse_declarations(list(example.parameters)):
        return False
    platform.parameters.declare(example.name, list(example.parameters))
    return True


def _schedule(platform: Platform, schedule: ExampleSchedule) -> str:
    from lambdahost.core.errors import ResourceNotFound, SchedulerConflict

    try:
        platform.schedules.get(schedule.name)
        return "kept"
    except ResourceNotFound:
        pass
    try:
        platform.schedules.create(schedule.draft())
    except SchedulerConflict:  # another server sharing the store created it meanwhile
        return "kept"
    return "created"
