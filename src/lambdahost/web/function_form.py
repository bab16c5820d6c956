"""The create/edit form of a function, read into what the engine takes: the CreateFunction/UpdateFunctionConfiguration
request, the limits (reserved concurrency, lanes), and the package (a zip, or a folder's files packaged here as
``lambdahost package`` packages a folder, requirements.txt vendored by pip). The UI's own checks (numbers,
environment lines, lanes) are all collected at once into ``errors``, keyed by field; an engine error is put next
to the field it is about (``field_of``)."""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from lambdahost.code.folder_package import package_folder
from lambdahost.code.packaging import Target
from lambdahost.code.uploads import write_uploaded_folder
from lambdahost.core.errors import LambdaHostError
from lambdahost.core.model import FunctionConfig
from lambdahost.engine.functions import Limits
from lambdahost.runtime.interpreters import Interpreter
from lambdahost.web.forms import Form, read_form
from lambdahost.web.parameters_form import declaration_from

DEFAULT_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
ZIP_FIELD, FOLDER_FIELD = "package", "package_files"

# The engine's message -> the form field it is about (first match wins; anything else goes above the form).
_FIELDS = (
    (re.compile(r"\blanes?\b", re.I), "lanes"),
    (re.compile(r"reservedConcurrentExecutions", re.I), "concurrency"),
    (re.compile(r"runtime", re.I), "runtime"),
    (re.compile(r"handler", re.I), "handler"),
    (re.compile(r"memorySize|memory", re.I), "memory"),
    (re.compile(r"timeout", re.I), "timeout"),
    (re.compile(r"environment|variable", re.I), "environment"),
    (re.compile(r"zip|unzip|code|package|entries|compress|symlink|archive|upload", re.I), "package"),
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


def request_from(form: Form, errors: dict[str, str], create: bool) -> dict[str, Any]:
    """The engine's CreateFunction/UpdateFunctionConfiguration request from the form."""
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


def limits_from(form: Form, errors: dict[str, str]) -> Limits:
    """Reserved concurrency (blank: unreserved) and lanes (comma-separated maxima; blank: one unlimited lane)."""
    limits = Limits()
    raw = form.get("concurrency").strip()
    if raw:
        try:
            limits = Limits(reserved=int(raw))
        except ValueError:
            errors["concurrency"] = "Must be a whole number, or blank for unreserved."
    raw = form.get("lanes").strip()
    if raw:
        try:
            return Limits(limits.reserved, [int(part) for part in raw.split(",")])
        except ValueError:
            errors["lanes"] = "Must be whole numbers separated by commas (one maximum concurrency a lane)."
    return limits


@dataclass(frozen=True)
class RuntimeChoice:
    runtime: str
    label: str


def runtime_choices(available: Sequence[Interpreter], current: str) -> list[RuntimeChoice]:
    """The runtime select's options: the runtimes this machine runs, each with its exact Python; and the function's
    current runtime when this machine lacks it (kept, marked), so an edit never changes it by accident."""
    choices = [RuntimeChoice(i.runtime, f"{i.runtime} (Python {i.version})") for i in available]
    if current and current not in {choice.runtime for choice in choices}:
        choices.append(RuntimeChoice(current, f"{current} (not on this machine: runs on the platform's Python)"))
    return choices


def values_of(config: FunctionConfig | None, form: Form | None) -> dict[str, str]:
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


def package_from(form: Form, runtime: str, errors: dict[str, str], progress: list[str]) -> bytes | None:
    """The package the form carries: the zip as it is, or the folder's files packaged (blocking: pip may run);
    None when neither was given. Its problem goes to ``errors["package"]``, packaging's lines to ``progress``."""
    archive, folder = form.file(ZIP_FIELD), form.files.get(FOLDER_FIELD, [])
    if archive is not None and folder:
        errors["package"] = "Give a zip or a folder's files, not both."
        return None
    if archive is not None:
        return archive.data
    if not folder:
        return None
    try:
        target = Target.of(runtime)
        with tempfile.TemporaryDirectory(prefix="lambdahost-upload-") as work:
            root = Path(work)
            write_uploaded_folder([(upload.filename, upload.data) for upload in folder], root)
            return package_folder(root, target, report=progress.append).data
    except LambdaHostError as exc:  # an unsafe path, too many files, pip's failure (VendoringFailed)
        errors["package"] = exc.message
        return None


@dataclass
class Submission:
    """A posted create/edit form, read: the engine's request, limits, parameter declaration and package, and every
    problem the UI itself found (keyed by field), with packaging's progress lines."""

    form: Form
    errors: dict[str, str]
    request: dict[str, Any]
    limits: Limits
    parameters: list[dict[str, Any]]
    code: bytes | None
    progress: list[str]

    @property
    def has_package(self) -> bool:
        return self.form.file(ZIP_FIELD) is not None or bool(self.form.files.get(FOLDER_FIELD))


async def read_submission(request: Request, create: bool) -> Submission:
    form = await read_form(request)
    errors: dict[str, str] = {}
    body = request_from(form, errors, create)
    limits = limits_from(form, errors)
    parameters = declaration_from(form, errors)
    progress: list[str] = []
    code = None
    if not errors:  # packaging a folder may run pip: only for a form that can otherwise be saved
        code = await run_in_threadpool(package_from, form, str(body["Runtime"]), errors, progress)
    return Submission(form, errors, body, limits, parameters, code, progress)
