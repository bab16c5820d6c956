"""Packaging a folder (``code/packaging.py``): ignore rules, the target's pip tags, the cache key, which files go
in, and that the same inputs give the same bytes. No pip here (tests/integration/test_vendoring.py runs it)."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from lambdahost.cli.package import _configuration_changes
from lambdahost.cli.upload import read_code
from lambdahost.code import ZipLimits, validate_zip, zip_folder
from lambdahost.code.packaging import (
    IgnoreRules,
    Target,
    build_package,
    dependencies_key,
    limit_warnings,
    lists_requirements,
    machine_arch,
)
from lambdahost.core.errors import InvalidParameterValue


def write(path: Path, content: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()


def function_folder(root: Path) -> Path:
    write(root / "app.py", "def handler(event, context):\n    return 1\n")
    write(root / "lib" / "__init__.py")
    write(root / "lib" / "tests" / "test_lib.py")  # the user's own tests/ folders stay (only dependencies' go)
    write(root / "requirements.txt", "six==1.16.0\n")
    return root


def dependencies_folder(root: Path) -> Path:
    """What ``pip install --target`` leaves: packages, dist-info, bin/ scripts, packages' own tests."""
    write(root / "dep" / "__init__.py", "VALUE = 'dependency'\n")
    write(root / "dep" / "tests" / "test_dep.py")
    write(root / "dep" / "sub" / "test" / "data.txt")
    write(root / "dep" / "testing.py")  # not a tests folder
    write(root / "dep" / "__pycache__" / "x.cpython-311.pyc")
    write(root / "dep-1.0.dist-info" / "METADATA", "Metadata-Version: 2.1\nName: dep\nVersion: 1.0\n")
    write(root / "dep-1.0.dist-info" / "RECORD", "dep/__init__.py,,\n")
    write(root / "bin" / "dep-cli", "#!/usr/bin/python3\n")
    write(root / "tests" / "__init__.py")  # a top-level distribution named "tests" is kept
    return root


# -- ignore rules -------------------------------------------------------------------------------------------------
def test_ignore_rules_parse_comments_blank_lines_and_pattern_kinds() -> None:
    rules = IgnoreRules.parse("# comment\n\n*.csv\n/data/*.bin\ndocs/\n  notes.txt  \nbuild/cache/\n")
    assert [(p.pattern, p.anchored, p.folders_only) for p in rules.patterns] == [
        ("*.csv", False, False),
        ("data/*.bin", True, False),
        ("docs", False, True),
        ("notes.txt", False, False),
        ("build/cache", True, True),
    ]
    assert rules.ignores("a.csv", False) and rules.ignores("deep/er/a.csv", False)  # base name at any depth
    assert rules.ignores("data/x.bin", False) and not rules.ignores("other/data/x.bin", False)  # from the root
    assert rules.ignores("docs", True) and rules.ignores("pkg/docs", True)
    assert not rules.ignores("docs", False)  # trailing "/": folders only
    assert rules.ignores("build/cache", True) and not rules.ignores("build", True)
    assert not rules.ignores("app.py", False)
    assert not rules.ignores("A.CSV", False)  # case-sensitive everywhere


