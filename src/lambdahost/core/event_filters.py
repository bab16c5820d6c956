"""Event filtering of event source mappings: EventBridge event patterns, as Lambda applies them to records.

A mapping's ``FilterCriteria`` holds up to 5 patterns (JSON text each); a record is processed when any pattern
matches it, and (for queues) deleted without invoking the function when none does. A pattern is a JSON object whose
keys name fields of the record; a nested object descends into the field, an array lists the conditions of a leaf,
any of which may match:

- a string, number, ``true``/``false`` or ``null``: equality (numbers compare as numbers, ``5`` matches ``5.0``);
- ``{"prefix": "s"}``, ``{"suffix": "s"}`` (either may hold ``{"equals-ignore-case": "s"}``),
  ``{"equals-ignore-case": "s"}``, ``{"wildcard": "*.png"}`` (``*`` any run of characters, ``\\*`` a star);
- ``{"anything-but": value | [values] | {"prefix": ..} | {"suffix": ..} | {"equals-ignore-case": ..} |
  {"wildcard": ..}}``;
- ``{"numeric": [">", 0, "<=", 5]}`` (one or two comparisons; ``=`` too);
- ``{"exists": true|false}``: the field is present as a leaf, or absent;
- ``{"cidr": "10.0.0.0/24"}``: an IP address within the block.

``{"$or": [pattern, ...]}`` at any level matches when any of its patterns does (together with the level's other
keys). A field whose value is an array matches a condition when any element does. For a queue record, the pattern's
``body`` key matches the body parsed as JSON when it is JSON, the body string otherwise (``record_view``).

``parse_pattern`` checks a pattern and raises ``InvalidParameterValue`` ("Invalid filter pattern definition.", as
Lambda says, with the reason); ``matches`` is pure and never raises on any record.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdahost.core.errors import InvalidParameterValue

MAX_FILTERS = 5
MAX_PATTERN_LENGTH = 4096
_NUMERIC_OPERATORS = ("<", "<=", "=", ">", ">=")
_MISSING = object()


def invalid(reason: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid filter pattern definition. {reason}")


@dataclass(frozen=True)
class Pattern:
    """A checked pattern: the parsed JSON object and its text."""

    text: str
    tree: Mapping[str, Any]

    def matches(self, record: Mapping[str, Any]) -> bool:
        return _matches_object(self.tree, record)


def parse_pattern(text: str) -> Pattern:
    if not isinstance(text, str):
        raise invalid("A pattern is a string holding a JSON object.")
    if len(text) > MAX_PATTERN_LENGTH:
        raise invalid(f"A pattern must be at most {MAX_PATTERN_LENGTH} characters long.")
    try:
        tree = json.loads(text)
    except ValueError as exc:
        raise invalid(f"The pattern is not valid JSON: {exc}.") from None
    if not isinstance(tree, dict):
        raise invalid("A pattern must be a JSON object.")
    _check_object(tree, "")
    return Pattern(text, tree)


def parse_filter_criteria(criteria: Any) -> tuple[str, ...]:
    """The patterns of a ``FilterCriteria`` request member (``{"Filters": [{"Pattern": "..."}]}``), checked;
    ``()`` for none (``{}`` or ``{"Filters": []}``)."""
    if criteria is None:
        return ()
    if not isinstance(criteria, dict):
        raise InvalidParameterValue('FilterCriteria must be an object: {"Filters": [{"Pattern": "..."}]}.')
    filters = criteria.get("Filters") or []
    if not isinstance(filters, list):
        raise InvalidParameterValue('FilterCriteria.Filters must be a list of {"Pattern": "..."} objects.')
    if len(filters) > MAX_FILTERS:
        raise InvalidParameterValue(
            f"The maximum number of filters per event source mapping is {MAX_FILTERS}, not {len(filters)}."
        )
    patterns = []
    for item in filters:
        if not isinstance(item, dict) or "Pattern" not in item:
            raise InvalidParameterValue("Each entry of FilterCriteria.Filters must be an object with a Pattern.")
        patterns.append(parse_pattern(item["Pattern"]).text)
    return tuple(patterns)


def compile_patterns(texts: Sequence[str]) -> tuple[Pattern, ...]:
    return tuple(parse_pattern(text) for text in texts)


def any_matches(patterns: Sequence[Pattern], record: Mapping[str, Any]) -> bool:
    """Whether a record passes a mapping's filters: no filters pass everything."""
    return not patterns or any(pattern.matches(record) for pattern in patterns)


