"""``lambdahost deploy`` against a real ``lambdahost serve``: a folder whose handler imports a dependency that
pip vendors from a wheel built here (offline), invoked for real; re-deploying is a no-op, a configuration change
updates only the configuration, a code change uploads and the new code runs."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lambdahost.client import Client
from tests.wheels import build_wheel

if TYPE_CHECKING:
    from conftest import ServerProcess

CliRunner = Callable[..., subprocess.CompletedProcess[str]]

HANDLER = """
import importlib.metadata

import lh_deploy_greeting


def handler(event, context):
    return {{"greeting": lh_deploy_greeting.greet(event["name"]), "code": {code},
            "version": importlib.metadata.version("lh-deploy-greeting")}}
"""


def test_deploy_vendors_then_skips_unchanged_code(server: ServerProcess, cli: CliRunner, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build_wheel(
        wheels,
        "lh-deploy-greeting",
        "2.0.1",
        {"lh_deploy_greeting/__init__.py": "def greet(name):\n    return 'hello ' + name\n"},
    )
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(HANDLER.format(code=1))
    (folder / "requirements.txt").write_text("lh-deploy-greeting==2.0.1\n")
    name = f"deploy-{uuid.uuid4().hex[:8]}"
    deploy = (
        "deploy",
        str(folder),
        "--name",
        name,
        "--handler",
        "app.handler",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--pip-arg=--no-index",
        f"--pip-arg=--find-links={wheels}",
    )

    created = cli(*deploy)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith(f"deployed {name}: created (python3.11 app.handler, 128 MB, timeout 3 s")
    assert "pip: Successfully installed lh-deploy-greeting-2.0.1" in created.stderr
    with Client(server.url) as client:
        response = client.invoke(name, {"name": "ada"})
        assert response.function_error is None, response.payload
        assert response.json() == {"greeting": "hello ada", "code": 1, "version": "2.0.1"}
        before = client.get_function(name)["Configuration"]

        again = cli(*deploy)
        assert again.returncode == 0, again.stderr
        assert again.stdout == f"deployed {name}: unchanged, nothing uploaded (CodeSha256 {before['CodeSha256']})\n"
        assert "dependencies (from the cache)" in again.stderr
        assert client.get_function(name)["Configuration"]["RevisionId"] == before["RevisionId"]

        configured = cli(*deploy, "--timeout", "10", "--env", "STAGE=test")
        assert configured.returncode == 0, configured.stderr
        assert configured.stdout == (
            f"deployed {name}: code unchanged, nothing uploaded; "
            "configuration updated (timeout 3 -> 10, environment: 1 variable)\n"
        )
        after = client.get_function(name)["Configuration"]
        assert (after["Timeout"], after["Environment"]["Variables"], after["CodeSha256"]) == (
            10,
            {"STAGE": "test"},
            before["CodeSha256"],
        )

        (folder / "app.py").write_text(HANDLER.format(code=2))
        changed = cli(*deploy, "--quiet")
        assert changed.returncode == 0, changed.stderr
        assert changed.stderr == ""
        updated = client.get_function(name)["Configuration"]
        assert updated["CodeSha256"] != before["CodeSha256"]
        assert changed.stdout.startswith(f"deployed {name}: code updated (")
        assert f"CodeSha256 {updated['CodeSha256']})" in changed.stdout
        assert "configuration" not in changed.stdout  # options not given are left as they are
        assert updated["Timeout"] == 10
        response = client.invoke(name, {"name": "grace"})
        assert response.json() == {"greeting": "hello grace", "code": 2, "version": "2.0.1"}


def test_deploy_with_a_bad_requirement_creates_nothing(server: ServerProcess, cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (folder / "requirements.txt").write_text("lh-deploy-missing==1.0\n")
    name = f"deploy-{uuid.uuid4().hex[:8]}"
    result = cli(
        "deploy",
        str(folder),
        "--name",
        name,
        "--handler",
        "app.handler",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--pip-arg=--no-index",
        f"--pip-arg=--find-links={tmp_path}",
    )
    assert result.returncode == 2
    assert "error: pip could not install 'lh-deploy-missing==1.0'" in result.stderr
    assert result.stdout == ""
    with Client(server.url) as client:
        assert name not in {function["FunctionName"] for function in client.list_functions()}