@pytest.mark.parametrize(
    ("text", "message"),
    [("keep.py\n!important.py\n", "line 2: '!important.py': negation"), ("/\n", "line 1: '/' is not a pattern")],
)
def test_ignore_rules_reject_what_they_do_not_support(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        IgnoreRules.parse(text)


# -- the target -------------------------------------------------------------------------------------------------
def test_target_tags_for_pip() -> None:
    target = Target.of("python3.12", "arm64")
    assert (target.python_version, target.abi) == ("3.12", "cp312")
    assert target.platforms[0] == "manylinux2014_aarch64"
    assert target.platforms[1] == "manylinux_2_17_aarch64" and target.platforms[-1] == "manylinux_2_28_aarch64"
    assert len(target.platforms) == 13
    assert all(tag.endswith("_x86_64") for tag in Target.of("python3.11", "x86_64").platforms)


@pytest.mark.parametrize(("machine", "arch"), [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("aarch64", "arm64")])
def test_default_arch_is_the_machines(machine: str, arch: str) -> None:
    assert machine_arch(machine) == arch
    assert Target.of("python3.11", machine=machine).arch == arch


def test_target_errors_are_clear() -> None:
    with pytest.raises(InvalidParameterValue, match=r"'nodejs20\.x' is not a Python runtime"):
        Target.of("nodejs20.x", "x86_64")
    with pytest.raises(InvalidParameterValue, match="'riscv' is not one of x86_64, arm64"):
        Target.of("python3.11", "riscv")
    with pytest.raises(InvalidParameterValue, match="this machine's 's390x'; pass --arch"):
        Target.of("python3.11", machine="s390x")


# -- requirements and the cache key ---------------------------------------------------------------------------------
def test_dependencies_key_covers_content_runtime_and_arch() -> None:
    base = Target.of("python3.11", "x86_64")
    key = dependencies_key(b"six==1.16.0\n", base)
    assert key == dependencies_key(b"six==1.16.0\n", Target.of("python3.11", "x86_64"))
    others = {
        dependencies_key(b"six==1.16.0\n", Target.of("python3.12", "x86_64")),
        dependencies_key(b"six==1.16.0\n", Target.of("python3.11", "arm64")),
        dependencies_key(b"six==1.15.0\n", base),
        dependencies_key(b"six==1.16.0", base),  # the exact bytes
    }
    assert key not in others and len(others) == 4


@pytest.mark.parametrize(
    ("text", "listed"),
    [
        ("six\n", True),
        ("# nothing\n\n", False),
        ("--index-url https://mirror/simple\n", False),
        ("-r base.txt\n", True),
        ("--no-index  # offline\nrequests>=2 ; python_version>'3'\n", True),
    ],
)
def test_lists_requirements(text: str, listed: bool) -> None:
    assert lists_requirements(text) is listed


# -- which files go in --------------------------------------------------------------------------------------------
def test_default_exclusions_in_the_folder(tmp_path: Path) -> None:
    root = function_folder(tmp_path / "fn")
    for junk in (
        "__pycache__/app.cpython-311.pyc",
        "lib/old.pyc",
        ".git/HEAD",
        ".venv/bin/python",
        "venv/pyvenv.cfg",
        ".pytest_cache/v/x",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/x",
    ):
        write(root / junk)
    assert names(build_package(root).data) == [
        "app.py",
        "lib/",
        "lib/__init__.py",
        "lib/tests/",
        "lib/tests/test_lib.py",
        "requirements.txt",
    ]


def test_lambdahostignore_applies_to_the_folder_and_the_dependencies(tmp_path: Path) -> None:
    root = function_folder(tmp_path / "fn")
    write(root / "notes.md")
    write(root / "data" / "big.parquet")
    write(root / "lib" / "data" / "small.parquet")
    write(root / ".lambdahostignore", "# keep the zip small\n*.md\n/data/\ndep/testing.py\n")
    deps = dependencies_folder(tmp_path / "site")
    listed = names(build_package(root, deps).data)
    assert "notes.md" not in listed and "data/" not in listed and "data/big.parquet" not in listed
    assert "lib/data/small.parquet" in listed  # "/data/" is anchored at the root
    assert ".lambdahostignore" not in listed
    assert "dep/testing.py" not in listed and "dep/__init__.py" in listed


def test_dependency_exclusions_keep_metadata(tmp_path: Path) -> None:
    root = function_folder(tmp_path / "fn")
    package = build_package(root, dependencies_folder(tmp_path / "site"))
    listed = names(package.data)
    assert "dep/__init__.py" in listed and "dep/testing.py" in listed
    assert "dep-1.0.dist-info/METADATA" in listed and "dep-1.0.dist-info/RECORD" in listed
    assert "tests/__init__.py" in listed  # a top-level package named tests is a dependency, not its tests
    for gone in ("dep/tests/", "dep/sub/test/", "dep/__pycache__/", "bin/", "bin/dep-cli"):
        assert gone not in listed
    assert "lib/tests/test_lib.py" in listed  # the folder's own tests/ are the user's call (.lambdahostignore)
    assert (package.files, package.overridden) == (len([n for n in listed if not n.endswith("/")]), ())
    validate_zip(package.data)  # what a server accepts


def test_entries_are_merged_in_zip_order_and_the_folder_wins(tmp_path: Path) -> None:
    root = function_folder(tmp_path / "fn")
    write(root / "dep" / "__init__.py", "VALUE = 'mine'\n")
    package = build_package(root, dependencies_folder(tmp_path / "site"))
    listed = names(package.data)
    assert listed == sorted(listed, key=lambda name: name.rstrip("/").split("/"))  # each folder before its contents
    assert listed.count("dep/") == 1 and listed.count("dep/__init__.py") == 1
    assert package.overridden == ("dep/__init__.py",)
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        assert archive.read("dep/__init__.py") == b"VALUE = 'mine'\n"


def test_a_file_against_a_folder_of_the_same_name_is_an_error(tmp_path: Path) -> None:
    root = function_folder(tmp_path / "fn")
    write(root / "dep", "not a package\n")
    with pytest.raises(InvalidParameterValue, match="'dep' is a file in one of the folder and its dependencies"):
        build_package(root, dependencies_folder(tmp_path / "site"))


def test_the_output_zip_inside_the_folder_is_left_out(tmp_path: Path) -> None:
    root = function_folder(tmp_path / "fn")
    output = root / "dist" / "fn.zip"
    write(output, "an older package")
    assert "dist/fn.zip" in names(build_package(root).data)
    assert "dist/fn.zip" not in names(build_package(root, leave_out=[output, tmp_path / "elsewhere.zip"]).data)


# -- determinism ----------------------------------------------------------------------------------------------------
def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    root = function_folder(tmp_path / "one")
    deps = dependencies_folder(tmp_path / "site-one")
    first = build_package(root, deps).data
    assert build_package(root, deps).data == first
    # the same files elsewhere, written later in another order, with other times: the same bytes
    copy = tmp_path / "two"
    shutil.copytree(root, copy)
    copy_deps = tmp_path / "site-two"
    shutil.copytree(deps, copy_deps)
    for path in [*copy.rglob("*"), *copy_deps.rglob("*")]:
        os.utime(path, (1_000_000_000, 1_000_000_000))
    assert build_package(copy, copy_deps).data == first
    write(copy / "app.py", "def handler(event, context):\n    return 2\n")
    assert build_package(copy, copy_deps).data != first


def test_a_plain_folder_packages_to_what_create_uploads(tmp_path: Path) -> None:
    root = function_folder(tmp_path / "fn")
    assert build_package(root).data == zip_folder(root) == read_code(root)
    write(root / ".lambdahostignore", "lib/\n")
    assert read_code(root) == build_package(root).data  # `create --code DIR` shares the selection
    assert "lib/" not in names(read_code(root))


def test_limit_warnings_name_the_limit(tmp_path: Path) -> None:
    package = build_package(function_folder(tmp_path / "fn"))
    assert limit_warnings(package) == []
    small = ZipLimits(max_zip_bytes=10, max_unzipped_bytes=10, max_entries=2)
    warnings = limit_warnings(package, small)
    assert len(warnings) == 3
    assert f"the zip is {package.size} bytes; a server takes at most 10" in warnings[0]


# -- deploy's configuration comparison -----------------------------------------------------------------------------
def test_deploy_changes_only_what_differs() -> None:
    current = {
        "Handler": "app.handler",
        "Runtime": "python3.11",
        "MemorySize": 128,
        "Timeout": 3,
        "Environment": {"Variables": {"A": "1"}},
    }
    same = {"handler": "app.handler", "runtime": "python3.11", "memory": None, "timeout": None, "environment": None}
    assert _configuration_changes(current, **same) == {}
    assert _configuration_changes(current, **{**same, "memory": 128, "environment": {"A": "1"}}) == {}
    assert _configuration_changes(current, **{**same, "timeout": 10, "environment": {}}) == {
        "timeout": (3, 10),
        "environment": ({"A": "1"}, {}),
    }
    assert _configuration_changes({**current, "Environment": None}, **{**same, "environment": {}}) == {}


# -- pip's command line (run for real in tests/integration/test_vendoring.py) -------------------------------------
def test_pip_command_targets_binary_wheels_of_the_runtime(tmp_path: Path) -> None:
    from lambdahost.code.vendoring import _redacted, pip_command

    command = pip_command(Path("fn/requirements.txt"), Target.of("python3.12", "arm64"), tmp_path, ["--no-index"])
    assert command[1:4] == ["-m", "pip", "install"]
    joined = " ".join(command)
    assert f"--target {tmp_path} --only-binary=:all: --platform manylinux2014_aarch64" in joined
    assert "--python-version 3.12 --implementation cp --abi cp312" in joined
    assert "--no-compile" in command
    assert command[-3:] == ["-r", str(Path("fn/requirements.txt").absolute()), "--no-index"]  # the user's args last
    assert _redacted("--index-url=https://me:token@mirror/simple") == "--index-url=https://***@mirror/simple"
