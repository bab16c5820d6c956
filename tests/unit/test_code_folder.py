import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from lambdahost.code import read_code_arg, validate_zip, zip_folder
from lambdahost.core.errors import InvalidParameterValue


def write(path: Path, content: str = "", mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(mode)
    return path


def project(root: Path) -> Path:
    write(root / "handler.py", "def handler(event, context):\n    return 1\n")
    write(root / "bootstrap", "#!/bin/sh\necho hi\n", mode=0o755)
    write(root / "pkg" / "__init__.py")
    write(root / "pkg" / "util.py", "X = 1\n", mode=0o600)
    (root / "empty").mkdir()
    return root


def entries(data: bytes) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.infolist()


def names(data: bytes) -> list[str]:
    return [info.filename for info in entries(data)]


def test_entries_are_sorted_with_folders_and_fixed_timestamps(tmp_path: Path) -> None:
    data = zip_folder(project(tmp_path / "src"))
    assert names(data) == ["bootstrap", "empty/", "handler.py", "pkg/", "pkg/__init__.py", "pkg/util.py"]
    assert {info.date_time for info in entries(data)} == {(1980, 1, 1, 0, 0, 0)}
    assert validate_zip(data).entries == 6


def test_modes_are_normalised_keeping_the_exec_bit(tmp_path: Path) -> None:
    modes = {info.filename: info.external_attr >> 16 for info in entries(zip_folder(project(tmp_path)))}
    assert modes["bootstrap"] == stat.S_IFREG | 0o755
    assert modes["handler.py"] == stat.S_IFREG | 0o644
    assert modes["pkg/util.py"] == stat.S_IFREG | 0o644  # was 0o600
    assert modes["pkg/"] == stat.S_IFDIR | 0o755


def test_same_folder_gives_the_same_bytes_whatever_the_mtimes_modes_and_location(tmp_path: Path) -> None:
    first = zip_folder(project(tmp_path / "one"))
    second_root = project(tmp_path / "elsewhere" / "two")
    for path in second_root.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    (second_root / "handler.py").chmod(0o664)
    (second_root / "bootstrap").chmod(0o700)
    second = zip_folder(second_root)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert zip_folder(tmp_path / "one") == first


def test_content_and_exec_changes_change_the_bytes(tmp_path: Path) -> None:
    root = project(tmp_path)
    before = zip_folder(root)
    (root / "handler.py").chmod(0o755)
    assert zip_folder(root) != before


def test_caches_vcs_and_venvs_are_left_out(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "__pycache__" / "handler.cpython-311.pyc", "junk")
    write(root / "pkg" / "__pycache__" / "util.cpython-311.pyc", "junk")
    write(root / "stale.pyc", "junk")
    write(root / "old.pyo", "junk")
    write(root / ".git" / "config", "[core]")
    write(root / ".venv" / "bin" / "python", "", mode=0o755)
    write(root / ".DS_Store", "junk")
    write(root / "pkg" / ".DS_Store", "junk")
    write(root / ".env.example", "KEEP=1")
    data = zip_folder(root)
    assert names(data) == [
        ".env.example",
        "bootstrap",
        "empty/",
        "handler.py",
        "pkg/",
        "pkg/__init__.py",
        "pkg/util.py",
    ]


def test_symlinks_inside_the_folder_are_followed(tmp_path: Path) -> None:
    root = project(tmp_path / "src")
    (root / "alias.py").symlink_to("handler.py")
    (root / "lib").symlink_to("pkg", target_is_directory=True)
    with zipfile.ZipFile(io.BytesIO(zip_folder(root))) as archive:
        assert archive.read("alias.py") == (root / "handler.py").read_bytes()
        assert archive.read("lib/util.py") == b"X = 1\n"
        assert archive.getinfo("alias.py").external_attr >> 16 == stat.S_IFREG | 0o644


def test_symlink_pointing_outside_is_rejected(tmp_path: Path) -> None:
    root = project(tmp_path / "src")
    secret = write(tmp_path / "secret.txt", "key")
    (root / "pkg" / "leak.txt").symlink_to(secret)
    with pytest.raises(InvalidParameterValue) as caught:
        zip_folder(root)
    assert caught.value.message == (
        f"Symlink 'pkg/leak.txt' in the code folder points outside it (to {str(secret)!r}); copy the file in instead."
    )


def test_symlinked_folder_pointing_outside_is_rejected(tmp_path: Path) -> None:
    root = project(tmp_path / "src")
    (root / "site").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(InvalidParameterValue, match="Symlink 'site' in the code folder points outside it"):
        zip_folder(root)


def test_dangling_symlink_is_rejected(tmp_path: Path) -> None:
    root = project(tmp_path / "src")
    (root / "gone.py").symlink_to(root / "missing.py")
    with pytest.raises(InvalidParameterValue, match=r"Symlink 'gone\.py' in the code folder points to nothing"):
        zip_folder(root)


def test_symlink_loop_is_rejected(tmp_path: Path) -> None:
    root = project(tmp_path / "src")
    (root / "pkg" / "again").symlink_to(root, target_is_directory=True)
    with pytest.raises(InvalidParameterValue, match="Symlink 'pkg/again' in the code folder loops back"):
        zip_folder(root)


def test_excluded_symlinks_are_not_even_resolved(tmp_path: Path) -> None:
    root = project(tmp_path / "src")
    (root / ".venv").symlink_to(tmp_path, target_is_directory=True)
    assert ".venv/" not in names(zip_folder(root))


def test_zip_folder_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="is not a folder"):
        zip_folder(write(tmp_path / "a.py"))


def test_read_code_arg_reads_a_zip_as_is(tmp_path: Path) -> None:
    data = zip_folder(project(tmp_path / "src"))
    for name in ("code.zip", "CODE.ZIP"):
        (tmp_path / name).write_bytes(data)
        assert read_code_arg(tmp_path / name) == data


def test_read_code_arg_zips_a_folder(tmp_path: Path) -> None:
    root = project(tmp_path / "src")
    assert read_code_arg(root) == zip_folder(root)


@pytest.mark.parametrize("name", ["code.tar.gz", "handler.py", "zip"])
def test_read_code_arg_rejects_other_files(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, "x")
    with pytest.raises(InvalidParameterValue) as caught:
        read_code_arg(path)
    assert caught.value.message == f"{str(path)!r} is neither a .zip file nor a folder."


def test_read_code_arg_rejects_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match=r"does not exist; pass a \.zip file or a folder"):
        read_code_arg(tmp_path / "nope")


def test_read_code_arg_rejects_special_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    with pytest.raises(InvalidParameterValue, match=r"is neither a \.zip file nor a folder"):
        read_code_arg(fifo)


def test_special_file_inside_the_folder_is_rejected(tmp_path: Path) -> None:
    root = project(tmp_path / "src")
    os.mkfifo(root / "pipe")
    with pytest.raises(InvalidParameterValue, match="'pipe' in the code folder is neither a file nor a folder"):
        zip_folder(root)
