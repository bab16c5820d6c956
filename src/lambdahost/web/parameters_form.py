"""The parameters table of the create/edit form, and the run dialog's parameter values.

The table is plain form fields, one row per parameter (``param_name_<i>``, ``param_type_<i>``,
``param_default_<i>``, ``param_description_<i>``, ``param_required_<i>``) plus a few blank rows to add more, so it
works without scripts; rows with a blank name are ignored. Defaults are text, converted to the declared type by
``core/parameters.py`` exactly as the CLI's ``--set`` is; the whole declaration is checked before the function is
saved, each row's error shown under that row.

The run dialog posts ``{"parameters": {"name": "text" | {"Filename", "ContentBase64"}}, "mode": "sync" |
"async"}``; ``run_request`` reads it (None: the dialog's JSON payload mode, for functions without parameters).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

from lambdahost.core.errors import InvalidParameterValue, InvalidRequestContent
from lambdahost.core.parameters import Parameter, ParameterType, parse_declaration, parse_declarations
from lambdahost.web.forms import Form

BLANK_ROWS = 3
TYPES = [kind.value for kind in ParameterType]
_ROW_RE = re.compile(r"^param_name_(\d{1,3})$")


def default_text(parameter: Parameter) -> str:
    """A default as the form shows it: text as it is, anything else as JSON."""
    if not parameter.has_default:
        return ""
    if isinstance(parameter.default, str):
        return parameter.default
    return json.dumps(parameter.default)


def _indices(form: Form) -> list[int]:
    return sorted(int(match.group(1)) for key in form.fields if (match := _ROW_RE.match(key)))


def parameter_rows(
    declared: tuple[Parameter, ...], form: Form | None, errors: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The table's rows: what was posted (each with its error from ``declaration_from``), else the declaration;
    then blank rows."""
    errors = errors or {}
    rows: list[dict[str, Any]]
    if form is not None:
        rows = [
            {
                "name": form.get(f"param_name_{i}"),
                "type": form.get(f"param_type_{i}", "string"),
                "default": form.get(f"param_default_{i}"),
                "description": form.get(f"param_description_{i}"),
                "required": bool(form.get(f"param_required_{i}")),
                "error": errors.get(row_error_key(i), ""),
            }
            for i in _indices(form)
        ]
        rows = [row for row in rows if row["name"].strip()]
    else:
        rows = [
            {
                "name": p.name,
                "type": p.type.value,
                "default": default_text(p),
                "description": p.description,
                "required": p.required,
                "error": "",
            }
            for p in declared
        ]
    blank = {"name": "", "type": "string", "default": "", "description": "", "required": False, "error": ""}
    return rows + [dict(blank) for _ in range(BLANK_ROWS)]


def row_error_key(index: int) -> str:
    """The form error key of row ``index`` (the template shows it under that row)."""
    return f"param_{index}"


def declaration_from(form: Form, errors: dict[str, str]) -> list[dict[str, Any]]:
    """The declaration the table describes (the API's list). Each row is checked on its own and its problem goes to
    ``errors[row_error_key(i)]`` (a name declared twice: on the later row); what concerns the whole table (too many
    parameters) to ``errors["parameters"]``."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i in _indices(form):
        name = form.get(f"param_name_{i}").strip()
        if not name:
            continue
        item: dict[str, Any] = {
            "Name": name,
            "Type": form.get(f"param_type_{i}", "string"),
            "Description": form.get(f"param_description_{i}").strip(),
            "Required": bool(form.get(f"param_required_{i}")),
        }
        default = form.get(f"param_default_{i}")
        if default != "":
            item["Default"] = default
        items.append(item)
        try:
            parse_declaration(item)
        except InvalidParameterValue as exc:
            errors[row_error_key(i)] = exc.message
            continue
        if name in seen:
            errors[row_error_key(i)] = f"Parameter {name!r} is declared more than once."
        seen.add(name)
    if not any(key.startswith("param_") for key in errors):
        try:
            parse_declarations(items)
        except InvalidParameterValue as exc:
            errors["parameters"] = exc.message
    return items


async def run_request(request: Request) -> tuple[dict[str, Any], str] | None:
    """The run dialog's parameter values and mode, or None when it sent a JSON payload instead."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None
    if not isinstance(body, dict) or "parameters" not in body:
        return None
    values, mode = body["parameters"], body.get("mode", "sync")
    if not isinstance(values, dict) or mode not in ("sync", "async"):
        raise InvalidRequestContent('Send {"parameters": {"name": value, ...}, "mode": "sync" | "async"}.')
    return values, mode
