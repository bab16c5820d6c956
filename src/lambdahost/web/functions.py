"""The functions list (name, runtime, handler, package size, last run, queue depth, triggers) and the pages that
create, edit and delete a function. A save is one change: the form's own checks (``function_form``) and the
parameters table's are all shown at once, then the engine checks the configuration, limits and package together
before writing any of it (``FunctionService.create``/``update``), its error next to the field it is about."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from lambdahost.core.errors import LambdaHostError
from lambdahost.core.model import FunctionConfig
from lambdahost.core.parameters import Parameter
from lambdahost.web.forms import Form
from lambdahost.web.function_form import field_of, read_submission, runtime_choices, values_of
from lambdahost.web.guard import same_origin
from lambdahost.web.parameters_form import TYPES, parameter_rows
from lambdahost.web.templating import render

if TYPE_CHECKING:
    from lambdahost.server import Platform

PAGE_SIZE = 50


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    def rows(marker: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of functions with what the list shows of each: a handful of statements for the whole page."""
        configs, next_marker = platform.functions.list(marker, PAGE_SIZE)
        names = [config.name for config in configs]
        depth: dict[str, int] = defaultdict(int)
        for d in store.queue_depth():
            depth[d.function_name] += d.count
        last = store.last_invocations(names)
        triggers = store.trigger_counts(names)
        out = [
            {
                "config": config,
                "last": last.get(config.name),
                "depth": depth[config.name],
                "triggers": triggers.get(config.name, 0),
            }
            for config in configs
        ]
        return out, next_marker

    async def index(request: Request) -> Response:
        await run_in_threadpool(platform.recorder.flush, 1.0)
        functions, next_marker = await run_in_threadpool(rows, request.query_params.get("marker"))
        return render(request, "functions.html", functions=functions, next_marker=next_marker)

    async def form_page(request: Request, config: FunctionConfig | None, form: Form | None = None,
                  errors: dict[str, str] | None = None, status: int = 200,
                  progress: list[str] | None = None) -> Response:  # fmt: skip
        """The create/edit form; its reads (the declaration, this machine's runtimes: probed on the first call) run
        off the event loop."""
        declared: tuple[Parameter, ...] = ()
        if config is not None and form is None:
            declared = await run_in_threadpool(store.get_function_parameters, config.name)
        available = await run_in_threadpool(platform.available_runtimes)
        values = values_of(config, form)
        return render(
            request,
            "function_form.html",
            status_code=status,
            config=config,
            values=values,
            errors=errors or {},
            progress=progress or [],
            runtimes=runtime_choices(available, values.get("runtime", "")),
            parameter_rows=parameter_rows(declared, form, errors),
            parameter_types=TYPES,
        )

    async def new(request: Request) -> Response:
        return await form_page(request, None)

    async def create(request: Request) -> Response:
        same_origin(request)
        sent = await read_submission(request, create=True)
        if not sent.has_package:
            sent.errors["package"] = "Choose the function's zip, or drop its folder."
        if sent.errors:
            return await form_page(request, None, sent.form, sent.errors, 400, sent.progress)
        sent.request["Code"] = {"ZipFile": sent.code}
        try:
            config = await run_in_threadpool(platform.functions.create, sent.request, sent.limits)
            if sent.parameters:
                await run_in_threadpool(platform.parameters.declare, config.name, sent.parameters)
        except LambdaHostError as exc:
            error = {field_of(exc.message): exc.message}
            return await form_page(request, None, sent.form, error, exc.status, sent.progress)
        return RedirectResponse(f"/ui/functions/{config.name}", status_code=303)

    async def edit(request: Request) -> Response:
        config = await run_in_threadpool(platform.functions.get, request.path_params["name"])
        return await form_page(request, config)

    async def update(request: Request) -> Response:
        same_origin(request)
        config = await run_in_threadpool(platform.functions.get, request.path_params["name"])
        sent = await read_submission(request, create=False)
        if sent.errors:
            return await form_page(request, config, sent.form, sent.errors, 400, sent.progress)
        update = partial(platform.functions.update, config.name, sent.request, code=sent.code, limits=sent.limits)
        try:
            await run_in_threadpool(update)
            await run_in_threadpool(platform.parameters.declare, config.name, sent.parameters)
        except LambdaHostError as exc:
            error = {field_of(exc.message): exc.message}
            return await form_page(request, config, sent.form, error, exc.status, sent.progress)
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
