"""The web UI's parameters over real HTTP against an embedded Platform (SQLite): the form's parameters table saves
a declaration and shows its first error under the table without saving anything; the run dialog's endpoint runs
with parameter values (sync and async) and refuses a bad one naming it; a function without parameters keeps the
JSON payload mode."""

from __future__ import annotations

import json

from lambdahost.server import Platform
from tests.integration.platforms import finished
from tests.integration.web_client import UiClient, zipped

ECHO = "def handler(event, context):\n    return {'echo': event}\n"
BASE = {"runtime": "python3.11", "handler": "lambda_function.handler", "memory": "128", "timeout": "5"}
PACKAGE = {"package": ("fn.zip", zipped({"lambda_function.py": ECHO}))}


def test_the_form_declares_parameters_and_shows_errors(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    bad = {**BASE, "name": "p-bad", "param_name_0": "limit", "param_type_0": "number", "param_default_0": "ten"}
    page = client.post_multipart("/ui/functions", bad, PACKAGE)
    assert page.status == 400
    assert 'id="error-param-0"' in page.text and "Parameter &#39;limit&#39; (number)" in page.text
    assert platform.store.get_function("p-bad") is None, "nothing was created"

    good = {
        **BASE,
        "name": "p-good",
        "param_name_0": "limit",
        "param_type_0": "number",
        "param_default_0": "10",
        "param_name_1": "label",
        "param_type_1": "string",
        "param_required_1": "on",
        "param_description_1": "shown in the report",
        "param_name_2": "",
    }
    page = client.post_multipart("/ui/functions", good, PACKAGE)
    assert page.status == 303, page.text
    declared = platform.parameters.declared("p-good")
    assert [(p.name, p.type.value, p.default, p.required) for p in declared] == [
        ("limit", "number", 10, False),
        ("label", "string", None, True),
    ]
    edit = client.get("/ui/functions/p-good/edit")
    assert 'name="param_name_0" value="limit"' in edit.text and 'value="shown in the report"' in edit.text
    function_page = client.get("/ui/functions/p-good")
    assert 'id="run-param-limit"' in function_page.text and 'id="run-payload"' not in function_page.text

    # edit: the table replaces the declaration
    page = client.post_multipart("/ui/functions/p-good/edit", {**BASE, "param_name_0": "only"}, {})
    assert page.status == 303, page.text
    assert [p.name for p in platform.parameters.declared("p-good")] == ["only"]


def test_the_run_dialog_runs_with_parameter_values(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    page = client.post_multipart("/ui/functions", {**BASE, "name": "p-run"}, PACKAGE)
    assert page.status == 303
    assert 'id="run-payload"' in client.get("/ui/functions/p-run").text, "no parameters: the JSON payload mode"
    payload_run = client.post_json("/ui/functions/p-run/run", {"payload": '{"x": 1}', "mode": "sync"})
    assert json.loads(payload_run.json()["result"]) == {"echo": {"x": 1}}

    platform.parameters.declare(
        "p-run", [{"Name": "n", "Type": "number", "Default": 1}, {"Name": "on", "Type": "boolean"}]
    )
    done = client.post_json("/ui/functions/p-run/run", {"parameters": {"n": "2.5", "on": "true"}, "mode": "sync"})
    assert done.status == 200 and done.json()["status"] == "succeeded"
    assert json.loads(done.json()["result"]) == {"echo": {"n": 2.5, "on": True}}

    refused = client.post_json("/ui/functions/p-run/run", {"parameters": {"n": "many"}, "mode": "sync"})
    assert refused.status == 400
    assert "Parameter 'n' (number): 'many' is not a number" in refused.json()["message"]

    queued = client.post_json("/ui/functions/p-run/run", {"parameters": {}, "mode": "async"})
    assert queued.status == 200 and queued.json()["mode"] == "async"
    record = finished(platform, queued.json()["id"])
    assert record.result is not None and json.loads(record.result) == {"echo": {"n": 1}}
