"""Function parameters: what a function declares it takes, and the event a run builds from them.

A function may declare parameters (``Parameter``: name, type, default, description, required). A run
(``POST /lambdahost/v1/functions/{name}/runs``, ``lambdahost run``) gives values for some of them; ``build_event``
makes the event ``{name: value, ...}`` from the defaults and those values, each checked against its declared type
with an error that names the parameter, before anything runs. Values of the types ``string``, ``json`` and
``secret`` may reference secrets (``{{secret.NAME}}``); the references are kept as text here and replaced only at
run time (``resolve_event``, with the engine's resolver), so a stored declaration or a built event never holds a
secret's value. A ``secret`` parameter's value is masked in the run's outcome even when it was given literally.

Values arrive either typed (the API's JSON) or as text (the CLI's ``--param k=v``); ``coerce`` accepts both:
a number is a JSON number or text that parses as one, a boolean ``true``/``false`` (text: any case), a ``json``
value any JSON value, where text is parsed as JSON. All pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdahost.core.artifacts import check_filename
from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.secrets import references

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_PARAMETERS = 100
MAX_DESCRIPTION = 256
MAX_DEFAULT_BYTES = 65536


class ParameterType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"
    SECRET = "secret"
    FILE = "file"


TYPES = ", ".join(t.value for t in ParameterType)
# the types whose values may reference secrets
REFERENCING = frozenset({ParameterType.STRING, ParameterType.JSON, ParameterType.SECRET})


@dataclass(frozen=True, slots=True)
class FileUpload:
    """A ``file`` parameter's value as a run gives it (``{"Filename", "ContentBase64"}``): the engine stores it as
    an input artifact and puts the readable path in the event."""

    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One declared parameter. ``has_default`` tells a default of ``None`` (a JSON null) from none."""

    name: str
    type: ParameterType = ParameterType.STRING
    default: Any = None
    has_default: bool = False
    description: str = ""
    required: bool = False


