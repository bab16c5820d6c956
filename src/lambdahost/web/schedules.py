"""A function's schedules in the browser: add one (an EventBridge expression, its time zone and the event it
delivers, with the next fire times shown as the expression is typed), edit it, enable or disable it, delete it.
Everything goes through ``ScheduleService``, as EventBridge Scheduler's API and ``lambdahost schedules`` do, so
the same checks apply and each error is shown next to its field. The function page lists the schedules
(``TriggerOverview``); these are the pages and posts behind its buttons."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from lambdahost.core import schedules as expressions
from lambdahost.core.errors import LambdaHostError
from lambdahost.core.model import ScheduleConfig
from lambdahost.core.parameters import Parameter, ParameterType
from lambdahost.core.secrets import references
from lambdahost.web.forms import Form, read_form
from lambdahost.web.guard import same_origin
from lambdahost.web.templating import render

if TYPE_CHECKING:
    from lambdahost.server import Platform

PREVIEW_COUNT = 5
# ScheduleService's message -> the form field it is about (case-insensitive, first match wins; else above the form)
_FIELDS = (
    ("time zone", "timezone"),
    ("already exists", "name"),
    ("at 'name'", "name"),
    ("input", "input"),
    ("description", "description"),
    ("expression", "expression"),
)


def field_of(message: str) -> str:
    lowered = message.lower()
    for needle, name in _FIELDS:
        if needle in lowered:
            return name
    return "form"


def preview(expression: str, tz_name: str, now: datetime | None = None) -> list[str]:
    """The next fire times of ``expression`` read in ``tz_name``, as the form shows them; ValidationError when
    either is wrong. A ``rate()`` counts from now, as a schedule created now would."""
    tz = expressions.timezone(tz_name or "UTC")
    schedule = expressions.parse(expression.strip())
    after = now or datetime.now(UTC)
    times = expressions.fire_times(schedule, after, tz, PREVIEW_COUNT)
    return [t.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z (%a)") for t in times]


def default_input(declared: tuple[Parameter, ...]) -> tuple[str, list[str]]:
    """The event a new schedule of a function with parameters delivers: the defaults that can be stored (JSON
    text), and the parameters left out (secrets and files cannot be kept in a schedule's input, and a default that
    references a secret would be delivered unresolved)."""
    event: dict[str, Any] = {}
    left_out: list[str] = []
    for parameter in declared:
        if parameter.type in (ParameterType.SECRET, ParameterType.FILE):
            left_out.append(parameter.name)
        elif parameter.has_default:
            if isinstance(parameter.default, str) and references(parameter.default):
                left_out.append(parameter.name)
            else:
                event[parameter.name] = parameter.default
    return json.dumps(event, indent=2), left_out


def draft_from(form: Form, function_name: str, current: ScheduleConfig | None) -> ScheduleConfig:
    """The schedule the form describes; an edit keeps what the form does not show (retry policy, dead-letter
    queue, flexible window, dates), as ``lambdahost schedules`` would."""
    text = form.get("input").strip()
    fields: dict[str, Any] = {
        "expression": form.get("expression").strip(),
        "timezone": form.get("timezone").strip() or "UTC",
        "input": text or None,
        "description": form.get("description").strip(),
        "enabled": form.get("enabled", "") == "on",
    }
    if current is not None:
        return current.replace(**fields)
    return ScheduleConfig(
        name=form.get("name").strip(), function_name=function_name, created_at=0.0, last_modified=0.0, **fields
    )


def routes(platform: Platform) -> list[Route]:
    service = platform.schedules

    def back(function_name: str) -> Response:
        return RedirectResponse(f"/ui/functions/{function_name}#triggers", status_code=303)

    def form_page(
        request: Request,
        function_name: str,
        values: dict[str, str],
        schedule: ScheduleConfig | None = None,
        errors: dict[str, str] | None = None,
        left_out: list[str] | None = None,
        status_code: int = 200,
    ) -> Response:
        try:
            times = preview(values.get("expression", ""), values.get("timezone", "UTC"))
            preview_error = ""
        except LambdaHostError as exc:
            times, preview_error = [], exc.message
        return render(
            request,
            "schedule_form.html",
            status_code=status_code,
            function_name=function_name,
            schedule=schedule,
            values=values,
            errors=errors or {},
            left_out=left_out or [],
            times=times,
            preview_error=preview_error if values.get("expression") else "",
        )

    async def new(request: Request) -> Response:
        config = await run_in_threadpool(platform.functions.get, request.path_params["name"])
        declared = await run_in_threadpool(platform.store.get_function_parameters, config.name)
        event, left_out = default_input(declared) if declared else ("{}", [])
        values = {"name": f"{config.name}-schedule"[:64], "expression": "cron(0 8 ? * MON *)", "timezone": "UTC",
                  "input": event, "description": "", "enabled": "on"}  # fmt: skip
        return form_page(request, config.name, values, left_out=left_out)

    async def create(request: Request) -> Response:
        same_origin(request)
        config = await run_in_threadpool(platform.functions.get, request.path_params["name"])
        form = await read_form(request)
        try:
            await run_in_threadpool(service.create, draft_from(form, config.name, None))
        except LambdaHostError as exc:
            errors = {field_of(exc.message): exc.message}
            return form_page(request, config.name, dict(form.fields), None, errors, status_code=exc.status)
        return back(config.name)

    async def edit(request: Request) -> Response:
        schedule = await run_in_threadpool(service.get, request.path_params["schedule"])
        values = {"name": schedule.name, "expression": schedule.expression, "timezone": schedule.timezone,
                  "input": schedule.input or "", "description": schedule.description,
                  "enabled": "on" if schedule.enabled else ""}  # fmt: skip
        return form_page(request, schedule.function_name, values, schedule)

    async def update(request: Request) -> Response:
        same_origin(request)
        current = await run_in_threadpool(service.get, request.path_params["schedule"])
        form = await read_form(request)
        try:
            await run_in_threadpool(service.update, draft_from(form, current.function_name, current))
        except LambdaHostError as exc:
            errors = {field_of(exc.message): exc.message}
            values = {**dict(form.fields), "name": current.name}
            return form_page(request, current.function_name, values, current, errors, status_code=exc.status)
        return back(current.function_name)

    async def toggle(request: Request) -> Response:
        same_origin(request)
        current = await run_in_threadpool(service.get, request.path_params["schedule"])
        await run_in_threadpool(service.update, current.replace(enabled=not current.enabled))
        return back(current.function_name)

    async def delete(request: Request) -> Response:
        same_origin(request)
        current = await run_in_threadpool(service.get, request.path_params["schedule"])
        await run_in_threadpool(service.delete, current.name)
        return back(current.function_name)

    async def next_times(request: Request) -> Response:
        try:
            times = preview(request.query_params.get("expression", ""), request.query_params.get("timezone", "UTC"))
        except LambdaHostError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse({"next": times})

    return [
        Route("/ui/functions/{name}/schedules/new", new, methods=["GET"]),
        Route("/ui/functions/{name}/schedules", create, methods=["POST"]),
        Route("/ui/schedules/preview", next_times, methods=["GET"]),
        Route("/ui/schedules/{schedule}/edit", edit, methods=["GET"]),
        Route("/ui/schedules/{schedule}/edit", update, methods=["POST"]),
        Route("/ui/schedules/{schedule}/toggle", toggle, methods=["POST"]),
        Route("/ui/schedules/{schedule}/delete", delete, methods=["POST"]),
    ]
