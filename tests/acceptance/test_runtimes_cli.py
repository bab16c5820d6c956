"""Runtimes end to end: ``lambdahost serve --interpreter``, functions created for runtimes with the CLI, and what
``lambdahost runtimes`` and ``lambdahost list`` show, against a real server (on the interpreters found here)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tests.pythons import foreign, own

if TYPE_CHECKING:
    from conftest import ServerProcess

REPORT = "import sys\n\ndef handler(event, context):\n    return '%d.%d.%d' % sys.version_info[:3]\n"


def test_runtimes_and_list_show_which_python_runs_what(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    chosen = foreign()[0]
    configured = tmp_path / "bin" / "python-for-lambdahost"
    configured.parent.mkdir()
    configured.symlink_to(chosen.path)
    server = server_factory(tmp_path / "data", "--interpreter", f"{chosen.runtime}={configured}")
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(REPORT)

    listed = json.loads(server.run_cli("runtimes", "--json").stdout)
    by_runtime = {entry["Runtime"]: entry for entry in listed}
    assert by_runtime[chosen.runtime] == {
        "Runtime": chosen.runtime,
        "Available": True,
        "Python": {"Version": chosen.version, "Path": str(configured), "Source": "configured"},
    }
    assert by_runtime["python3.8"]["Available"] is False
    assert by_runtime["python3.8"]["Python"]["Version"] == own().version
    table = server.run_cli("runtimes").stdout
    assert f"{chosen.runtime}  " in table and str(configured) in table

    for name, runtime in (("chosen", chosen.runtime), ("legacy", "python3.8")):
        created = server.run_cli("create", name, "--code", str(code), "--handler", "app.handler", "--runtime", runtime)
        assert created.returncode == 0, created.stderr
    assert json.loads(server.run_cli("invoke", "chosen").stdout) == chosen.version
    assert json.loads(server.run_cli("invoke", "legacy").stdout) == own().version

    result = server.run_cli("list")
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows["chosen"][1:3] == [chosen.runtime, chosen.version]
    assert rows["legacy"][1:3] == ["python3.8", own().version + "*"]
    assert "not on the server's machine" in result.stderr
    assert "python3.8 is not on this machine" in server.output(), "the server logged it when the function was created"
