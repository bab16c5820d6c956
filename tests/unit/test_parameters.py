"""Parameter declarations, value checks, event building and secret references (core/parameters.py)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.parameters import (
    FileUpload,
    Parameter,
    ParameterType,
    build_event,
    from_json,
    parse_assignment,
    parse_declarations,
    resolve_event,
    to_json,
)
from lambdahost.storage.memory import InMemoryStore


def declared(*items: dict[str, Any]) -> tuple[Parameter, ...]:
    return parse_declarations(list(items))


REPORT = declared(
    {"Name": "threshold", "Type": "number", "Default": 10},
    {"Name": "verbose", "Type": "boolean", "Default": False},
    {"Name": "label", "Type": "string", "Required": True},
    {"Name": "options", "Type": "json", "Default": {"a": [1, 2]}},
    {"Name": "token", "Type": "secret", "Default": "{{secret.api-token}}"},
    {"Name": "note", "Type": "string"},
)


def test_declaration_round_trips_through_json() -> None:
    again = from_json(to_json(REPORT))
    assert again == REPORT
    assert again[0] == Parameter("threshold", ParameterType.NUMBER, 10, True, "", False)
    assert again[5].has_default is False


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"Name": "1abc"}], "Invalid parameter name '1abc'"),
        ([{"Name": "a-b"}], "Invalid parameter name 'a-b'"),
        ([{"Name": "x"}, {"Name": "x"}], "Parameter 'x' is declared more than once"),
        ([{"Name": "x", "Type": "integer"}], "Parameter 'x' (integer): unknown type"),
        ([{"Name": "n", "Type": "number", "Default": "ten"}], "Parameter 'n' (number): 'ten' is not a number"),
        ([{"Name": "b", "Type": "boolean", "Default": "yes"}], "Parameter 'b' (boolean): 'yes' is not true or false"),
        ([{"Name": "j", "Type": "json", "Default": "{oops"}], "Parameter 'j' (json): not valid JSON text"),
        ([{"Name": "s", "Default": "{{secret.bad name}}"}], "Parameter 's' (string): Invalid secret reference"),
        ([{"Name": "s", "Default": "{{secrets.token}}"}], "Parameter 's' (string)"),
        ([{"Name": "n", "Type": "number", "Default": "{{secret.x}}"}], "Parameter 'n' (number)"),
        ([{"Name": "f", "Type": "file", "Default": "x"}], "Parameter 'f' (file): a file parameter has no default"),
        ([{"Name": "x", "Required": "yes"}], "Parameter 'x' (string): Required must be true or false"),
        ([{"Name": "x", "Colour": "red"}], "Unknown member(s) of a parameter: Colour"),
        (
            [{"Name": "t", "Type": "secret", "Default": "hunter2"}],
            "Parameter 't' (secret): a secret parameter's default",
        ),
        ({"Name": "x"}, "Parameters must be a list"),
    ],
)
def test_bad_declarations_are_refused_naming_the_parameter(items: Any, message: str) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        parse_declarations(items)
    assert message in caught.value.message


def test_defaults_of_text_are_converted_to_their_type() -> None:
    params = declared(
        {"Name": "n", "Type": "number", "Default": "2.5"},
        {"Name": "i", "Type": "number", "Default": "7"},
        {"Name": "b", "Type": "boolean", "Default": "TRUE"},
        {"Name": "j", "Type": "json", "Default": '{"k": [1]}'},
    )
    assert [p.default for p in params] == [2.5, 7, True, {"k": [1]}]


def test_event_from_defaults_and_overrides() -> None:
    event = build_event(REPORT, {"label": "nightly", "threshold": "12.5", "verbose": "true", "options": "[3]"})
    assert event == {
        "threshold": 12.5,
        "verbose": True,
        "label": "nightly",
        "options": [3],
        "token": "{{secret.api-token}}",
    }  # "note" has no default and was not given: left out


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "Parameter 'label' (string): required"),
        ({"label": "x", "threshold": "abc"}, "Parameter 'threshold' (number): 'abc' is not a number"),
        ({"label": "x", "threshold": True}, "Parameter 'threshold' (number): true is not a number"),
        ({"label": "x", "threshold": "nan"}, "Parameter 'threshold' (number): 'nan' is not a finite number"),
        ({"label": "x", "verbose": "1"}, "Parameter 'verbose' (boolean): '1' is not true or false"),
        ({"label": "x", "options": "{"}, "Parameter 'options' (json): not valid JSON text"),
        ({"label": 5}, "Parameter 'label' (string): 5 is not a string"),
        ({"label": "x", "colour": "red"}, "Unknown parameter(s): 'colour'"),
        ({"label": "{{secret.}}"}, "Parameter 'label' (string): Invalid secret reference"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(given: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        build_event(REPORT, given)
    assert message in caught.value.message


def test_a_function_without_parameters_takes_an_empty_event() -> None:
    assert build_event((), {}) == {}
    with pytest.raises(InvalidParameterValue, match="the function declares: none"):
        build_event((), {"x": 1})


def test_secret_references_are_resolved_and_their_values_masked() -> None:
    calls: list[str] = []

    def resolve(text: str) -> tuple[str, tuple[str, ...]]:
        calls.append(text)
        return text.replace("{{secret.api-token}}", "s3cr3t").replace("{{secret.pw}}", "hunter2"), (
            ("s3cr3t",) if "api-token" in text else ("hunter2",)
        )

    params = declared(*[{"Name": p.name, "Type": p.type.value} for p in REPORT[:3]], {"Name": "cfg", "Type": "json"})
    params = (*params, REPORT[4])
    event = build_event(params, {"label": "user:{{secret.pw}}", "cfg": {"dsn": "{{secret.pw}}", "n": 1}})
    resolved, values = resolve_event(params, event, resolve)
    assert resolved == {"label": "user:hunter2", "cfg": {"dsn": "hunter2", "n": 1}, "token": "s3cr3t"}
    assert "hunter2" in values and "s3cr3t" in values
    assert calls.count("{{secret.api-token}}") == 1  # plain strings are not sent to the resolver
    assert "1" not in values


def test_a_literal_secret_value_is_masked_too() -> None:
    params = declared({"Name": "token", "Type": "secret"})
    resolved, values = resolve_event(params, build_event(params, {"token": "plain-value"}), lambda t: (t, ()))
    assert resolved == {"token": "plain-value"}
    assert values == ("plain-value",)


def test_file_values() -> None:
    params = declared({"Name": "jtl", "Type": "file", "Required": True})
    data = b"timeStamp,elapsed\n1,2\n"
    event = build_event(params, {"jtl": {"Filename": "run.jtl", "ContentBase64": base64.b64encode(data).decode()}})
    assert event == {"jtl": FileUpload("run.jtl", data)}
    with pytest.raises(InvalidParameterValue, match="Parameter 'jtl' \\(file\\): ContentBase64 is not valid base64"):
        build_event(params, {"jtl": {"Filename": "a", "ContentBase64": "***"}})
    with pytest.raises(InvalidParameterValue, match="Parameter 'jtl' \\(file\\): Invalid file name"):
        build_event(params, {"jtl": {"Filename": "../a", "ContentBase64": ""}})
    with pytest.raises(InvalidParameterValue, match="Parameter 'jtl' \\(file\\): a file is given as"):
        build_event(params, {"jtl": "/etc/passwd"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("threshold:number=10", Parameter("threshold", ParameterType.NUMBER, 10, True)),
        ("label", Parameter("label", ParameterType.STRING)),
        ("label=a=b", Parameter("label", ParameterType.STRING, "a=b", True)),
        ("token:secret!", Parameter("token", ParameterType.SECRET, required=True)),
        ("cfg:json={}", Parameter("cfg", ParameterType.JSON, {}, True)),
    ],
)
def test_cli_assignments(text: str, expected: Parameter) -> None:
    assert parse_assignment(text) == expected


def test_the_memory_store_keeps_a_declaration_like_the_sql_stores() -> None:
    store = InMemoryStore()
    assert store.get_function_parameters("report") == ()
    store.put_function_parameters("report", REPORT, 1.0)
    assert store.get_function_parameters("report") == REPORT
    store.put_function_parameters("report", (), 2.0)
    assert store.get_function_parameters("report") == ()