def _invalid(name: str, kind: ParameterType | str, detail: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Parameter {name!r} ({kind}): {detail}")


def _check_references(name: str, kind: ParameterType, value: Any) -> None:
    """Every string inside ``value`` has only well-formed references; none at all for number and boolean."""
    for text in _strings(value):
        try:
            found = references(text)
        except InvalidParameterValue as exc:
            raise _invalid(name, kind, exc.message) from None
        if found and kind not in REFERENCING:
            raise _invalid(name, kind, "only string, json and secret values may reference secrets.")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def _number(name: str, raw: Any) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise _invalid(name, ParameterType.NUMBER, f"{_shown(raw)} is not a number.")
    value: int | float
    if isinstance(raw, str):
        text = raw.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise _invalid(name, ParameterType.NUMBER, f"{_shown(raw)} is not a number.") from None
    else:
        value = raw
    if isinstance(value, float) and not math.isfinite(value):
        raise _invalid(name, ParameterType.NUMBER, f"{_shown(raw)} is not a finite number.")
    return value


def _boolean(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise _invalid(name, ParameterType.BOOLEAN, f"{_shown(raw)} is not true or false.")


def _json(name: str, raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise _invalid(name, ParameterType.JSON, f"not valid JSON text: {exc}.") from None
    try:
        json.dumps(raw, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _invalid(name, ParameterType.JSON, f"not a JSON value: {exc}.") from None
    return raw


def _file(name: str, raw: Any) -> FileUpload:
    if isinstance(raw, FileUpload):
        return raw
    if not isinstance(raw, dict) or set(raw) != {"Filename", "ContentBase64"}:
        raise _invalid(name, ParameterType.FILE, 'a file is given as {"Filename": "...", "ContentBase64": "..."}.')
    filename, content = raw["Filename"], raw["ContentBase64"]
    if not isinstance(filename, str) or not isinstance(content, str):
        raise _invalid(name, ParameterType.FILE, "Filename and ContentBase64 must be strings.")
    try:
        check_filename(filename)
        data = base64.b64decode(content, validate=True)
    except binascii.Error:
        raise _invalid(name, ParameterType.FILE, "ContentBase64 is not valid base64.") from None
    except InvalidParameterValue as exc:
        raise _invalid(name, ParameterType.FILE, exc.message) from None
    return FileUpload(filename, data)


def _shown(raw: Any) -> str:
    text = json.dumps(raw) if not isinstance(raw, str) else repr(raw)
    return text if len(text) <= 80 else text[:77] + "..."


def coerce(parameter: Parameter, raw: Any) -> Any:
    """``raw`` (typed or text) as a value of ``parameter``'s type; an error naming the parameter otherwise."""
    name, kind = parameter.name, parameter.type
    value: Any
    if kind is ParameterType.NUMBER:
        value = _number(name, raw)
    elif kind is ParameterType.BOOLEAN:
        value = _boolean(name, raw)
    elif kind is ParameterType.JSON:
        value = _json(name, raw)
    elif kind is ParameterType.FILE:
        return _file(name, raw)
    else:  # string, secret
        if not isinstance(raw, str):
            raise _invalid(name, kind, f"{_shown(raw)} is not a string.")
        value = raw
    _check_references(name, kind, value)
    return value


def parse_declaration(item: object) -> Parameter:
    """One parameter from its wire shape ``{"Name", "Type", "Default"?, "Description"?, "Required"?}``."""
    if not isinstance(item, dict):
        raise InvalidParameterValue("Each parameter must be an object with Name and Type.")
    unknown = sorted(set(item) - {"Name", "Type", "Default", "Description", "Required"})
    if unknown:
        raise InvalidParameterValue(f"Unknown member(s) of a parameter: {', '.join(unknown)}.")
    name = item.get("Name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidParameterValue(
            f"Invalid parameter name {name!r}: 1 to 64 characters from A-Z, a-z, 0-9 and '_', not starting with a"
            " digit."
        )
    kind_text = item.get("Type", ParameterType.STRING.value)
    try:
        kind = ParameterType(kind_text)
    except ValueError:
        raise _invalid(name, str(kind_text), f"unknown type; a type is one of {TYPES}.") from None
    description = item.get("Description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise _invalid(name, kind, f"the Description must be text of at most {MAX_DESCRIPTION} characters.")
    required = item.get("Required", False)
    if not isinstance(required, bool):
        raise _invalid(name, kind, "Required must be true or false.")
    has_default = "Default" in item and item["Default"] is not None
    if has_default and kind is ParameterType.FILE:
        raise _invalid(name, kind, "a file parameter has no default (each run uploads its file).")
    default = coerce(Parameter(name, kind), item["Default"]) if has_default else None
    if kind is ParameterType.SECRET and isinstance(default, str) and not references(default):
        raise _invalid(
            name,
            kind,
            "a secret parameter's default must reference a secret ({{secret.NAME}}): a literal value "
            "would be stored and shown in clear.",
        )
    if has_default and len(json.dumps(default)) > MAX_DEFAULT_BYTES:
        raise _invalid(name, kind, f"the Default must be at most {MAX_DEFAULT_BYTES} bytes as JSON.")
    return Parameter(name, kind, default, has_default, description, required)


def parse_declarations(items: object) -> tuple[Parameter, ...]:
    """A whole declaration (the ``Parameters`` list): each parameter valid, names unique."""
    if not isinstance(items, list):
        raise InvalidParameterValue("Parameters must be a list of parameter objects.")
    if len(items) > MAX_PARAMETERS:
        raise InvalidParameterValue(f"A function declares at most {MAX_PARAMETERS} parameters.")
    declared = tuple(parse_declaration(item) for item in items)
    seen: set[str] = set()
    for parameter in declared:
        if parameter.name in seen:
            raise InvalidParameterValue(f"Parameter {parameter.name!r} is declared more than once.")
        seen.add(parameter.name)
    return declared


def shape(parameter: Parameter) -> dict[str, Any]:
    """The wire (and stored) shape of a parameter."""
    shaped: dict[str, Any] = {"Name": parameter.name, "Type": parameter.type.value}
    if parameter.has_default:
        shaped["Default"] = parameter.default
    shaped["Description"] = parameter.description
    shaped["Required"] = parameter.required
    return shaped


def to_json(declared: Iterable[Parameter]) -> str:
    return json.dumps([shape(parameter) for parameter in declared], separators=(",", ":"))


def from_json(text: str) -> tuple[Parameter, ...]:
    return parse_declarations(json.loads(text))


def parse_assignment(text: str) -> Parameter:
    """The CLI's ``name:type[=default]`` (type optional: ``name[=default]`` is a string; ``!`` after the type
    marks it required: ``name:number!``)."""
    head, sep, default = text.partition("=")
    name, _, kind = head.partition(":")
    kind = kind.strip() or ParameterType.STRING.value
    required = kind.endswith("!")
    item: dict[str, Any] = {"Name": name.strip(), "Type": kind.rstrip("!"), "Required": required}
    if sep:
        item["Default"] = default
    return parse_declaration(item)


def build_event(declared: Iterable[Parameter], given: Mapping[str, Any]) -> dict[str, Any]:
    """The event of a run: every declared parameter's given value (coerced to its type) or its default; required
    ones without either, and names not declared, are errors naming them. References stay as text."""
    declared = tuple(declared)
    known = {parameter.name for parameter in declared}
    unknown = sorted(name for name in given if name not in known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise InvalidParameterValue(
            f"Unknown parameter(s): {', '.join(repr(n) for n in unknown)}; the function declares: {listed}."
        )
    event: dict[str, Any] = {}
    for parameter in declared:
        if parameter.name in given:
            event[parameter.name] = coerce(parameter, given[parameter.name])
        elif parameter.has_default:
            event[parameter.name] = parameter.default
        elif parameter.required:
            raise _invalid(parameter.name, parameter.type, "required, and it has no default: give a value.")
    return event


def resolve_event(
    declared: Iterable[Parameter], event: Mapping[str, Any], resolve_text: Callable[[str], tuple[str, tuple[str, ...]]]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``event`` with every reference replaced through ``resolve_text`` (text -> (resolved text, secret values)),
    and the values to mask: the secrets referenced, and every ``secret`` parameter's whole value."""
    kinds = {parameter.name: parameter.type for parameter in declared}
    values: list[str] = []

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            if not references(value):
                return value
            text, used = resolve_text(value)
            values.extend(used)
            return text
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {walk(key): walk(item) for key, item in value.items()}
        return value

    resolved: dict[str, Any] = {}
    for name, value in event.items():
        resolved[name] = walk(value) if kinds.get(name) in REFERENCING else value
        if kinds.get(name) is ParameterType.SECRET and resolved[name]:
            values.append(resolved[name])
    return resolved, tuple(values)
