"""Where interpreters are looked for, in which order (files in temporary directories, nothing run), and the
``--interpreter`` option."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lambdahost.cli.options import interpreters_option
from lambdahost.cli.runtimes import python_column, render
from lambdahost.engine.functions import SUPPORTED_RUNTIMES
from lambdahost.runtime.interpreters import Interpreters, candidates, foreign_environ, minor_of, own_interpreter


def executable(path: Path, body: str = "exit 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_runtime_names() -> None:
    assert minor_of("python3.12") == 12
    for bad in ("python3", "python3.x", "nodejs20.x", "python3.12 "):
        with pytest.raises(ValueError):
            minor_of(bad)


def test_path_first_then_installations_newest_first_then_system_then_shims(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bin_dir, shims = tmp_path / "bin", tmp_path / "pyenv" / "shims"
    on_path = executable(bin_dir / "python3.12")
    shim = executable(shims / "python3.12")
    pyenv = tmp_path / "pyenv" / "versions"
    for version in ("3.12.1", "3.12.10", "3.12.2", "3.12-dev", "3.13.0"):
        executable(pyenv / version / "bin" / "python3.12")
    executable(pyenv / "myenv" / "bin" / "python3.12")  # a pyenv-virtualenv: not an installation of 3.12
    (pyenv / "3.12.3" / "bin").mkdir(parents=True)  # no executable in it
    asdf = executable(home / ".asdf" / "installs" / "python" / "3.12.4" / "bin" / "python3.12")
    uv_root = home / ".local" / "share" / "uv" / "python"
    uv = executable(uv_root / "cpython-3.12.5-linux-x86_64-gnu" / "bin" / "python3.12")
    executable(uv_root / "cpython-3.12.6+freethreaded-linux-x86_64-gnu" / "bin" / "python3.12")
    environ = {"PATH": f"{shims}:{bin_dir}:{tmp_path / 'nowhere'}", "HOME": str(home), "PYENV_ROOT": str(pyenv.parent)}

    found = candidates("python3.12", environ)

    system = [(p, "system") for p in ("/usr/local/bin/python3.12", "/usr/bin/python3.12") if os.access(p, os.X_OK)]
    assert found == [
        (str(on_path), "path"),
        (str(pyenv / "3.12.10" / "bin" / "python3.12"), "pyenv"),
        (str(pyenv / "3.12.2" / "bin" / "python3.12"), "pyenv"),
        (str(pyenv / "3.12.1" / "bin" / "python3.12"), "pyenv"),
        (str(asdf), "asdf"),
        (str(uv), "uv"),
        *system,
        (str(shim), "path"),
    ], "a shim is tried last: it exists for every installed version but fails for one that is not selected"


def test_xdg_and_uv_locations_from_the_environment(tmp_path: Path) -> None:
    uv = executable(tmp_path / "uv" / "cpython-3.10.14-linux-aarch64-gnu" / "bin" / "python3.10")
    xdg = executable(tmp_path / "xdg" / "uv" / "python" / "cpython-3.10.13-linux-x86_64-gnu" / "bin" / "python3.10")
    base = {"PATH": "", "HOME": str(tmp_path / "home")}
    assert (str(uv), "uv") in candidates("python3.10", {**base, "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv")})
    assert (str(xdg), "uv") in candidates("python3.10", {**base, "XDG_DATA_HOME": str(tmp_path / "xdg")})


def test_the_platforms_own_version_needs_no_probe(tmp_path: Path) -> None:
    own = own_interpreter()
    interpreters = Interpreters(SUPPORTED_RUNTIMES, environ={"PATH": "", "HOME": str(tmp_path)})
    assert own.runtime == f"python3.{sys.version_info[1]}" and own.path == sys.executable and own.own
    assert interpreters.find(own.runtime) == own
    assert interpreters.rejected(own.runtime) == ()
    assert interpreters.find("nodejs20.x") is None
    assert interpreters.for_runtime("nodejs20.x") == own


def test_a_configured_runtime_must_be_supported() -> None:
    with pytest.raises(ValueError, match=r"python2\.7"):
        Interpreters(SUPPORTED_RUNTIMES, configured={"python2.7": "/usr/bin/python2.7"})


def test_foreign_interpreters_do_not_get_the_platforms_module_paths() -> None:
    environ = {"PATH": "/bin", "PYTHONPATH": "/site", "PYTHONHOME": "/home", "PYTHONUNBUFFERED": "1"}
    assert foreign_environ(environ) == {"PATH": "/bin", "PYTHONUNBUFFERED": "1"}


@click.command()
@interpreters_option
def show(interpreters: dict[str, str]) -> None:
    click.echo(repr(sorted(interpreters.items())))


def test_interpreter_option(tmp_path: Path) -> None:
    one, two = executable(tmp_path / "py312"), executable(tmp_path / "py313")
    runner = CliRunner()
    given = runner.invoke(show, ["--interpreter", f"python3.12={one}", "--interpreter", f"python3.13={two}"])
    assert given.output.strip() == repr([("python3.12", str(one)), ("python3.13", str(two))])
    from_env = runner.invoke(show, [], env={"LAMBDAHOST_INTERPRETERS": f"python3.12={one} python3.13={two}"})
    assert from_env.output == given.output
    assert "LAMBDAHOST_INTERPRETERS" in runner.invoke(show, ["--help"]).output
    (tmp_path / "plain").write_text("")
    for bad, message in (
        ("python3.12", "is not RUNTIME=PATH"),
        (f"python2.7={one}", "is not a supported runtime"),
        (f"python3.12={tmp_path / 'missing'}", "is not an executable file"),
        (f"python3.12={tmp_path / 'plain'}", "is not an executable file"),
    ):
        result = runner.invoke(show, ["--interpreter", bad])
        assert result.exit_code == 2 and message in result.output, (bad, result.output)


def test_runtimes_table() -> None:
    listed = [
        {
            "Runtime": "python3.8",
            "Available": False,
            "Python": {"Version": "3.11.7", "Path": "/venv/bin/python", "Source": "platform"},
            "Rejected": [{"Path": "/py/3.8/bin/python3.8", "Reason": "exit status 1: ImportError: too old"}],
        },
        {
            "Runtime": "python3.12",
            "Available": True,
            "Python": {"Version": "3.12.1", "Path": "/py/3.12/bin/python3.12", "Source": "pyenv"},
        },
    ]
    assert render(listed).splitlines() == [
        "RUNTIME     PYTHON   SOURCE  PATH",
        "python3.8   3.11.7*  -       /venv/bin/python",
        "python3.12  3.12.1   pyenv   /py/3.12/bin/python3.12",
        "",
        "* not on the server's machine: runs on the server's own Python (see `lambdahost runtimes`)",
        "Candidates that were tried and failed:",
        "  python3.8: /py/3.8/bin/python3.8: exit status 1: ImportError: too old",
    ]
    assert python_column(listed) == {"python3.8": "3.11.7*", "python3.12": "3.12.1"}
