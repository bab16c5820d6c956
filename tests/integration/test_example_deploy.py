"""``serve --example``'s deployment (``cli/example.py``) on embedded Platforms over a real store (SQLite file and
PostgreSQL): the four example functions and the ``weekly-digest`` schedule are created once; deploying again
changes nothing (no new revision) unless a function's code or configuration differs from the bundled one, and
keeps the schedule as the user left it; two nodes sharing the store deploying at the same time both succeed and
leave one of each; a deleted schedule is created again on the next deployment."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lambdahost.cli.example import EXAMPLES, EXAMPLES_DIR, WEEKLY_DIGEST, Deployment, deploy_example
from lambdahost.code.folder import read_code_arg
from lambdahost.code.testing import make_zip
from lambdahost.core.settings import Settings
from lambdahost.server import Platform

NAMES = sorted(example.name for example in EXAMPLES)


@pytest.fixture
def make_platform(store_url: str, tmp_path: Path) -> Iterator[Callable[[], Platform]]:
    made: list[Platform] = []

    def make() -> Platform:
        settings = Settings(data_dir=tmp_path / f"node{len(made)}", store_url=store_url, worker_slots=0)
        made.append(Platform(settings).start())
        return made[-1]

    yield make
    for platform in made:
        platform.close()


def function_names(platform: Platform) -> list[str]:
    page, marker = platform.functions.list(None, 50)
    assert marker is None
    return sorted(config.name for config in page)


def test_deployed_once_then_kept_or_updated_and_the_schedule_kept(make_platform: Callable[[], Platform]) -> None:
    platform = make_platform()

    first = deploy_example(platform)

    assert first == Deployment(dict.fromkeys(first.functions, "deployed"), {"weekly-digest": "created"})
    assert sorted(first.functions) == NAMES == function_names(platform)
    schedule = platform.schedules.get("weekly-digest")
    assert (schedule.expression, schedule.timezone, schedule.function_name) == (
        "cron(0 8 ? * MON *)",
        "UTC",
        "scheduled-digest",
    )
    assert json.loads(schedule.input or "") == {"days": 7} == WEEKLY_DIGEST.input
    assert schedule.enabled and schedule.next_fire_at is not None
    platform.schedules.update(schedule.replace(enabled=False))  # the user turns it off
    revisions = {name: platform.functions.get(name).revision_id for name in NAMES}

    second = deploy_example(platform)

    assert second == Deployment(dict.fromkeys(NAMES, "kept"), {"weekly-digest": "kept"})
    assert second.verb == "kept"
    assert {name: platform.functions.get(name).revision_id for name in NAMES} == revisions
    assert function_names(platform) == NAMES
    kept = platform.schedules.get("weekly-digest")
    assert not kept.enabled and kept.created_at == schedule.created_at
    assert [s.name for s in platform.schedules.list()[0]] == ["weekly-digest"]

    # the tasks' parameters: what the run dialog and `lambdahost run` offer; a user's change is put back
    declared = {name: [p.name for p in platform.parameters.declared(name)] for name in NAMES}
    assert declared == {
        "anomaly-detect": ["jtl", "label", "bucket_s", "window", "min_periods", "threshold", "min_points"],
        "hello": [],
        "jtl-report": ["jtl", "baseline", "threshold_pct", "regression_metrics", "percentiles", "title"],
        "scheduled-digest": ["days", "functions", "max_invocations"],
    }
    jtl = platform.parameters.declared("jtl-report")[0]
    assert (jtl.type.value, jtl.required) == ("file", True)
    platform.parameters.declare("anomaly-detect", [])

    platform.functions.update_configuration("hello", {"MemorySize": 1024})
    platform.functions.update_code("scheduled-digest", {"ZipFile": make_zip({"app.py": b"def handler(e, c): pass"})})
    platform.schedules.delete("weekly-digest")

    third = deploy_example(platform)

    assert third.functions == {
        **dict.fromkeys(NAMES, "kept"),
        "hello": "updated",
        "scheduled-digest": "updated",
        "anomaly-detect": "updated",
    }
    assert len(platform.parameters.declared("anomaly-detect")) == 7
    assert third.schedules == {"weekly-digest": "created"}
    assert platform.functions.get("hello").memory_mb == 128
    digest = platform.functions.get("scheduled-digest")
    assert digest.code_sha256_hex == hashlib.sha256(read_code_arg(EXAMPLES_DIR / "scheduled_digest")).hexdigest()
    assert (digest.timeout_s, digest.memory_mb) == (300, 256)


def test_two_nodes_deploying_at_once_both_succeed(make_platform: Callable[[], Platform]) -> None:
    nodes = [make_platform(), make_platform()]
    results: list[Deployment] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(nodes))

    def deploy(platform: Platform) -> None:
        start.wait()
        try:
            results.append(deploy_example(platform))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deploy, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(result.schedules["weekly-digest"] for result in results) == ["created", "kept"]
    assert function_names(nodes[0]) == NAMES
    assert [s.name for s in nodes[1].schedules.list()[0]] == ["weekly-digest"]
