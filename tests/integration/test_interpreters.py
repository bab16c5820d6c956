"""Interpreter discovery with real processes: every candidate is run once with the probe; broken ones, ones of
another version and shims that fail are passed over; a configured one comes first. Candidates are placed in
temporary directories and found through ``PATH``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from lambdahost.engine.functions import SUPPORTED_RUNTIMES
from lambdahost.runtime.interpreters import Interpreter, Interpreters, Rejected, probe
from tests.pythons import foreign, own


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def discovery(tmp_path: Path, *path: Path, configured: dict[str, str] | None = None) -> Interpreters:
    """A registry that looks only on ``path`` (no home directory installations)."""
    environ = {"PATH": os.pathsep.join(str(p) for p in path), "HOME": str(tmp_path / "home")}
    return Interpreters(SUPPORTED_RUNTIMES, configured, environ)


def test_a_broken_candidate_is_passed_over(tmp_path: Path) -> None:
    real = foreign()[0]
    broken = script(tmp_path / "broken" / real.runtime, "echo 'cannot start' >&2\nexit 1\n")
    interpreters = discovery(tmp_path, broken.parent, Path(real.path).parent)

    found = interpreters.find(real.runtime)

    assert found == Interpreter(real.runtime, real.version, real.path, "path")
    assert interpreters.rejected(real.runtime) == (Rejected(str(broken), "exit status 1: cannot start"),)
    assert found in interpreters.available()


def test_a_candidate_of_another_version_is_passed_over(tmp_path: Path) -> None:
    real = foreign()[0]
    impostor = script(tmp_path / "impostor" / real.runtime, f'exec {own().path} "$@"\n')
    interpreters = discovery(tmp_path, impostor.parent, Path(real.path).parent)

    assert interpreters.find(real.runtime) == Interpreter(real.runtime, real.version, real.path, "path")
    assert interpreters.rejected(real.runtime) == (Rejected(str(impostor), f"is Python {own().version}"),)


def test_a_runtime_without_a_working_candidate_is_unavailable(tmp_path: Path) -> None:
    runtime = next(  # one with no interpreter in the system directories, which are always looked in
        r
        for r in SUPPORTED_RUNTIMES
        if r != own().runtime and not any(os.path.exists(f"{d}/{r}") for d in ("/usr/local/bin", "/usr/bin"))
    )
    shim = script(tmp_path / "shims" / runtime, "echo 'pyenv: version not installed' >&2\nexit 127\n")
    interpreters = discovery(tmp_path, shim.parent)

    assert interpreters.find(runtime) is None
    assert interpreters.for_runtime(runtime) == own()
    assert runtime not in [i.runtime for i in interpreters.available()]
    assert interpreters.rejected(runtime) == (Rejected(str(shim), "exit status 127: pyenv: version not installed"),)


def test_the_configured_interpreter_comes_first(tmp_path: Path) -> None:
    real = foreign()[0]
    link = tmp_path / "configured" / "python"
    link.parent.mkdir()
    link.symlink_to(real.path)
    interpreters = discovery(tmp_path, Path(real.path).parent, configured={real.runtime: str(link)})

    assert interpreters.find(real.runtime) == Interpreter(real.runtime, real.version, str(link), "configured")


def test_a_broken_configured_interpreter_is_reported_and_passed_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    real = foreign()[0]
    broken = script(tmp_path / "configured" / "python", "exit 3\n")
    interpreters = discovery(tmp_path, Path(real.path).parent, configured={real.runtime: str(broken)})

    with caplog.at_level(logging.WARNING, logger="lambdahost.runtime.interpreters"):
        found = interpreters.find(real.runtime)

    assert found is not None and found.path == real.path
    warnings = [r for r in caplog.records if getattr(r, "action", None) == "interpreter_rejected"]
    assert [(r.runtime, r.path) for r in warnings] == [(real.runtime, str(broken))]  # type: ignore[attr-defined]


def test_the_platforms_own_version_can_be_configured_to_another_interpreter(tmp_path: Path) -> None:
    link = tmp_path / "configured" / "python"
    link.parent.mkdir()
    link.symlink_to(os.path.realpath(own().path))
    interpreters = discovery(tmp_path, configured={own().runtime: str(link)})

    found = interpreters.find(own().runtime)

    assert found == Interpreter(own().runtime, own().version, str(link), "configured") and not found.own


def test_a_candidate_is_probed_once_until_it_changes(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    candidate = script(tmp_path / "bin" / "python3.12", f"echo run >> {runs}\nexit 1\n")

    first, second = probe(str(candidate)), probe(str(candidate))
    assert first == second and isinstance(first, Rejected)
    assert runs.read_text() == "run\n"

    script(candidate, f"echo run >> {runs}\nexit 22\n")  # another file (size, time): probed again
    assert probe(str(candidate)) == Rejected(str(candidate), "exit status 22")
    assert runs.read_text() == "run\nrun\n"
