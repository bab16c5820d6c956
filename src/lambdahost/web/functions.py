"""The functions list (name, runtime, handler, package size, last run, queue depth, triggers) and the forms that
create, edit and delete a function. The engine validates, exactly as for the API; its first error is shown next
to the field it is about (``field_of``), the UI's own checks (numbers, environment lines, a zip) all at once."""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from lambdahost.core.errors import LambdaHostError, ResourceNotFound
from lambdahost.core.model import FunctionConfig
from lambdahost.engine.functions import SUPPORTED_RUNTIMES
from lambdahost.web.forms import Form, read_form
from lambdahost.web.guard import same_origin
from lambdahost.web.parameters_form import TYPES, declaration_from, parameter_rows
from lambdahost.web.templating import render

if TYPE_CHECKING:
    from lambdahost.server import Platform

PAGE_SIZE = 50
DEFAULT_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"

# The engine's message -> the form field it is about (first match wins; anything else goes above the form).
_FIELDS = (
    (re.compile(r"\blanes?\b", re.I), "lanes"),
    (re.compile(r"reservedConcurrentExecutions", re.I), "concurrency"),
    (re.compile(r"runtime", re.I), "runtime"),
    (re.compile(r"handler", re.I), "handler"),
    (re.compile(r"memorySize|memory", re.I), "memory"),
    (re.compile(r"timeout", re.I), "timeout"),
    (re.compile(r"environment|variable", re.I), "environment"),
    (re.compile(r"zip|unzip|code|package|entries|compress|symlink|archive", re.I), "package"),
    (re.compile(r"function ?name|already exist|name", re.I), "name"),
)


def field_of(message: str) -> str:
    for pattern, name in _FIELDS:
        if pattern.search(message):
            return name
    return "form"


