"""The web UI over real HTTP against an embedded Platform (real SQLite file, real environments): pages, forms and
their validation errors, escaping, the run endpoint, the live log feed, history paging, charts, overview, secrets,
and the refusal of cross-site posts."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, Transition
from lambdahost.server import Platform
from lambdahost.web import live
from tests.integration.platforms import finished
from tests.integration.web_client import UiClient, zipped
from tests.waiting import eventually

HANDLER = "lambda_function.handler"
ECHO = """
import time
def handler(event, context):
    print("got", event)
    if event.get("fail"):
        raise ValueError("boom " + str(event.get("fail")))
    if event.get("sleep"):
        print("sleeping", flush=True)
        time.sleep(event["sleep"])
        print("woke", flush=True)
    return {"echo": event}
"""


def create(client: UiClient, name: str, source: str = ECHO, **fields: str) -> None:
    form = {"name": name, "runtime": "python3.11", "handler": HANDLER, "memory": "128", "timeout": "5"}
    form.update(fields)
    page = client.post_multipart("/ui/functions", form, {"package": ("fn.zip", zipped({"lambda_function.py": source}))})
    assert page.status == 303, page.text
    assert page.headers["location"] == f"/ui/functions/{name}"


def test_create_list_edit_delete(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    assert client.get("/ui").status == 307
    assert client.get("/ui/new").status == 200
    create(client, "new")  # a function may be called "new": its page is its own
    assert (
        client.get("/ui/functions/new").status == 200
        and '<h1 id="function-name">new</h1>' in client.get("/ui/functions/new").text
    )
    create(client, "web-crud", environment="GREETING=hello\n# a comment\n")
    config = platform.functions.get("web-crud")
    assert (config.runtime, config.handler, config.environment) == ("python3.11", HANDLER, {"GREETING": "hello"})

    listing = client.get("/ui/")
    assert listing.status == 200
    row = re.search(r'<tr data-function="web-crud">(.*?)</tr>', listing.text, re.S)
    assert row is not None
    assert "python3.11" in row.group(1) and HANDLER in row.group(1) and "never" in row.group(1)

    edit = client.get("/ui/functions/web-crud/edit")
    assert edit.status == 200 and 'value="128"' in edit.text and "GREETING=hello" in edit.text
    edited = {"runtime": "python3.12", "handler": HANDLER, "memory": "256", "timeout": "7", "environment": "",
              "concurrency": "3", "lanes": "2, 1"}  # fmt: skip
    page = client.post_multipart("/ui/functions/web-crud/edit", edited, {"package": ("", b"")})
    assert page.status == 303
    config = platform.functions.get("web-crud")
    assert (config.runtime, config.memory_mb, config.timeout_s, config.environment) == ("python3.12", 256, 7, {})
    assert (config.reserved_concurrency, config.lanes) == (3, (2, 1))
    bad = client.post_multipart("/ui/functions/web-crud/edit", {**edited, "lanes": "2, 0"}, {})
    assert bad.status == 400 and re.search(r'id="error-lanes">[^<]*lane 1', bad.text)
    page = client.post_multipart("/ui/functions/web-crud/edit", {**edited, "concurrency": "", "lanes": ""}, {})
    assert page.status == 303
    config = platform.functions.get("web-crud")
    assert (config.reserved_concurrency, config.lanes) == (None, None)

    confirm = client.get("/ui/functions/web-crud/delete")
    assert confirm.status == 200 and 'id="confirm-delete"' in confirm.text
    assert client.post_form("/ui/functions/web-crud/delete", {}).status == 303
    assert client.get("/ui/functions/web-crud").status == 404
    assert 'data-function="web-crud"' not in client.get("/ui/").text


def test_validation_errors_are_shown_next_to_their_field(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    form = {"name": "web-bad", "runtime": "python3.11", "handler": HANDLER, "memory": "lots", "timeout": "3",
            "environment": "no equals sign"}  # fmt: skip
    page = client.post_multipart("/ui/functions", form, {})
    assert page.status == 400
    assert re.search(r'id="error-memory">Must be a whole number', page.text)
    assert re.search(r'id="error-environment">Line 1 must look like KEY=VALUE', page.text)
    assert re.search(r'id="error-package">Choose the function', page.text)
    assert 'value="web-bad"' in page.text  # what was typed stays

    package = {"package": ("fn.zip", zipped({"lambda_function.py": ECHO}))}
    page = client.post_multipart("/ui/functions", {**form, "memory": "64", "environment": ""}, package)
    assert page.status == 400 and re.search(r'id="error-memory">[^<]*memorySize', page.text)
    page = client.post_multipart(
        "/ui/functions", {**form, "memory": "128", "environment": "", "runtime": "cobol"}, package
    )
    assert page.status == 400 and re.search(r'id="error-runtime">[^<]*cobol', page.text)
    page = client.post_multipart(
        "/ui/functions", {**form, "memory": "128", "environment": ""}, {"package": ("x.zip", b"not a zip")}
    )
    assert page.status == 400 and 'id="error-package"' in page.text


def test_names_and_payloads_are_escaped(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    form = {"name": "<script>alert(1)</script>", "runtime": "python3.11", "handler": HANDLER, "memory": "128",
            "timeout": "3", "environment": ""}  # fmt: skip
    page = client.post_multipart("/ui/functions", form, {"package": ("fn.zip", zipped({"lambda_function.py": ECHO}))})
    assert page.status == 400
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text

    create(client, "web-escape")
    ran = client.post_json("/ui/functions/web-escape/run", {"payload": '{"x": "<script>alert(2)</script>"}'})
    assert ran.status == 200
    detail = client.get(f"/ui/invocations/{ran.json()['id']}")
    assert detail.status == 200
    assert "<script>alert(2)" not in detail.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in detail.text
    bad_name = client.get("/ui/functions/%3Cscript%3E")
    assert bad_name.status == 400 and "<script>" not in bad_name.text and "&lt;script&gt;" in bad_name.text


def test_run_sync_shows_result_log_and_error_trace(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    create(client, "web-run")
    ok = client.post_json("/ui/functions/web-run/run", {"payload": '{"n": 1}', "mode": "sync"}).json()
    assert ok["status"] == "succeeded"
    assert '"echo": {\n    "n": 1\n  }' in ok["result"]
    assert "got {'n': 1}" in ok["log"] and "REPORT RequestId: " + ok["id"] in ok["log"]

    failed = client.post_json("/ui/functions/web-run/run", {"payload": '{"fail": 7}'}).json()
    assert failed["status"] == "failed" and failed["function_error"] == "Unhandled"
    assert '"errorMessage": "boom 7"' in failed["result"]
    assert 'raise ValueError("boom "' in failed["stack_trace"]

    bad = client.post_json("/ui/functions/web-run/run", {"payload": "{not json"})
    assert bad.status == 400 and bad.json()["error"] == "InvalidRequestContentException"
    missing = client.post_json("/ui/functions/web-nope/run", {"payload": "{}"})
    assert missing.status == 404 and missing.json()["error"] == "ResourceNotFoundException"

    detail = client.get(f"/ui/invocations/{failed['id']}")
    assert detail.status == 200
    for status in ("created", "pending", "ready", "running", "failed"):
        assert f'<span class="status {status}">{status}</span>' in detail.text
    assert re.search(r'<pre class="code trace" id="stack-trace">[^<]*raise ValueError', detail.text)
    log = client.get(f"/ui/invocations/{failed['id']}/log")
    assert log.status == 200 and log.headers["content-disposition"] == f'attachment; filename="{failed["id"]}.log"'
    assert "boom 7" in log.text


def test_an_invocation_page_lists_and_downloads_its_artifacts(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    source = (
        "import os\ndef handler(event, context):\n"
        "    path = os.path.join(os.environ['LAMBDAHOST_OUTPUT_DIR'], 'r.csv')\n"
        "    open(path, 'w').write('a,b\\n1,2\\n')\n    return 1\n"
    )
    create(client, "web-artifacts", source)
    ran = client.post_json("/ui/functions/web-artifacts/run", {"payload": "{}", "mode": "sync"}).json()
    assert ran["status"] == "succeeded"
    detail = client.get(f"/ui/invocations/{ran['id']}")
    assert f'<a href="/ui/invocations/{ran["id"]}/artifacts/r.csv" download>r.csv</a>' in detail.text
    got = client.get(f"/ui/invocations/{ran['id']}/artifacts/r.csv")
    assert got.status == 200 and got.text == "a,b\n1,2\n" and got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"].startswith('attachment; filename="r.csv"')


def events(text: str) -> list[tuple[str, str]]:
    return re.findall(r"event: (\w+)\ndata: (.*)\n\n", text)


def test_async_run_is_followed_live_until_it_ends(
    ui: tuple[Platform, UiClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    _platform, client = ui
    monkeypatch.setattr(live, "UNKNOWN_GIVE_UP_S", 0.5)  # the server runs in this process
    create(client, "web-live")
    queued = client.post_json("/ui/functions/web-live/run", {"payload": '{"sleep": 0.8}', "mode": "async"})
    assert queued.status == 200 and queued.json()["mode"] == "async"
    invocation_id = queued.json()["id"]
    assert eventually(
        lambda: any(r["id"] == invocation_id for r in client.get("/ui/functions/web-live/running").json()["running"]),
        timeout=5,
    )
    stream = client.get(f"/ui/invocations/{invocation_id}/events")
    assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
    got = events(stream.text)
    kinds = [kind for kind, _ in got]
    # the function's output arrived while it ran (before the end), read from its environment's log
    assert "log" in kinds and kinds.index("log") < kinds.index("end")
    live_text = "".join(json.loads(data) for kind, data in got if kind == "log")
    assert "sleeping" in live_text
    end = json.loads(got[-1][1])
    assert got[-1][0] == "end" and end["status"] == "succeeded" and "woke" in end["log"]

    unknown = client.get("/ui/invocations/00000000-0000-0000-0000-000000000000/events")
    assert events(unknown.text)[-1] == (
        "end",
        json.dumps({"id": "00000000-0000-0000-0000-000000000000", "status": "unknown", "log": "", "result": ""}),
    )


def record(function: str, n: int, status: InvocationStatus, at: float) -> Invocation:
    return Invocation(
        id=f"{function}-{n:05d}",
        function_name=function,
        version="$LATEST",
        type=InvocationType.EVENT,
        status=status,
        created_at=at,
        transitions=(Transition(InvocationStatus.CREATED, at), Transition(status, at + 0.01)),
        duration_ms=10.0 + n,
        max_memory_mb=20 + n % 5,
        finished_at=at + 0.01,
        log=f"log {n}\n",
    )


def test_history_pages_exactly_through_a_batch_created_in_one_instant(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    create(client, "web-batch")
    at = time.time() - 500
    platform.store.insert_invocations([record("web-batch", n, InvocationStatus.SUCCEEDED, at) for n in range(120)])
    seen: list[str] = []
    path: str | None = "/ui/functions/web-batch"
    while path is not None:
        page = client.get(path)
        assert page.status == 200
        seen += re.findall(r'<tr data-id="([^"]+)">', page.text)
        older = re.search(r'id="older" href="([^"]+)"', page.text)
        path = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [f"web-batch-{n:05d}" for n in range(119, -1, -1)]


def test_history_is_paged_and_filtered_and_charted(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    create(client, "web-history")
    base = time.time() - 1000
    statuses = [InvocationStatus.FAILED if n % 10 == 0 else InvocationStatus.SUCCEEDED for n in range(120)]
    platform.store.insert_invocations([record("web-history", n, s, base + n) for n, s in enumerate(statuses)])

    first = client.get("/ui/functions/web-history")
    assert first.status == 200
    ids = re.findall(r'<tr data-id="([^"]+)">', first.text)
    assert ids == [f"web-history-{n:05d}" for n in range(119, 69, -1)]
    older = re.search(r'id="older" href="([^"]+)"', first.text)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert re.findall(r'<tr data-id="([^"]+)">', second.text) == [f"web-history-{n:05d}" for n in range(69, 19, -1)]

    failed = client.get("/ui/functions/web-history?status=failed")
    assert re.findall(r'<tr data-id="([^"]+)">', failed.text) == [f"web-history-{n:05d}" for n in range(110, -1, -10)]
    assert client.get("/ui/functions/web-history?status=nonsense").status == 400

    # charts of the last 100 runs: one dot per run in each line chart, outcome counts 90 / 10
    duration = re.search(r'<figure id="chart-duration">(.*?)</figure>', first.text, re.S)
    assert duration is not None and duration.group(1).count("<circle") == 100
    outcomes = re.search(r'<figure id="chart-outcomes">(.*?)</figure>', first.text, re.S)
    assert outcomes is not None and ">90<" in outcomes.group(1) and ">10<" in outcomes.group(1)

    listing = client.get("/ui/")
    row = re.search(r'<tr data-function="web-history">(.*?)</tr>', listing.text, re.S)
    assert row is not None and 'class="status succeeded"' in row.group(1)  # the last run (n = 119)


def queue_lanes(page_text: str) -> dict[int, tuple[int, int]]:
    """The queue chart's lanes: lane -> (depth now, highest depth)."""
    found = re.findall(r'<g class="queue-lane" data-lane="(\d+)" data-now="(\d+)" data-peak="(\d+)">', page_text)
    return {int(lane): (int(now), int(peak)) for lane, now, peak in found}


