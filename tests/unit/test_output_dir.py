"""``OutputDir``: an environment's output directory is listed only when its modification time is no longer the mark
the last look left, so an invocation that wrote nothing costs one ``stat``, and one that wrote a file is collected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambdahost.runtime import outputs
from lambdahost.runtime.outputs import MARK_NS, OutputDir


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


def test_the_first_look_lists_and_marks_then_an_unchanged_directory_is_not_listed(
    tmp_path: Path, listings: list[str]
) -> None:
    found = OutputDir(str(tmp_path))
    assert found.collect() is None
    assert listings == [str(tmp_path)] and os.stat(tmp_path).st_mtime_ns == MARK_NS
    assert [found.collect() for _ in range(3)] == [None, None, None]
    assert listings == [str(tmp_path)]


def test_a_written_file_moves_the_time_off_the_mark_and_is_collected(tmp_path: Path) -> None:
    found = OutputDir(str(tmp_path))
    assert found.collect() is None
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "report.html").write_text("<h1>ok</h1>")
    collected = found.collect()
    assert collected is not None
    assert [(f.name, f.content) for f in collected.files] == [("nested/report.html", b"<h1>ok</h1>")]
    assert list(tmp_path.iterdir()) == []  # emptied for the next invocation
    assert os.stat(tmp_path).st_mtime_ns == MARK_NS and found.collect() is None


def test_a_removed_directory_is_made_again(tmp_path: Path) -> None:
    directory = tmp_path / "output"
    directory.mkdir()
    found = OutputDir(str(directory))
    assert found.collect() is None
    directory.rmdir()
    assert found.collect() is None
    assert directory.is_dir()
    (directory / "late.txt").write_text("x")
    collected = found.collect()
    assert collected is not None and [f.name for f in collected.files] == ["late.txt"]
