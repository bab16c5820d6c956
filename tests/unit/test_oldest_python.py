"""The child-side runtime (what a fork server and its environments import) compiles and imports on the oldest
Python that runs a runtime (``MINIMUM_PYTHON``), and an older one is refused with a clear reason.

These run that interpreter once when it is on this machine (pyenv, PATH, ...); it is absent only on machines
without it (they skip; in CI, where it is installed, they fail)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from lambdahost.runtime.forkserver import MINIMUM_PYTHON
from lambdahost.runtime.interpreters import Rejected, candidates, foreign_environ, loader_code, package_dir, probe
from tests.pythons import missing

# The modules a fork server and its environments import; each must run on MINIMUM_PYTHON (see forkserver.py).
CHILD_SIDE = {
    "lambdahost",
    "lambdahost.runtime",
    "lambdahost.runtime.bootstrap",
    "lambdahost.runtime.context",
    "lambdahost.runtime.faults",
    "lambdahost.runtime.forkserver",
    "lambdahost.runtime.protocol",
    "lambdahost.runtime.sandbox",
}
# Imported by functions (on every environment's sys.path), so on every runtime too.
PROVIDED = Path(package_dir()) / "runtime" / "provided" / "snapshot_restore_py.py"

CHECK = """
import json
import lambdahost.runtime.bootstrap, lambdahost.runtime.forkserver
loaded = sorted(name for name in sys.modules if name == "lambdahost" or name.startswith("lambdahost."))
for name in loaded + [None]:
    path = sys.modules[name].__file__ if name else PROVIDED
    with open(path) as source:
        compile(source.read(), path, "exec", dont_inherit=True)
print(json.dumps({"version": list(sys.version_info[:2]), "loaded": loaded}))
"""


def interpreter_of(minor: int) -> str:
    """An interpreter of 3.``minor`` on this machine (the first candidate that reports that version)."""
    for path, _source in candidates(f"python3.{minor}", os.environ):
        done = subprocess.run(
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and done.stdout.strip() == f"3.{minor}":
            return path
    missing(f"no Python 3.{minor} on this machine")


def test_child_side_runtime_compiles_and_imports_on_the_oldest_supported_python() -> None:
    python = interpreter_of(MINIMUM_PYTHON[1])
    code = loader_code(f"PROVIDED = {str(PROVIDED)!r}\n" + CHECK)
    done = subprocess.run(
        [python, "-s", "-c", code], env=foreign_environ(os.environ), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["version"] == list(MINIMUM_PYTHON)
    assert set(report["loaded"]) == CHILD_SIDE, (
        "a new child-side import must run on the oldest supported Python: add it to CHILD_SIDE once it does"
    )


def test_an_older_python_is_refused_with_the_reason() -> None:
    older = interpreter_of(MINIMUM_PYTHON[1] - 1)
    result = probe(older)
    assert isinstance(result, Rejected)
    assert "need Python 3.9 or later" in result.reason