def waiting(platform: Platform, function_name: str) -> dict[int, int]:
    """What ``queue_depth`` counts as waiting (pending and ready) per lane of the function's two lanes."""
    counts = dict.fromkeys((0, 1), 0)
    for d in platform.store.queue_depth():
        if d.function_name == function_name and d.status in (InvocationStatus.PENDING, InvocationStatus.READY):
            counts[d.lane] += d.count
    return counts


def test_the_queue_chart_shows_each_lanes_depth_over_time(ui: tuple[Platform, UiClient]) -> None:
    """Two lanes of at most one running invocation each: three queued at once into lane 0 and two into lane 1 wait
    their turn. While they run, the chart's current depth per lane is what queue_depth counts; once all ran, the
    lanes' series went up to 3 and 2 and are back at 0."""
    platform, client = ui
    create(client, "web-queue", lanes="1, 1")
    slow = json.dumps({"sleep": 0.3}).encode()
    ids = platform.enqueuer.enqueue_many("web-queue", [slow] * 3, lane=0)
    ids += platform.enqueuer.enqueue_many("web-queue", [slow] * 2, lane=1)

    def consistent_while_waiting() -> bool:
        before = waiting(platform, "web-queue")
        page = client.get("/ui/functions/web-queue")
        after = waiting(platform, "web-queue")
        if before != after or not any(before.values()):
            return False  # something moved while the page was read, or nothing waits any more: look again
        assert {lane: now for lane, (now, _peak) in queue_lanes(page.text).items()} == before
        return True

    assert eventually(consistent_while_waiting, timeout=5, interval=0.01)
    assert eventually(lambda: all(finished(platform, i).status is InvocationStatus.SUCCEEDED for i in ids), 20)
    page = client.get("/ui/functions/web-queue")
    assert page.status == 200 and '<figure id="chart-queue">' in page.text
    assert queue_lanes(page.text) == {0: (0, 3), 1: (0, 2)}
    assert "lane 0 (max 1): 0 waiting now, at most 3 since" in page.text


