"""Vendoring requirements with pip for real (``code/vendoring.py``, ``lambdahost package``), offline: the wheels
are built in the test and pip looks only there (``--no-index --find-links``)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from lambdahost.code.packaging import Target, build_package, dependencies_key
from lambdahost.code.vendoring import INFO_FILE, VendoringFailed, vendor
from tests.wheels import build_wheel

X86 = Target.of("python3.11", "x86_64")


def greeting_wheel(wheels: Path, version: str = "1.2.0") -> Path:
    return build_wheel(
        wheels,
        "lh-greeting",
        version,
        {
            "lh_greeting/__init__.py": f"VERSION = {version!r}\n\ndef greet(name):\n    return 'hello ' + name\n",
            "lh_greeting/tests/test_greeting.py": "def test_it():\n    pass\n",
        },
        scripts={"lh-greet": "#!python\nprint('hi')\n"},
    )


def offline(wheels: Path) -> tuple[str, ...]:
    return ("--no-index", f"--find-links={wheels}")


def function_folder(root: Path, requirements: str = "lh-greeting==1.2.0\n") -> Path:
    root.mkdir(parents=True)
    (root / "app.py").write_text(
        "import importlib.metadata\nimport lh_greeting\n\n"
        "def handler(event, context):\n"
        "    return lh_greeting.greet(event['name']) + ' ' + importlib.metadata.version('lh-greeting')\n"
    )
    (root / "requirements.txt").write_text(requirements)
    return root


def package_cli(folder: Path, output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAMBDAHOST_")}
    return subprocess.run(
        [sys.executable, "-m", "lambdahost", "package", str(folder), "-o", str(output), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def run_handler(package: bytes, tmp_path: Path, event: dict[str, str]) -> str:
    """Unzip the package and call ``app.handler`` in a fresh interpreter with only the package on its path (as
    a function's environment has it), so the import must come from the vendored files."""
    code = tmp_path / "unzipped"
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        archive.extractall(code)
    script = f"import sys, json; sys.path.insert(0, {str(code)!r}); import app; print(app.handler({event!r}, None))"
    result = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def test_vendor_installs_then_serves_from_the_cache_offline(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    greeting_wheel(wheels)
    folder = function_folder(tmp_path / "fn", "lh-greeting\n")  # unpinned: what pip finds today
    cache = tmp_path / "cache"
    lines: list[str] = []

    first = vendor(folder / "requirements.txt", X86, cache_dir=cache, pip_args=offline(wheels), report=lines.append)
    assert not first.from_cache
    assert first.distributions == ("lh_greeting 1.2.0",)
    assert first.path == cache / "deps" / dependencies_key(b"lh-greeting\n", X86) / "site"
    assert (first.path / "lh_greeting" / "__init__.py").is_file()
    assert any("Successfully installed lh-greeting-1.2.0" in line for line in lines)  # pip's progress, passed on
    info = json.loads((first.path.parent / INFO_FILE).read_text())
    assert (info["runtime"], info["arch"], info["distributions"]) == ("python3.11", "x86_64", ["lh_greeting 1.2.0"])
    assert [p.name for p in (cache / "deps").iterdir()] == [first.key]  # no temporary folder left behind

    # the second time pip does not run: no wheels anywhere, and it is fast
    for wheel in wheels.iterdir():
        wheel.unlink()
    started = time.monotonic()
    second = vendor(folder / "requirements.txt", X86, cache_dir=cache, pip_args=offline(wheels))
    assert time.monotonic() - started < 0.2
    assert second.from_cache and second.path == first.path and second.distributions == first.distributions

    # another runtime is another key: pip runs, and (no wheels left) fails
    with pytest.raises(VendoringFailed, match=r"'lh-greeting' from .* for python3\.12 on x86_64"):
        vendor(
            folder / "requirements.txt", Target.of("python3.12", "x86_64"), cache_dir=cache, pip_args=offline(wheels)
        )

    # a newer release does not change the key (the file's bytes): the cache still answers 1.2.0 ...
    greeting_wheel(wheels, "1.3.0")
    assert vendor(folder / "requirements.txt", X86, cache_dir=cache).distributions == ("lh_greeting 1.2.0",)
    # ... until --refresh-deps runs pip again and replaces the entry
    refreshed = vendor(folder / "requirements.txt", X86, cache_dir=cache, pip_args=offline(wheels), refresh=True)
    assert not refreshed.from_cache and refreshed.path == first.path
    assert refreshed.distributions == ("lh_greeting 1.3.0",)
    assert "VERSION = '1.3.0'" in (refreshed.path / "lh_greeting" / "__init__.py").read_text()
    assert [p.name for p in (cache / "deps").iterdir()] == [first.key]  # the old entry is gone


def test_package_runs_with_its_vendored_dependencies(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    greeting_wheel(wheels)
    folder = function_folder(tmp_path / "fn")
    output = folder / "fn.zip"  # inside the folder: must not package itself the second time
    args = ("--cache-dir", str(tmp_path / "cache"), f"--pip-arg=--find-links={wheels}", "--pip-arg=--no-index")

    first = package_cli(folder, output, *args)
    assert first.returncode == 0, first.stderr
    assert "pip: Successfully installed lh-greeting-1.2.0" in first.stderr
    assert "dependencies (installed in" in first.stderr
    assert first.stdout == ""
    data = output.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        listed = archive.namelist()
    assert "lh_greeting/__init__.py" in listed and "lh_greeting-1.2.0.dist-info/METADATA" in listed
    assert not [name for name in listed if "/tests/" in name or name.startswith("bin/") or name == "fn.zip"]
    files = len([name for name in listed if not name.endswith("/")])
    assert f"wrote {output}: {files} files" in first.stderr
    assert run_handler(data, tmp_path, {"name": "ada"}) == "hello ada 1.2.0"

    second = package_cli(folder, output, *args)
    assert second.returncode == 0, second.stderr
    assert "dependencies (from the cache): lh_greeting 1.2.0" in second.stderr and "pip:" not in second.stderr
    assert output.read_bytes() == data  # the same bytes, so content hashes compare

    output.unlink()
    quiet = package_cli(folder, output, *args, "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert output.read_bytes() == data


def test_two_fresh_pip_installs_package_to_the_same_bytes(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    greeting_wheel(wheels)
    folder = function_folder(tmp_path / "fn")
    one = vendor(folder / "requirements.txt", X86, cache_dir=tmp_path / "one", pip_args=offline(wheels))
    two = vendor(folder / "requirements.txt", X86, cache_dir=tmp_path / "two", pip_args=offline(wheels))
    assert not one.from_cache and not two.from_cache
    assert build_package(folder, one.path).data == build_package(folder, two.path).data


def test_a_bad_requirement_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    greeting_wheel(wheels)
    folder = function_folder(tmp_path / "fn", "lh-greeting==1.2.0\nlh-no-such-package==9.9\n")
    output = tmp_path / "fn.zip"
    cache = tmp_path / "cache"
    result = package_cli(folder, output, "--cache-dir", str(cache), "--pip-arg=--no-index", f"--pip-arg=-f{wheels}")
    assert result.returncode == 2
    assert (
        f"error: pip could not install 'lh-no-such-package==9.9' from {folder / 'requirements.txt'} for python3.11"
        in result.stderr
    )
    assert "ERROR: No matching distribution found for lh-no-such-package==9.9" in result.stderr
    assert "Only binary wheels for the target are accepted" in result.stderr
    assert not output.exists()
    assert list((cache / "deps").iterdir()) == []  # no entry, no temporary folder


def test_binary_wheels_are_chosen_by_architecture(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build_wheel(
        wheels,
        "lh-native",
        "0.1",
        {"lh_native/__init__.py": "ARCH = 'aarch64'\n"},
        tag="cp311-cp311-manylinux2014_aarch64",
    )
    folder = function_folder(tmp_path / "fn", "lh-native==0.1\n")
    arm = vendor(
        folder / "requirements.txt",
        Target.of("python3.11", "arm64"),
        cache_dir=tmp_path / "c",
        pip_args=offline(wheels),
    )
    assert arm.distributions == ("lh_native 0.1",)
    with pytest.raises(VendoringFailed, match=r"'lh-native==0\.1' .* on x86_64"):
        vendor(folder / "requirements.txt", X86, cache_dir=tmp_path / "c", pip_args=offline(wheels))


def test_requirements_without_requirements_do_not_run_pip(tmp_path: Path) -> None:
    folder = function_folder(tmp_path / "fn", "# nothing yet\n")
    result = package_cli(folder, tmp_path / "fn.zip", "--cache-dir", str(tmp_path / "cache"), "--pip-arg=--bogus")
    assert result.returncode == 0, result.stderr
    assert "requirements.txt lists no requirements; nothing to vendor" in result.stderr
    assert not (tmp_path / "cache").exists()
    assert (tmp_path / "fn.zip").read_bytes() == build_package(folder).data
