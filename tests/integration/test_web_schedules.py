"""A function's schedules through the web UI over real HTTP against an embedded Platform: the form's defaults (the
parameters' storable defaults as the event), the next fire times, each error next to its field with nothing
stored, edit (what the form does not show is kept), enable/disable, delete, and a schedule added in the UI that
really fires the function with its event."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from lambdahost.core.model import Invocation
from lambdahost.server import Platform
from lambdahost.web.schedules import preview
from tests.integration.web_client import UiClient, ui_platform, zipped
from tests.waiting import eventually

ECHO = "def handler(event, context):\n    print('event', event)\n    return event\n"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, UiClient]]:
    with ui_platform(tmp_path_factory.mktemp("web-schedules")) as (platform, client):
        page = client.post_multipart(
            "/ui/functions",
            {"name": "digest", "runtime": "python3.11", "handler": "lambda_function.handler", "timeout": "5",
             "param_name_0": "days", "param_type_0": "number", "param_default_0": "7",
             "param_name_1": "token", "param_type_1": "secret", "param_default_1": "{{secret.TOKEN}}",
             "param_name_2": "title", "param_type_2": "string", "param_default_2": "Weekly"},
            {"package": ("fn.zip", zipped({"lambda_function.py": ECHO}))},
        )  # fmt: skip
        assert page.status == 303, page.text
        yield platform, client


def form(**changes: str) -> dict[str, str]:
    base = {"name": "weekly", "expression": "cron(0 8 ? * MON *)", "timezone": "Europe/Berlin",
            "input": '{"days": 7}', "description": "the Monday digest", "enabled": "on"}  # fmt: skip
    return {**base, **changes}


def test_the_new_schedule_form_starts_from_the_parameters(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    page = client.get("/ui/functions/digest/schedules/new")
    assert page.status == 200
    area = re.search(r'<textarea id="schedule-input"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert area is not None
    assert json.loads(area.group(1).replace("&#34;", '"').replace("&quot;", '"')) == {"days": 7, "title": "Weekly"}
    assert re.search(r'id="schedule-left-out">Not in the event: token', page.text)
    assert len(re.findall(r"<li>\d{4}-\d\d-\d\d 08:00 UTC \(Mon\)</li>", page.text)) == 5


def test_next_fire_times_in_the_time_zone() -> None:
    monday_morning = datetime(2026, 3, 23, 6, 0, tzinfo=UTC)  # Berlin changed to summer time on Sunday the 29th
    times = preview("cron(0 8 ? * MON *)", "Europe/Berlin", monday_morning)
    assert times[:2] == ["2026-03-23 08:00 CET (Mon)", "2026-03-30 08:00 CEST (Mon)"]
    assert len(times) == 5


def test_preview_endpoint(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    good = client.get("/ui/schedules/preview?expression=rate(1%20hour)&timezone=UTC")
    assert good.status == 200 and len(good.json()["next"]) == 5
    bad = client.get("/ui/schedules/preview?expression=cron(61%20*%20*%20*%20?%20*)&timezone=UTC")
    assert bad.status == 400 and "ScheduleExpression is not valid" in bad.json()["error"]
    zone = client.get("/ui/schedules/preview?expression=rate(1%20hour)&timezone=Mars/Olympus")
    assert zone.status == 400 and "time zone" in zone.json()["error"]


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"expression": "every monday"}, "expression", "ScheduleExpression is not valid"),
        ({"expression": "cron(0 8 * * MON *)"}, "expression", "ScheduleExpression is not valid"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "Invalid time zone"),
        ({"input": "{days: 7}"}, "input", "well-formed JSON"),
        ({"name": "no spaces allowed"}, "name", "at &#39;name&#39;"),
    ],
)
def test_errors_are_shown_next_to_their_field_and_nothing_is_stored(
    ui: tuple[Platform, UiClient], changes: dict[str, str], field: str, text: str
) -> None:
    platform, client = ui
    page = client.post_form("/ui/functions/digest/schedules", form(**{"name": "refused", **changes}))
    assert page.status == 400
    assert re.search(rf'id="error-{field}">[^<]*{re.escape(text)}', page.text), page.text
    assert 'value="the Monday digest"' in page.text  # what was typed stays
    assert platform.store.get_schedule(changes.get("name", "refused")) is None


def test_add_edit_toggle_delete(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    page = client.post_form("/ui/functions/digest/schedules", form())
    assert page.status == 303 and page.headers["location"] == "/ui/functions/digest#triggers"
    stored = platform.store.get_schedule("weekly")
    assert stored is not None
    assert (stored.function_name, stored.expression, stored.timezone, stored.input, stored.enabled) == (
        "digest", "cron(0 8 ? * MON *)", "Europe/Berlin", '{"days": 7}', True
    )  # fmt: skip
    assert stored.next_fire_at is not None and datetime.fromtimestamp(stored.next_fire_at, UTC).weekday() == 0
    listed = client.get("/ui/functions/digest").text
    assert re.search(
        r'data-schedule="weekly"><b>weekly</b> <code>cron\(0 8 \? \* MON \*\)</code> Europe/Berlin', listed
    )

    again = client.post_form("/ui/functions/digest/schedules", form())
    assert again.status == 409 and re.search(r'id="error-name">[^<]*already exists', again.text)

    # an edit keeps what the form does not show (here a dead-letter queue set through the API)
    platform.message_queues.create("digest-dlq", {})
    dlq = "arn:aws:sqs:us-east-1:000000000000:digest-dlq"
    platform.schedules.update(platform.schedules.get("weekly").replace(dead_letter_arn=dlq))
    edit = client.get("/ui/schedules/weekly/edit")
    assert edit.status == 200 and 'value="cron(0 8 ? * MON *)"' in edit.text and "readonly" in edit.text
    page = client.post_form("/ui/schedules/weekly/edit", form(expression="rate(2 hours)", timezone="UTC", enabled=""))
    assert page.status == 303
    edited = platform.schedules.get("weekly")
    assert (edited.expression, edited.timezone, edited.enabled, edited.dead_letter_arn) == (
        "rate(2 hours)", "UTC", False, dlq
    )  # fmt: skip

    assert client.post_form("/ui/schedules/weekly/toggle", {}).status == 303
    assert platform.schedules.get("weekly").enabled is True
    assert re.search(
        r'data-schedule="weekly">.*?class="schedule-state">ENABLED', client.get("/ui/functions/digest").text
    )
    assert client.post_form("/ui/schedules/weekly/delete", {}).status == 303
    assert platform.store.get_schedule("weekly") is None
    assert client.post_form("/ui/schedules/weekly/toggle", {}).status == 404


def test_a_schedule_added_in_the_ui_fires_with_its_event(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    due = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    page = client.post_form(
        "/ui/functions/digest/schedules",
        form(name="once", expression=f"at({due})", timezone="UTC", input='{"days": 1, "title": "Now"}'),
    )
    assert page.status == 303, page.text

    def finished() -> list[Invocation]:
        listed = platform.store.list_invocations("digest", None, 10)
        return [full for r in listed if r.finished_at and (full := platform.store.get_invocation(r.id)) is not None]

    assert eventually(lambda: bool(finished()), timeout=20), "the schedule added in the UI did not fire within 20 s"
    (run,) = finished()
    assert run.type.value == "Event" and run.status.value == "succeeded"
    assert json.loads(run.payload) == json.loads(run.result or b"null") == {"days": 1, "title": "Now"}
