"""Artifacts' pure rules: input file names, artifact names in requests, content types and the attachment header,
``--artifact-retention`` durations, and the CLI's refusal to write outside its directory."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from lambdahost.cli.artifacts import parse_retention, target_path
from lambdahost.cli.output import CliError
from lambdahost.core.artifacts import check_artifact_name, check_filename, content_type, disposition
from lambdahost.core.errors import InvalidParameterValue


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "x\0", "é" * 128])
def test_bad_input_file_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidParameterValue):
        check_filename(name)


def test_good_input_file_names_pass() -> None:
    assert check_filename("results 1.jtl") == "results 1.jtl"
    assert check_filename("é" * 127) == "é" * 127


@pytest.mark.parametrize("name", ["", "/etc/passwd", "a/../b", "../x", "a//b", "./a", "a/"])
def test_bad_artifact_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidParameterValue):
        check_artifact_name(name)


def test_content_types_and_the_attachment_header() -> None:
    assert content_type("r/jtl-report.xlsx") == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert content_type("A.CSV") == "text/csv"
    assert content_type("plot.svg") == "image/svg+xml"
    assert content_type("blob.unknownext") == "application/octet-stream"
    assert disposition("plots/p95.svg") == "attachment; filename=\"p95.svg\"; filename*=UTF-8''p95.svg"
    assert disposition('r"é.txt') == "attachment; filename=\"r__.txt\"; filename*=UTF-8''r%22%C3%A9.txt"


@pytest.mark.parametrize(("text", "seconds"), [("3600", 3600.0), ("90m", 5400.0), ("12h", 43200.0), ("7d", 604800.0)])
def test_retention_durations(text: str, seconds: float) -> None:
    assert parse_retention(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-1h", "soon", "5w"])
def test_bad_retention_durations(text: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_retention(text)


def test_downloads_stay_inside_their_directory(tmp_path: Path) -> None:
    assert target_path(tmp_path, "plots/a.svg") == (tmp_path / "plots" / "a.svg").resolve()
    with pytest.raises(CliError):
        target_path(tmp_path, "../escape.txt")