def parse_environment(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (blank lines and ``#`` comments skipped); ValueError names the first bad line."""
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"Line {number} must look like KEY=VALUE.")
        variables[key.strip()] = value
    return variables


def _request_from(form: Form, errors: dict[str, str], create: bool) -> dict[str, Any]:
    """The engine's CreateFunction/UpdateFunctionConfiguration request from the form; UI-level errors into
    ``errors``."""
    request: dict[str, Any] = {"Runtime": form.get("runtime"), "Handler": form.get("handler").strip()}
    if create:
        request["FunctionName"] = form.get("name").strip()
    for key, name in (("MemorySize", "memory"), ("Timeout", "timeout")):
        raw = form.get(name).strip()
        if raw:
            try:
                request[key] = int(raw)
            except ValueError:
                errors[name] = "Must be a whole number."
    try:
        request["Environment"] = {"Variables": parse_environment(form.get("environment"))}
    except ValueError as exc:
        errors["environment"] = str(exc)
    return request


def _limits_from(form: Form, errors: dict[str, str]) -> tuple[int | None, list[int] | None]:
    """Reserved concurrency (blank: unreserved) and lanes (comma-separated maxima; blank: one unlimited lane)."""
    concurrency: int | None = None
    raw = form.get("concurrency").strip()
    if raw:
        try:
            concurrency = int(raw)
        except ValueError:
            errors["concurrency"] = "Must be a whole number, or blank for unreserved."
    lanes: list[int] | None = None
    raw = form.get("lanes").strip()
    if raw:
        try:
            lanes = [int(part) for part in raw.split(",")]
        except ValueError:
            errors["lanes"] = "Must be whole numbers separated by commas (one maximum concurrency a lane)."
    return concurrency, lanes


def _values(config: FunctionConfig | None, form: Form | None) -> dict[str, str]:
    """What the form's inputs show: what was posted, else the function's configuration, else defaults."""
    if form is not None:
        return dict(form.fields)
    if config is None:
        return {"runtime": DEFAULT_RUNTIME, "handler": "lambda_function.lambda_handler", "memory": "128",
                "timeout": "3", "environment": "", "name": "", "concurrency": "", "lanes": ""}  # fmt: skip
    return {
        "name": config.name,
        "runtime": config.runtime,
        "handler": config.handler,
        "memory": str(config.memory_mb),
        "timeout": str(config.timeout_s),
        "environment": "".join(f"{k}={v}\n" for k, v in config.environment.items()),
        "concurrency": "" if config.reserved_concurrency is None else str(config.reserved_concurrency),
        "lanes": ", ".join(str(n) for n in config.lanes or ()),
    }


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    def apply_limits(config: FunctionConfig, concurrency: int | None, lanes: list[int] | None) -> None:
        """Concurrency and lanes have their own operations (PutFunctionConcurrency, lanes): called on change only."""
        if concurrency != config.reserved_concurrency:
            if concurrency is None:
                platform.functions.delete_concurrency(config.name)
            else:
                platform.functions.put_concurrency(config.name, concurrency)
        if tuple(lanes or ()) != tuple(config.lanes or ()):
            platform.functions.set_lanes(config.name, lanes)

    def rows(marker: str | None) -> tuple[list[dict[str, Any]], str | None]:
        configs, next_marker = platform.functions.list(marker, PAGE_SIZE)
        depth: dict[str, int] = defaultdict(int)
        for d in store.queue_depth():
            depth[d.function_name] += d.count
        out = []
        for config in configs:
            last = store.list_invocations(config.name, None, 1)
            try:
                triggers = platform.triggers.of(config.name)
                count = sum(
                    len(triggers[key]) for key in ("Schedules", "EventSourceMappings", "Routes", "FunctionUrls")
                )
            except ResourceNotFound:  # deleted meanwhile
                continue
            out.append({"config": config, "last": last[0] if last else None, "depth": depth[config.name],
                        "triggers": count})  # fmt: skip
        return out, next_marker

    async def index(request: Request) -> Response:
        await run_in_threadpool(platform.recorder.flush, 1.0)
        functions, next_marker = await run_in_threadpool(rows, request.query_params.get("marker"))
        return render(request, "functions.html", functions=functions, next_marker=next_marker)

    def form_page(request: Request, config: FunctionConfig | None, form: Form | None = None,
                  errors: dict[str, str] | None = None, status: int = 200) -> Response:  # fmt: skip
        declared = store.get_function_parameters(config.name) if config is not None and form is None else ()
        return render(
            request,
            "function_form.html",
            status_code=status,
            config=config,
            values=_values(config, form),
            errors=errors or {},
            runtimes=SUPPORTED_RUNTIMES,
            parameter_rows=parameter_rows(declared, form),
            parameter_types=TYPES,
        )

    async def new(request: Request) -> Response:
        return form_page(request, None)

    async def create(request: Request) -> Response:
        same_origin(request)
        form = await read_form(request)
        errors: dict[str, str] = {}
        body = _request_from(form, errors, create=True)
        concurrency, lanes = _limits_from(form, errors)
        declaration = declaration_from(form, errors)
        upload = form.files.get("package")
        if upload is None or not upload.data:
            errors["package"] = "Choose the function's zip."
        if errors:
            return form_page(request, None, form, errors, 400)
        assert upload is not None
        body["Code"] = {"ZipFile": upload.data}
        try:
            config = await run_in_threadpool(platform.functions.create, body)
        except LambdaHostError as exc:
            return form_page(request, None, form, {field_of(exc.message): exc.message}, exc.status)
        try:
            await run_in_threadpool(apply_limits, config, concurrency, lanes)
            if declaration:
                await run_in_threadpool(platform.parameters.declare, config.name, declaration)
        except LambdaHostError as exc:  # created, but not with these limits: the edit form says why
            return form_page(request, config, form, {field_of(exc.message): exc.message}, exc.status)
        return RedirectResponse(f"/ui/functions/{config.name}", status_code=303)

    async def edit(request: Request) -> Response:
        config = await run_in_threadpool(platform.functions.get, request.path_params["name"])
        return form_page(request, config)

    async def update(request: Request) -> Response:
        same_origin(request)
        config = await run_in_threadpool(platform.functions.get, request.path_params["name"])
        form = await read_form(request)
        errors: dict[str, str] = {}
        body = _request_from(form, errors, create=False)
        concurrency, lanes = _limits_from(form, errors)
        declaration = declaration_from(form, errors)
        if errors:
            return form_page(request, config, form, errors, 400)
        upload = form.files.get("package")
        try:
            updated = await run_in_threadpool(platform.functions.update_configuration, config.name, body)
            await run_in_threadpool(apply_limits, updated, concurrency, lanes)
            await run_in_threadpool(platform.parameters.declare, config.name, declaration)
            if upload is not None and upload.data:
                await run_in_threadpool(platform.functions.update_code, config.name, {"ZipFile": upload.data})
        except LambdaHostError as exc:
            return form_page(request, config, form, {field_of(exc.message): exc.message}, exc.status)
        return RedirectResponse(f"/ui/functions/{config.name}", status_code=303)

    async def confirm_delete(request: Request) -> Response:
        config = await run_in_threadpool(platform.functions.get, request.path_params["name"])
        return render(request, "confirm_delete.html", config=config)

    async def delete(request: Request) -> Response:
        same_origin(request)
        await run_in_threadpool(platform.functions.delete, request.path_params["name"])
        return RedirectResponse("/ui/", status_code=303)

    return [
        Route("/ui/", index, methods=["GET"]),
        Route("/ui/new", new, methods=["GET"]),  # not under /ui/functions/: a function may be named "new"
        Route("/ui/functions", create, methods=["POST"]),
        Route("/ui/functions/{name}/edit", edit, methods=["GET"]),
        Route("/ui/functions/{name}/edit", update, methods=["POST"]),
        Route("/ui/functions/{name}/delete", confirm_delete, methods=["GET"]),
        Route("/ui/functions/{name}/delete", delete, methods=["POST"]),
    ]
