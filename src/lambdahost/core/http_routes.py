"""HTTP routes: ``METHOD /path`` mapped to a function, parsed, validated and matched the way API Gateway does.

Pure. A route's path is segments: literals (``reports``), parameters (``{id}``: one segment) and, last only, a
greedy parameter (``{proxy+}``: one or more segments). ``ANY`` matches every method.

Matching (``RouteTable.match``) follows API Gateway's precedence:

- The most specific path wins, compared segment by segment from the left: a literal beats a parameter beats a
  greedy parameter. So an exact path beats one with parameters, which beats ``{proxy+}``, and of two greedy
  routes the one with the longer literal prefix (``/files/{proxy+}`` over ``/{proxy+}``) wins.
- On that path, a route for the request's method beats ``ANY``. When the most specific path has neither, the next
  less specific path is tried (so ``GET /{proxy+}`` still answers ``GET /items/1`` next to ``POST /items/{id}``).
- Path parameters are percent-decoded (``%20`` is a space, ``+`` stays ``+``); a greedy one is the rest of the
  path, each segment decoded, joined with ``/``. A literal compares with the decoded segment.

Validation (``parse_route``): a method of ``GET POST PUT PATCH DELETE HEAD OPTIONS ANY``; a path that starts with
``/``, has no empty segment, no ``?``/``#``, parameter names of letters, digits and ``_`` (each used once), a
greedy parameter only as the last segment; payload format ``1.0`` or ``2.0``. Two routes conflict when they have
the same method and the same path up to parameter names (``/a/{id}`` and ``/a/{name}``): ``RouteTable`` refuses
the second with ``ResourceConflict``. Paths under ``/lambda-url/`` are the function URLs' and refused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from lambdahost.core.errors import InvalidParameterValue, ResourceConflict
from lambdahost.core.model import LATEST

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
PAYLOAD_FORMATS = ("1.0", "2.0")
FUNCTION_URL_PREFIX = "/lambda-url/"
MAX_PATH_LENGTH = 1024

_PARAM_RE = re.compile(r"^\{([A-Za-z0-9_]+)(\+?)\}$")
_LITERAL_RE = re.compile(r"^[^{}?#\s]+$")

# Segment kinds, in order of specificity.
GREEDY, PARAM, LITERAL = 0, 1, 2


@dataclass(frozen=True)
class HttpRoute:
    """A route: ``method`` (or ``ANY``) and ``path`` (``/reports/{id}``, ``/files/{proxy+}``) invoking
    ``function_name``:``qualifier`` with API Gateway's REST (``"1.0"``) or HTTP API (``"2.0"``) event."""

    id: str
    method: str
    path: str
    function_name: str
    created_at: float
    qualifier: str = LATEST
    payload_format: str = "2.0"

    @property
    def route_key(self) -> str:
        """HTTP API's route key: ``GET /items/{id}``."""
        return f"{self.method} {self.path}"

    def replace(self, **changes: Any) -> HttpRoute:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Segment:
    kind: int
    text: str  # the literal, or the parameter's name


@dataclass(frozen=True)
class PathPattern:
    """A parsed route path."""

    path: str
    segments: tuple[Segment, ...]

    @property
    def shape(self) -> tuple[tuple[int, str], ...]:
        """The path up to parameter names: two routes with one method and one shape conflict."""
        return tuple((s.kind, s.text if s.kind == LITERAL else "") for s in self.segments)

    @property
    def shape_text(self) -> str:
        """``shape`` as text (``/a/{}/{+}``), which the store keeps unique per method."""
        marks = {PARAM: "{}", GREEDY: "{+}"}
        return "/" + "/".join(marks.get(s.kind, s.text) for s in self.segments)

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(s.kind for s in self.segments)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The decoded path parameters when the request's raw segments ``parts`` match, else None."""
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == GREEDY:
                rest = parts[index:]
                if not rest or rest == [""]:
                    return None
                params[segment.text] = "/".join(unquote(p) for p in rest)
                return params
            if index >= len(parts):
                return None
            value = unquote(parts[index])
            if segment.kind == LITERAL:
                if value != segment.text:
                    return None
            elif not value:
                return None
            else:
                params[segment.text] = value
        return params if len(parts) == len(self.segments) else None


