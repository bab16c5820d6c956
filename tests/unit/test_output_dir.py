"""``OutputDir``: an environment's output directory is listed only when its modification time may hide a change, and
a file written in the same clock tick as the directory's last change is never missed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambdahost.runtime import outputs
from lambdahost.runtime.outputs import MTIME_GRANULARITY_NS, OutputDir


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every directory ``outputs`` lists, in order."""
    seen: list[str] = []
    real = os.scandir

    def counting(path: str) -> object:
        seen.append(str(path))
        return real(path)

    monkeypatch.setattr(outputs.os, "scandir", counting)
    return seen


def settled(directory: Path) -> OutputDir:
    """An ``OutputDir`` whose last look came long after the directory's last change."""
    found = OutputDir(str(directory))
    old = os.stat(directory).st_mtime_ns - 10 * MTIME_GRANULARITY_NS
    os.utime(directory, ns=(old, old))
    assert found.collect() is None
    return found


def test_an_unchanged_directory_is_not_listed_once_settled(tmp_path: Path, listings: list[str]) -> None:
    found = settled(tmp_path)
    listings.clear()
    assert [found.collect() for _ in range(3)] == [None, None, None]
    assert listings == []


def test_a_written_file_changes_the_time_and_is_collected(tmp_path: Path, listings: list[str]) -> None:
    found = settled(tmp_path)
    (tmp_path / "report.html").write_text("<h1>ok</h1>")
    collected = found.collect()
    assert collected is not None and [(f.name, f.content) for f in collected.files] == [("report.html", b"<h1>ok</h1>")]
    assert list(tmp_path.iterdir()) == []  # emptied for the next invocation


def test_a_change_within_the_same_tick_is_never_trusted(tmp_path: Path) -> None:
    found = OutputDir(str(tmp_path))
    assert found.collect() is None  # looked at right after the directory changed (made): not settled
    unchanged = os.stat(tmp_path).st_mtime_ns
    (tmp_path / "late.txt").write_text("x")
    os.utime(tmp_path, ns=(unchanged, unchanged))  # as if the kernel's coarse clock had not moved
    collected = found.collect()
    assert collected is not None and [f.name for f in collected.files] == ["late.txt"]


def test_a_removed_directory_is_made_again(tmp_path: Path) -> None:
    directory = tmp_path / "output"
    directory.mkdir()
    found = settled(directory)
    directory.rmdir()
    assert found.collect() is None
    assert directory.is_dir()
