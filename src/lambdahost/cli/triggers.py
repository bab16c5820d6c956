"""``lambdahost triggers NAME``: everything that invokes a function, in one view (or ``--json``)."""

from __future__ import annotations

import json
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option
from lambdahost.cli.output import local_time, table


def _lag(lag: dict[str, Any] | None) -> str:
    if lag is None:
        return "source gone"
    if "Visible" in lag:
        return f"{lag['Visible']} visible, {lag['InFlight']} in flight, {lag['Delayed']} delayed"
    age = lag["IteratorAgeSeconds"]
    return f"{lag['RecordsBehind']} records behind" + ("" if age is None else f", iterator age {age:.1f}s")


def render(view: dict[str, Any]) -> str:
    """The text of ``lambdahost triggers`` (pure)."""
    sections = [f"{view['FunctionName']} ({view['FunctionArn']})"]
    schedules = [
        (
            s["Name"],
            s["ScheduleExpression"]
            + ("" if s["ScheduleExpressionTimezone"] == "UTC" else f" {s['ScheduleExpressionTimezone']}"),
            s["State"].lower(),
            local_time(s["NextFireTime"]) or "-",
            local_time(s["LastFireTime"]) or "-",
        )
        for s in view["Schedules"]
    ]
    sections.append(
        "Schedules\n" + (table(("NAME", "EXPRESSION", "STATE", "NEXT", "LAST"), schedules) if schedules else "  none")
    )
    mappings = [
        (m["UUID"], m["EventSourceArn"].rsplit(":", 1)[-1], m["State"], m["LastProcessingResult"], _lag(m["Lag"]))
        for m in view["EventSourceMappings"]
    ]
    sections.append(
        "Event source mappings\n"
        + (table(("UUID", "SOURCE", "STATE", "LAST RESULT", "LAG"), mappings) if mappings else "  none")
    )
    routes = [(r["RouteKey"], r["PayloadFormatVersion"], r["Url"]) for r in view["Routes"]]
    sections.append("HTTP routes\n" + (table(("ROUTE", "FORMAT", "URL"), routes) if routes else "  none"))
    urls = [(u["FunctionUrl"], u["AuthType"], u["Qualifier"] or "-") for u in view["FunctionUrls"]]
    sections.append("Function URLs\n" + (table(("URL", "AUTH", "QUALIFIER"), urls) if urls else "  none"))
    return "\n\n".join(sections)


@click.command("triggers")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The view as JSON (GET /lambdahost/v1/functions/NAME/triggers).")
@endpoint_option
def triggers(name: str, as_json: bool, endpoint: str) -> None:
    """Everything that invokes function NAME: schedules, queue and stream mappings (state, last result, lag), HTTP
    routes and function URLs."""
    with connect(endpoint) as client:
        view = client.triggers(name)
    click.echo(json.dumps(view, indent=2) if as_json else render(view))
