"""The web UI in a real headless browser against a real ``lambdahost serve``: a user creates a function by dropping
its zip on the form, runs it with a payload, sees the result and the log, sees the run in the history and the chart
of the function page, and sees a secret the function was given masked in its log.

With ``LAMBDAHOST_SCREENSHOTS=DIR`` the test also saves the screenshots the README shows
(``ui-functions.png``, ``ui-function.png``)."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.acceptance.conftest import ServerProcess
from tests.integration.web_client import zipped

SOURCE = """
import os, time

def handler(event, context):
    print("report for", event.get("test"), "token", os.environ["TOKEN"])
    if event.get("slow"):
        print("crunching", flush=True)
        time.sleep(event["slow"])
    return {"test": event.get("test"), "p95_ms": 412.5}
"""

DROP = """([b64, name]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "application/zip" }));
  return transfer;
}"""


def enrich_for_screenshots(page: Any, url: str) -> None:
    """Only with LAMBDAHOST_SCREENSHOTS: more functions and runs, so the pictures look like a day of work."""
    archive = zipped({"lambda_function.py": SOURCE})
    for name in ("anomaly-detect", "weekly-digest", "quality-gate"):
        page.request.post(
            url + "/ui/functions",
            multipart={
                "name": name,
                "runtime": "python3.11",
                "handler": "lambda_function.handler",
                "memory": "256",
                "timeout": "30",
                "environment": "TOKEN=x",
                "package": {"name": "fn.zip", "mimeType": "application/zip", "buffer": archive},
            },
            max_redirects=0,
        )
    for i in range(24):
        slow = 0.02 + (i % 7) * 0.015 + (0.12 if i % 9 == 4 else 0.0)
        page.request.post(
            url + "/ui/functions/jtl-summary/run",
            data={"payload": f'{{"test": "run-{i}", "slow": {slow}}}', "mode": "sync"},
        )
    page.request.post(url + "/ui/functions/quality-gate/run", data={"payload": "{}", "mode": "sync"})
    page.request.post(
        url + "/ui/functions/jtl-summary/schedules",
        form={"name": "nightly-summary", "expression": "cron(30 2 * * ? *)", "timezone": "Europe/Berlin",
              "input": '{"test": "nightly"}', "enabled": "on"},
        max_redirects=0,
    )  # fmt: skip


def screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("LAMBDAHOST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def test_create_by_drop_run_and_see_result_log_history_chart_and_masked_secret(
    page: Any, ui_server: ServerProcess
) -> None:
    url = ui_server.url
    # a secret, set on the secrets page; its value is never shown again
    page.goto(url + "/ui/secrets")
    page.fill("#secret-name", "REPORT_TOKEN")
    page.fill("#secret-value", "tok-9f8e7d6c")
    page.click("#secret-save")
    expect(page.locator('tr[data-secret="REPORT_TOKEN"]')).to_be_visible()
    assert "tok-9f8e7d6c" not in page.content()

    # create: the form, with the zip dropped on the drop zone
    page.goto(url + "/ui/")
    page.click("#new-function")
    page.fill("#name", "jtl-summary")
    page.select_option("#runtime", "python3.11")
    page.fill("#handler", "lambda_function.handler")
    page.fill("#timeout", "10")
    page.fill("#environment", "TOKEN={{secret.REPORT_TOKEN}}")
    archive = base64.b64encode(zipped({"lambda_function.py": SOURCE})).decode()
    transfer = page.evaluate_handle(DROP, [archive, "jtl-summary.zip"])
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    expect(page.locator("#dropzone-label")).to_contain_text("jtl-summary.zip")
    page.click("#save")
    expect(page.locator("#function-name")).to_have_text("jtl-summary")

    # run it synchronously with a payload: the result pretty-printed, the log with the secret masked
    page.click("#run-open")
    page.fill("#run-payload", '{"test": "checkout-load"}')
    page.click("#run-submit")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#run-result")).to_contain_text('"p95_ms": 412.5')
    log = page.locator("#run-log")
    expect(log).to_contain_text("report for checkout-load token ***")
    assert "tok-9f8e7d6c" not in log.inner_text()

    # asynchronously, followed live: the log streams while it runs, then the result
    page.fill("#run-payload", '{"test": "soak", "slow": 1.5}')
    page.check("input[name=mode][value=async]")
    page.click("#run-submit")
    expect(page.locator("#run-log")).to_contain_text("crunching")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=20_000)
    expect(page.locator("#run-result")).to_contain_text('"test": "soak"')
    page.click("#run-close")

    # the runs in the history and the charts of the function page
    page.reload()
    rows = page.locator("#history tbody tr[data-id]")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".status")).to_have_text("succeeded")
    expect(page.locator("#chart-duration svg circle")).to_have_count(2)
    expect(page.locator("#chart-outcomes")).to_contain_text("succeeded")
    if os.environ.get("LAMBDAHOST_SCREENSHOTS"):
        enrich_for_screenshots(page, url)
        page.reload()
        screenshot(page, "ui-function.png")
        rows = page.locator("#history tbody tr[data-id]")

    # an invocation's page: timeline, payload and its log, masked
    page.locator("#history tbody tr[data-id]", has_text="Event").first.locator("a").first.click()
    expect(page.locator("#payload")).to_contain_text('"test": "soak"')
    page.go_back()
    page.locator("#history tbody tr[data-id]").last.locator("a").first.click()
    expect(page.locator("#timeline li")).to_have_count(5)
    expect(page.locator("#payload")).to_contain_text('"test": "checkout-load"')
    expect(page.locator("#log")).to_contain_text("token ***")

    # the list shows the last run
    page.goto(url + "/ui/")
    row = page.locator('tr[data-function="jtl-summary"]')
    expect(row).to_contain_text("succeeded")
    assert re.search(r"python3\.11", row.inner_text())
    screenshot(page, "ui-functions.png")


def test_validation_error_is_shown_next_to_the_field(page: Any, ui_server: ServerProcess) -> None:
    page.goto(ui_server.url + "/ui/new")
    page.fill("#name", "no-zip")
    page.fill("#memory", "64")
    page.set_input_files("#package", files=[{"name": "f.zip", "mimeType": "application/zip",
                                             "buffer": zipped({"lambda_function.py": SOURCE})}])  # fmt: skip
    page.click("#save")
    expect(page.locator("#error-memory")).to_contain_text("memorySize")
    expect(page.locator("#name")).to_have_value("no-zip")


def test_parameters_table_and_run_dialog_with_parameters(page: Any, ui_server: ServerProcess) -> None:
    page.goto(ui_server.url + "/ui/new")
    page.fill("#name", "param-report")
    page.fill("#handler", "lambda_function.handler")
    page.fill("#environment", "TOKEN=plain")
    page.fill("input[name=param_name_0]", "test")
    page.fill("input[name=param_default_0]", "nightly")
    page.fill("input[name=param_name_1]", "slow")
    page.select_option("select[name=param_type_1]", "number")
    page.fill("input[name=param_default_1]", "0")
    page.set_input_files("#package", files=[{"name": "f.zip", "mimeType": "application/zip",
                                             "buffer": zipped({"lambda_function.py": SOURCE})}])  # fmt: skip
    page.click("#save")
    expect(page.locator("#function-name")).to_have_text("param-report")

    # the run dialog: the parameters pre-filled with their defaults, editable, checked by the server
    page.click("#run-open")
    expect(page.locator("#run-param-test")).to_have_value("nightly")
    page.fill("#run-param-slow", "lots")
    page.click("#run-submit")
    expect(page.locator("#run-payload-error")).to_contain_text("Parameter 'slow' (number): 'lots' is not a number")
    page.fill("#run-param-slow", "0.01")
    page.fill("#run-param-test", "checkout")
    page.click("#run-submit")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#run-result")).to_contain_text('"test": "checkout"')

    # the edit form shows the declaration
    page.goto(ui_server.url + "/ui/functions/param-report/edit")
    expect(page.locator("input[name=param_name_1]")).to_have_value("slow")
    expect(page.locator("select[name=param_type_1]")).to_have_value("number")
