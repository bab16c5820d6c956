"""Terminal output: tables, times, sizes, JSON, and the one way the CLI reports an error."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

import click

USAGE_EXIT = 2  # usage and API errors (click uses 2 for usage errors too)
FUNCTION_ERROR_EXIT = 1


class CliError(click.ClickException):
    """An error the CLI reports as ``error: <message>`` on stderr, exit status 2."""

    exit_code = USAGE_EXIT

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned table (numbers right-aligned), two spaces between columns."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(headers)), *(line(row) for row in cells)])


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def local_time(epoch: float | None) -> str:
    """``2024-11-23 08:00:00.123`` in the local time zone."""
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) + f".{int((epoch % 1) * 1000):03d}"


def aws_time(value: str) -> str:
    """AWS's ``2020-04-10T19:06:32.563+0000`` in the local time zone, to the second."""
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return value
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def size(count: int | None) -> str:
    if count is None:
        return "-"
    amount = float(count)
    for unit in ("B", "KB", "MB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"


def millis(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def pretty_json(data: bytes | str) -> str:
    """Indented JSON when ``data`` parses as JSON, otherwise the text as is."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())