def record_view(record: Mapping[str, Any], body_key: str = "body") -> dict[str, Any]:
    """What a queue record's patterns see: the record with its body parsed when the body is JSON."""
    view = dict(record)
    body = record.get(body_key)
    if isinstance(body, str):
        try:
            view[body_key] = json.loads(body)
        except ValueError:
            pass
    return view


# -- checking ------------------------------------------------------------------------------------------------------
def _check_object(tree: Mapping[str, Any], path: str) -> None:
    if not tree:
        return
    for key, value in tree.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) and v for v in value):
                raise invalid(f"{where} must be a list of at least two non-empty pattern objects.")
            for option in value:
                _check_object(option, path)
        elif isinstance(value, dict):
            _check_object(value, where)
        elif isinstance(value, list):
            if not value:
                raise invalid(f"{where} must list at least one value or condition.")
            for condition in value:
                _check_condition(condition, where)
        else:
            raise invalid(f"{where}: the values to match must be in an array, e.g. [{json.dumps(value)}].")


def _text_or_ignore_case(value: Any, where: str, name: str) -> None:
    if isinstance(value, dict):
        if list(value) != ["equals-ignore-case"] or not isinstance(value["equals-ignore-case"], str):
            raise invalid(f'{where}: {name} takes a string or {{"equals-ignore-case": "..."}}.')
    elif not isinstance(value, str):
        raise invalid(f"{where}: {name} takes a string.")


def _check_condition(condition: Any, where: str) -> None:
    if condition is None or isinstance(condition, (str, int, float, bool)):
        return
    if not isinstance(condition, dict) or len(condition) != 1:
        raise invalid(f"{where}: a condition is a value or an object with one operator.")
    ((operator, operand),) = condition.items()
    if operator in ("prefix", "suffix"):
        _text_or_ignore_case(operand, where, operator)
    elif operator in ("equals-ignore-case", "wildcard"):
        if not isinstance(operand, str):
            raise invalid(f"{where}: {operator} takes a string.")
    elif operator == "exists":
        if not isinstance(operand, bool):
            raise invalid(f"{where}: exists takes true or false.")
    elif operator == "numeric":
        _check_numeric(operand, where)
    elif operator == "cidr":
        try:
            ipaddress.ip_network(operand, strict=False)
        except (TypeError, ValueError):
            raise invalid(f'{where}: cidr takes an IP address block such as "10.0.0.0/24".') from None
    elif operator == "anything-but":
        if isinstance(operand, dict):
            if len(operand) != 1 or next(iter(operand)) not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
                raise invalid(
                    f"{where}: anything-but takes a value, a list, or one of prefix, suffix, "
                    "equals-ignore-case, wildcard."
                )
            ((inner, value),) = operand.items()
            values = value if isinstance(value, list) and inner in ("equals-ignore-case", "wildcard") else [value]
            if not values or not all(isinstance(v, str) for v in values):
                raise invalid(f"{where}: anything-but's {inner} takes a string.")
        elif isinstance(operand, list):
            if not operand or not all(v is None or isinstance(v, (str, int, float)) for v in operand):
                raise invalid(f"{where}: anything-but's list holds strings or numbers.")
        elif not (operand is None or isinstance(operand, (str, int, float))):
            raise invalid(f"{where}: anything-but takes a value, a list, or an object.")
    else:
        raise invalid(f"{where}: unknown operator {operator!r}.")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_numeric(operand: Any, where: str) -> None:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise invalid(f'{where}: numeric takes one or two comparisons, e.g. [">", 0, "<=", 5].')
    for n in range(0, len(operand), 2):
        if operand[n] not in _NUMERIC_OPERATORS or not _is_number(operand[n + 1]):
            raise invalid(f"{where}: numeric comparisons are one of {', '.join(_NUMERIC_OPERATORS)} and a number.")
    if len(operand) == 4 and ("=" in (operand[0], operand[2])):
        raise invalid(f'{where}: numeric "=" cannot be combined with another comparison.')