def test_overview_shows_queue_depth_workers_and_environments(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    create(client, "web-overview")
    later = time.time() + 3600  # queued, not claimable for an hour: stays pending
    platform.store.enqueue_many(
        [
            record("web-overview", n, InvocationStatus.PENDING, later).replace(
                available_at=later, finished_at=None, duration_ms=None
            )
            for n in range(3)
        ]
    )
    page = client.get("/ui/overview")
    assert page.status == 200
    row = re.search(r'<a href="/ui/functions/web-overview">web-overview</a></td>(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert re.findall(r'<td class="num">(\d+)</td>', row.group(1))[:2] == ["0", "3"]  # lane 0, 3 pending
    assert platform.invoker.worker_id in page.text
    listing = client.get("/ui/")
    listed = re.search(r'<tr data-function="web-overview">(.*?)</tr>', listing.text, re.S)
    assert listed is not None and '<td class="num">3</td>' in listed.group(1)


def test_secrets_are_write_only(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    page = client.post_form("/ui/secrets", {"name": "WEB_TOKEN", "value": "s3cr3t-value"})
    assert page.status == 303
    listing = client.get("/ui/secrets")
    assert listing.status == 200 and 'data-secret="WEB_TOKEN"' in listing.text
    assert "s3cr3t-value" not in listing.text
    assert [s.name for s in platform.secrets.list()] == ["WEB_TOKEN"]
    bad = client.post_form("/ui/secrets", {"name": "bad name!", "value": "x"})
    assert bad.status == 400 and 'id="error-secret"' in bad.text
    assert client.post_form("/ui/secrets/WEB_TOKEN/delete", {}).status == 303
    assert platform.secrets.list() == []


def test_cross_site_posts_are_refused(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    create(client, "web-csrf")
    refused = client.post_form("/ui/functions/web-csrf/delete", {}, headers={"Origin": "http://evil.example"})
    assert refused.status == 403
    refused = client.post_form("/ui/functions/web-csrf/delete", {}, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status == 403
    run = client.request("POST", "/ui/functions/web-csrf/run", b'{"payload": "{}"}', {"Origin": "http://evil.example"})
    assert run.status == 403
    assert platform.functions.get("web-csrf").name == "web-csrf"
    same = client.post_form("/ui/functions/web-csrf/delete", {}, headers={"Origin": f"http://{client.host}"})
    assert same.status == 303


def test_static_files_are_served(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    css = client.get("/ui/static/ui.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/ui/static/ui.js")
    assert js.status == 200 and "EventSource" in js.text
    assert Path(__file__).exists()