def _invalid(path: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid route path '{path}': {why}.")


def parse_path(path: str) -> PathPattern:
    """A route path, validated (see the module's rules)."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise _invalid(str(path), "it must start with '/'")
    if len(path) > MAX_PATH_LENGTH:
        raise _invalid(path[:40] + "...", f"it is longer than {MAX_PATH_LENGTH} characters")
    if path == "/":
        return PathPattern(path, ())
    if path.startswith(FUNCTION_URL_PREFIX) or path == FUNCTION_URL_PREFIX.rstrip("/"):
        raise _invalid(path, f"paths under {FUNCTION_URL_PREFIX} belong to function URLs")
    raw = path[1:].split("/")
    segments: list[Segment] = []
    names: set[str] = set()
    for index, text in enumerate(raw):
        if not text:
            raise _invalid(path, "it has an empty segment ('//' or a trailing '/')")
        param = _PARAM_RE.match(text)
        if param is None:
            if not _LITERAL_RE.match(text):
                raise _invalid(
                    path,
                    f"segment '{text}' is neither a literal (no braces, '?', '#' or spaces) nor a parameter "
                    "like {id} or {proxy+} (letters, digits and '_')",
                )
            segments.append(Segment(LITERAL, unquote(text)))
            continue
        name, greedy = param.group(1), bool(param.group(2))
        if name in names:
            raise _invalid(path, f"parameter '{name}' is used twice")
        names.add(name)
        if greedy and index != len(raw) - 1:
            raise _invalid(path, f"a greedy parameter ({{{name}+}}) must be the last segment")
        segments.append(Segment(GREEDY if greedy else PARAM, name))
    return PathPattern(path, tuple(segments))


def parse_method(method: object) -> str:
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise InvalidParameterValue(f"Invalid route method '{method}': it must be one of {', '.join(METHODS)}.")
    return method.upper()


def parse_payload_format(value: object) -> str:
    if value not in PAYLOAD_FORMATS:
        raise InvalidParameterValue(
            f"Invalid PayloadFormatVersion '{value}': it must be 1.0 (API Gateway REST API proxy event) or 2.0 "
            "(HTTP API event)."
        )
    return str(value)


def parse_route_key(key: str) -> tuple[str, str]:
    """``"GET /items/{id}"`` as ``(method, path)``, both validated."""
    method, _, path = key.strip().partition(" ")
    if not path:
        raise InvalidParameterValue(f"Invalid route key '{key}': expected 'METHOD /path', e.g. 'GET /items/{{id}}'.")
    method = parse_method(method)
    parse_path(path.strip())
    return method, path.strip()


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: Mapping[str, str]
    resource: str  # the route's path: REST's ``resource``


class RouteTable:
    """Routes ready for matching. ``add`` refuses a conflicting route; ``RouteTable(routes)`` assumes the routes
    were checked when stored (a conflict found there keeps the first)."""

    def __init__(self, routes: Iterable[HttpRoute] = ()) -> None:
        self._entries: list[tuple[PathPattern, HttpRoute]] = []
        self._keys: dict[tuple[str, tuple[tuple[int, str], ...]], HttpRoute] = {}
        for route in routes:
            try:
                self.add(route)
            except (ResourceConflict, InvalidParameterValue):
                continue

    def __len__(self) -> int:
        return len(self._entries)

    def conflict(self, method: str, pattern: PathPattern) -> HttpRoute | None:
        """The stored route that a new one with ``method`` and ``pattern`` would conflict with."""
        return self._keys.get((method, pattern.shape))

    def add(self, route: HttpRoute) -> None:
        pattern = parse_path(route.path)
        existing = self.conflict(route.method, pattern)
        if existing is not None:
            raise ResourceConflict(
                f"Route {route.route_key} conflicts with route {existing.route_key} (id {existing.id}): same method "
                "and the same path up to parameter names."
            )
        self._keys[route.method, pattern.shape] = route
        self._entries.append((pattern, route))
        # most specific first; of equally specific paths, the specific method before ANY
        self._entries.sort(key=lambda e: (e[0].specificity, e[1].method != "ANY"), reverse=True)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """The route that answers ``method raw_path`` (the path as sent, percent-encoded), or None."""
        parts = raw_path[1:].split("/") if raw_path not in ("", "/") else []
        method = method.upper()
        for pattern, route in self._entries:
            if route.method not in (method, "ANY"):
                continue
            params = pattern.match(parts)
            if params is not None:
                return RouteMatch(route, params, route.path)
        return None