# -- matching ------------------------------------------------------------------------------------------------------
def _matches_object(tree: Mapping[str, Any], value: Any) -> bool:
    for key, wanted in tree.items():
        if key == "$or":
            if not any(_matches_object(option, value) for option in wanted):
                return False
            continue
        field = value.get(key, _MISSING) if isinstance(value, Mapping) else _MISSING
        if isinstance(wanted, dict):
            if isinstance(field, list):
                if not any(isinstance(item, Mapping) and _matches_object(wanted, item) for item in field):
                    return False
            elif not isinstance(field, Mapping) or not _matches_object(wanted, field):
                return False
        elif not any(_matches_leaf(condition, field) for condition in wanted):
            return False
    return True


def _leaves(field: Any) -> list[Any]:
    """The leaf values a condition is tried on: an array's elements, else the value itself."""
    if isinstance(field, list):
        return [item for item in field if not isinstance(item, (dict, list))]
    return [] if isinstance(field, dict) else [field]


def _matches_leaf(condition: Any, field: Any) -> bool:
    if isinstance(condition, dict):
        ((operator, operand),) = condition.items()
        if operator == "exists":
            present = field is not _MISSING and bool(_leaves(field))
            return present is operand
        if field is _MISSING:
            return False
        if operator == "anything-but":
            leaves = _leaves(field)
            return bool(leaves) and all(not _equal_to_any(operand, leaf) for leaf in leaves)
        return any(_operator_matches(operator, operand, leaf) for leaf in _leaves(field))
    if field is _MISSING:
        return False
    return any(_equal(condition, leaf) for leaf in _leaves(field))


def _equal(wanted: Any, value: Any) -> bool:
    if wanted is None or isinstance(wanted, bool) or value is None or isinstance(value, bool):
        return wanted is value
    if _is_number(wanted):
        return _is_number(value) and float(wanted) == float(value)
    return isinstance(value, str) and wanted == value


def _equal_to_any(operand: Any, leaf: Any) -> bool:
    """Whether ``leaf`` is what an ``anything-but`` operand excludes."""
    if isinstance(operand, dict):
        ((operator, value),) = operand.items()
        values = value if isinstance(value, list) else [value]
        return any(_operator_matches(operator, v, leaf) for v in values)
    if isinstance(operand, list):
        return any(_equal(v, leaf) for v in operand)
    return _equal(operand, leaf)


def _operator_matches(operator: str, operand: Any, leaf: Any) -> bool:
    if operator == "numeric":
        return _is_number(leaf) and _numeric(operand, float(leaf))
    if operator == "cidr":
        try:
            return isinstance(leaf, str) and ipaddress.ip_address(leaf) in ipaddress.ip_network(operand, strict=False)
        except ValueError:
            return False
    if not isinstance(leaf, str):
        return False
    if operator in ("prefix", "suffix"):
        ignore_case = isinstance(operand, dict)
        text = operand["equals-ignore-case"] if ignore_case else operand
        subject, text = (leaf.casefold(), text.casefold()) if ignore_case else (leaf, text)
        return subject.startswith(text) if operator == "prefix" else subject.endswith(text)
    if operator == "equals-ignore-case":
        return bool(leaf.casefold() == operand.casefold())
    if operator == "wildcard":
        return _wildcard(operand).fullmatch(leaf) is not None
    return False


def _numeric(operand: Sequence[Any], value: float) -> bool:
    for n in range(0, len(operand), 2):
        bound = float(operand[n + 1])
        ok = {
            "<": value < bound,
            "<=": value <= bound,
            "=": value == bound,
            ">": value > bound,
            ">=": value >= bound,
        }[operand[n]]
        if not ok:
            return False
    return True


@functools.lru_cache(maxsize=256)
def _wildcard(text: str) -> re.Pattern[str]:
    parts = re.split(r"(\\\*|\*)", text)
    return re.compile("".join(".*" if p == "*" else re.escape("*" if p == "\\*" else p) for p in parts), re.DOTALL)
