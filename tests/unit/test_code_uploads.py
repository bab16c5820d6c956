"""A folder's uploaded files back into a folder: paths checked like zip entries, the dropped folder's own name
removed, clashes refused, nothing written outside the target."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdahost.code.limits import ZipLimits
from lambdahost.code.uploads import relative_paths, write_uploaded_folder
from lambdahost.core.errors import InvalidParameterValue


def test_the_dropped_folders_own_name_is_removed() -> None:
    assert relative_paths(["report/app.py", "report/lib/util.py"]) == [("app.py",), ("lib", "util.py")]


def test_loose_files_and_mixed_roots_keep_their_paths() -> None:
    assert relative_paths(["app.py", "lib/util.py"]) == [("app.py",), ("lib", "util.py")]
    assert relative_paths(["a/app.py", "b/util.py"]) == [("a", "app.py"), ("b", "util.py")]
    assert relative_paths(["app.py"]) == [("app.py",)]


def test_backslashes_are_separators() -> None:
    assert relative_paths(["fn\\lib\\util.py", "fn\\app.py"]) == [("lib", "util.py"), ("app.py",)]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["../etc/passwd"], "unsafe path"),
        (["fn/../../x.py"], "unsafe path"),
        (["/abs.py"], "unsafe path"),
        (["C:evil.py"], "unsafe path"),
        (["lib/"], "named like a folder"),
        (["a.py", "./a.py"], "uploaded twice"),
        (["lib", "lib/util.py"], "as a file and used as a folder"),
    ],
)
def test_unsafe_or_clashing_names_are_refused(names: list[str], message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        relative_paths(names)


def test_files_are_written_under_the_folder_only(tmp_path: Path) -> None:
    into = tmp_path / "pkg"
    into.mkdir()
    assert write_uploaded_folder([("fn/app.py", b"A"), ("fn/lib/u.py", b"U")], into) == 2
    assert sorted(str(p.relative_to(into)) for p in into.rglob("*") if p.is_file()) == ["app.py", "lib/u.py"]
    assert (into / "lib" / "u.py").read_bytes() == b"U"
    with pytest.raises(InvalidParameterValue):
        write_uploaded_folder([("../escape.py", b"x")], into)
    assert not (tmp_path / "escape.py").exists()


def test_limits_apply_before_anything_is_written(tmp_path: Path) -> None:
    limits = ZipLimits(max_entries=2, max_unzipped_bytes=10)
    with pytest.raises(InvalidParameterValue, match="at most 2 files"):
        write_uploaded_folder([("a", b""), ("b", b""), ("c", b"")], tmp_path, limits)
    with pytest.raises(InvalidParameterValue, match="Unzipped size must be smaller than 10 bytes"):
        write_uploaded_folder([("a", b"x" * 11)], tmp_path, limits)
    with pytest.raises(InvalidParameterValue, match="no files"):
        write_uploaded_folder([], tmp_path)
    assert list(tmp_path.iterdir()) == []
