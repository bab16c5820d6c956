"""The web UI in a real headless browser, for a task's whole day: a function created from a folder (chosen with
the folder picker, or its files dropped), a run with a file parameter uploaded whose report is downloaded from the
run dialog and from the invocation page, and the live log switched between two runs going on at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.acceptance.conftest import ServerProcess
from tests.integration.web_client import zipped

APP = """
from helpers.text import shout
def handler(event, context):
    return {"said": shout(event.get("word", "folder"))}
"""
HELPER = "def shout(word):\n    return word.upper() + '!'\n"

REPORT = """
import os
def handler(event, context):
    with open(event["jtl"]) as f:
        rows = f.read().splitlines()[1:]
    out = os.environ["LAMBDAHOST_OUTPUT_DIR"]
    with open(os.path.join(out, "summary.csv"), "w") as f:
        f.write("label,rows\\n" + event["label"] + "," + str(len(rows)) + "\\n")
    print("summarised", len(rows), "rows")
    return {"rows": len(rows)}
"""

SLEEPER = """
import time
def handler(event, context):
    print("working on", event["label"], flush=True)
    time.sleep(event["sleep"])
    print("done with", event["label"], flush=True)
    return {"label": event["label"]}
"""

DROP_LOOSE = """([files]) => {
  const transfer = new DataTransfer();
  for (const [name, text] of files) transfer.items.add(new File([text], name, { type: "text/x-python" }));
  return transfer;
}"""


def create_from_form(page: Any, url: str, name: str, handler: str = "app.handler") -> None:
    page.goto(url + "/ui/new")
    page.fill("#name", name)
    page.fill("#handler", handler)


def test_a_function_from_a_folder_picked_or_its_files_dropped(
    page: Any, ui_server: ServerProcess, tmp_path: Path
) -> None:
    folder = tmp_path / "shouter"
    (folder / "helpers").mkdir(parents=True)
    (folder / "app.py").write_text(APP)
    (folder / "helpers" / "__init__.py").write_text("")
    (folder / "helpers" / "text.py").write_text(HELPER)
    (folder / "helpers" / "__pycache__").mkdir()
    (folder / "helpers" / "__pycache__" / "text.cpython-311.pyc").write_bytes(b"\x00stale")

    create_from_form(page, ui_server.url, "from-folder")
    page.set_input_files("#package-folder", str(folder))  # the folder picker (webkitdirectory)
    expect(page.locator("#dropzone-label")).to_contain_text("files of shouter/")
    page.click("#save")
    expect(page.locator("#function-name")).to_have_text("from-folder")
    page.click("#run-open")
    page.click("#run-submit")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#run-result")).to_contain_text('"said": "FOLDER!"')

    # loose files dropped on the zone (not one zip): packaged as they are
    create_from_form(page, ui_server.url, "from-files", handler="main.handler")
    main = "def handler(event, context):\n    return {'dropped': True}\n"
    transfer = page.evaluate_handle(DROP_LOOSE, [[["main.py", main], ["notes.txt", "kept"]]])
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    expect(page.locator("#dropzone-label")).to_contain_text("2 files")
    page.click("#save")
    expect(page.locator("#function-name")).to_have_text("from-files")
    page.click("#run-open")
    page.click("#run-submit")
    expect(page.locator("#run-result")).to_contain_text('"dropped": true')

    # a folder whose code is refused: the error next to the package, what was typed kept
    create_from_form(page, ui_server.url, "bad-folder")
    transfer = page.evaluate_handle(DROP_LOOSE, [[["app.py", APP]]])
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    page.fill("#memory", "64")
    page.click("#save")
    expect(page.locator("#error-memory")).to_contain_text("memorySize")
    expect(page.locator("#name")).to_have_value("bad-folder")


def test_a_run_with_a_file_parameter_and_its_report_downloaded(
    page: Any, ui_server: ServerProcess, tmp_path: Path
) -> None:
    page.goto(ui_server.url + "/ui/new")
    page.fill("#name", "summarise")
    page.fill("#handler", "report.handler")
    page.fill("input[name=param_name_0]", "jtl")
    page.select_option("select[name=param_type_0]", "file")
    page.fill("input[name=param_name_1]", "label")
    page.fill("input[name=param_default_1]", "nightly")
    transfer = page.evaluate_handle(DROP_LOOSE, [[["report.py", REPORT]]])
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    page.click("#save")
    expect(page.locator("#function-name")).to_have_text("summarise")

    jtl = tmp_path / "results.jtl"
    jtl.write_text("timeStamp,elapsed,label\n1,10,a\n2,20,b\n3,30,a\n")
    page.click("#run-open")
    expect(page.locator("#run-param-label")).to_have_value("nightly")
    page.set_input_files("#run-param-jtl", str(jtl))
    page.click("#run-submit")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#run-result")).to_contain_text('"rows": 3')
    expect(page.locator("#run-log")).to_contain_text("summarised 3 rows")
    link = page.locator("#run-artifacts a", has_text="summary.csv")
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_text() == "label,rows\nnightly,3\n"

    # the invocation page: the artifact and the log, both downloadable
    page.click("#run-id")
    expect(page.locator("#artifacts")).to_contain_text("summary.csv")
    with page.expect_download() as download:
        page.click("text=Download log")
    log = Path(download.value.path()).read_text()
    assert "START RequestId" in log and "summarised 3 rows" in log and "REPORT RequestId" in log


def test_the_live_log_switches_between_runs_going_on_at_once(page: Any, ui_server: ServerProcess) -> None:
    url = ui_server.url
    sleeper = zipped({"lambda_function.py": SLEEPER})
    created = page.request.post(
        url + "/ui/functions",
        multipart={"name": "sleeper", "runtime": "python3.11", "handler": "lambda_function.handler",
                   "timeout": "60", "package": {"name": "fn.zip", "mimeType": "application/zip", "buffer": sleeper}},
        max_redirects=0,
    )  # fmt: skip
    assert created.status == 303
    ids = {}
    for label in ("first", "second"):
        answer = page.request.post(
            url + "/ui/functions/sleeper/run",
            data=json.dumps({"payload": json.dumps({"label": label, "sleep": 8}), "mode": "async"}),
            headers={"Content-Type": "application/json"},
        )
        ids[label] = answer.json()["id"]

    page.goto(url + "/ui/functions/sleeper")
    pick = page.locator("#live-pick")
    expect(pick.locator("option", has_text="running")).to_have_count(2, timeout=10_000)
    for label in ("second", "first"):
        pick.select_option(ids[label])
        expect(page.locator("#live-log")).to_contain_text(f"working on {label}")
        other = "first" if label == "second" else "second"
        assert f"working on {other}" not in page.locator("#live-log").inner_text()
        expect(page.locator("#live-status")).to_contain_text(ids[label])
    expect(page.locator("#live-log")).to_contain_text("done with first", timeout=20_000)
    expect(page.locator("#live-status")).to_contain_text("succeeded")


def test_a_schedule_added_from_the_function_page(page: Any, ui_server: ServerProcess) -> None:
    created = page.request.post(
        ui_server.url + "/ui/functions",
        multipart={"name": "weekly-report", "runtime": "python3.11", "handler": "report.handler",
                   "param_name_0": "jtl", "param_type_0": "file", "param_name_1": "label",
                   "param_default_1": "nightly", "param_type_1": "string",
                   "package": {"name": "fn.zip", "mimeType": "application/zip",
                               "buffer": zipped({"report.py": REPORT})}},
        max_redirects=0,
    )  # fmt: skip
    assert created.status == 303
    page.goto(ui_server.url + "/ui/functions/weekly-report")
    page.click("#schedule-add")
    expect(page.locator("#schedule-input")).to_contain_text('"label": "nightly"')  # the defaults that can be kept
    expect(page.locator("#schedule-left-out")).to_contain_text("jtl")  # a file cannot be kept in a schedule
    page.fill("#schedule-name", "friday-report")
    page.fill("#schedule-expression", "cron(30 9 ? * FRI *)")
    page.fill("#schedule-timezone", "Asia/Tokyo")
    expect(page.locator("#schedule-next li").first).to_contain_text("09:30 JST (Fri)")  # the preview follows typing
    page.fill("#schedule-expression", "cron(30 9 * * FRI *)")
    expect(page.locator("#schedule-preview-error")).to_contain_text("ScheduleExpression is not valid")
    page.click("#schedule-save")
    expect(page.locator("#error-expression")).to_contain_text("ScheduleExpression is not valid")
    page.fill("#schedule-expression", "cron(30 9 ? * FRI *)")
    page.click("#schedule-save")
    item = page.locator('li[data-schedule="friday-report"]')
    expect(item).to_contain_text("cron(30 9 ? * FRI *)")
    expect(item.locator(".schedule-state")).to_have_text("ENABLED")
    item.locator("button", has_text="disable").click()
    expect(page.locator('li[data-schedule="friday-report"] .schedule-state')).to_have_text("DISABLED")
