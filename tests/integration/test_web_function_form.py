"""The create/edit form over real HTTP against an embedded Platform: a folder's files packaged on the server (its
requirements.txt vendored by a real pip, offline), unsafe uploads refused, a save that is all or nothing, each
parameter row's error under that row, and the form's size limits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lambdahost.server import Platform
from lambdahost.web.forms import MAX_FILES
from tests.integration.web_client import UiClient, zipped
from tests.wheels import build_wheel

HANDLER = "lambda_function.handler"
APP = """
import os
from lib.helper import shout
def handler(event, context):
    root = os.environ["LAMBDA_TASK_ROOT"]
    names = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
    return {"said": shout(event.get("word", "hi")), "files": names}
"""
HELPER = "def shout(word):\n    return word.upper() + '!'\n"


def fields(name: str, **more: str) -> dict[str, str]:
    return {"name": name, "runtime": "python3.11", "handler": HANDLER, "memory": "128", "timeout": "5", **more}


def run(platform: Platform, name: str, event: dict[str, object]) -> dict[str, object]:
    result = platform.invoker.invoke(name, json.dumps(event).encode())
    assert result.function_error is None, result.payload
    value = json.loads(result.payload)
    assert isinstance(value, dict)
    return value


def test_a_dropped_folder_is_packaged_and_runs(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    folder = [
        ("report/lambda_function.py", APP.encode()),
        ("report/lib/__init__.py", b""),
        ("report/lib/helper.py", HELPER.encode()),
        ("report/lib/__pycache__/helper.cpython-311.pyc", b"\x00stale"),
        ("report/.lambdahostignore", b"*.csv\n"),
        ("report/data.csv", b"a,b\n"),
    ]
    page = client.post_multipart("/ui/functions", fields("web-folder"), {"package_files": folder})
    assert page.status == 303, page.text
    result = run(platform, "web-folder", {"word": "go"})
    assert result == {"said": "GO!", "files": ["lambda_function.py", "lib/__init__.py", "lib/helper.py"]}

    # the same files again: the same bytes (a deterministic zip), so the code is unchanged
    before = platform.functions.get("web-folder").code_sha256_hex
    edit = {k: v for k, v in fields("web-folder").items() if k != "name"}
    page = client.post_multipart("/ui/functions/web-folder/edit", edit, {"package_files": folder})
    assert page.status == 303, page.text
    assert platform.functions.get("web-folder").code_sha256_hex == before

    # loose files (no common folder) keep their paths
    loose = [("lambda_function.py", APP.encode()), ("lib/__init__.py", b""), ("lib/helper.py", HELPER.encode())]
    page = client.post_multipart("/ui/functions", fields("web-loose"), {"package_files": loose})
    assert page.status == 303, page.text
    assert run(platform, "web-loose", {})["said"] == "HI!"


def test_a_folders_requirements_are_vendored_by_pip(
    ui: tuple[Platform, UiClient], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform, client = ui
    wheels = tmp_path / "wheels"
    build_wheel(wheels, "lh-shouty", "1.2.0", {"lh_shouty/__init__.py": "def shout(w):\n    return w.upper() + '!!'\n"})
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip's own variables reach the server's pip, as docs/packaging.md says
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    app = "import lh_shouty\ndef handler(event, context):\n    return lh_shouty.shout('dep')\n"
    folder = [("fn/lambda_function.py", app.encode()), ("fn/requirements.txt", b"lh-shouty==1.2.0\n")]
    page = client.post_multipart("/ui/functions", fields("web-deps"), {"package_files": folder})
    assert page.status == 303, page.text
    assert platform.invoker.invoke("web-deps", b"{}").payload == b'"DEP!!"'

    # a requirement pip cannot find: pip's words next to the package field, nothing created
    folder = [("fn/lambda_function.py", app.encode()), ("fn/requirements.txt", b"lh-missing==9\n")]
    page = client.post_multipart("/ui/functions", fields("web-nodeps"), {"package_files": folder})
    assert page.status == 400
    assert re.search(r'id="error-package">[^<]*lh-missing', page.text)
    assert 'id="package-progress"' in page.text  # what packaging did before it failed
    assert client.get("/ui/functions/web-nodeps").status == 404


def test_unsafe_or_ambiguous_packages_are_refused(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    escape = [("fn/../../evil.py", b"x"), ("fn/lambda_function.py", APP.encode())]
    page = client.post_multipart("/ui/functions", fields("web-evil"), {"package_files": escape})
    assert page.status == 400 and re.search(r'id="error-package">[^<]*unsafe path', page.text)
    both = {"package": ("fn.zip", zipped({"lambda_function.py": APP})), "package_files": [("a.py", b"")]}
    page = client.post_multipart("/ui/functions", fields("web-both"), both)
    assert page.status == 400 and re.search(r'id="error-package">Give a zip or a folder', page.text)
    for name in ("web-evil", "web-both"):
        assert client.get(f"/ui/functions/{name}").status == 404


def test_a_save_is_all_or_nothing(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    package = {"package": ("fn.zip", zipped({"lambda_function.py": "def handler(e, c):\n    return 1\n"}))}
    assert client.post_multipart("/ui/functions", fields("web-atomic"), package).status == 303
    before = platform.functions.get("web-atomic")
    new_code = {"package": ("fn.zip", zipped({"lambda_function.py": "def handler(e, c):\n    return 2\n"}))}
    over = str(platform.settings.max_concurrency)  # leaves the account less than its unreserved minimum
    edit = {"runtime": "python3.11", "handler": HANDLER, "memory": "512", "timeout": "9", "environment": "AB=1",
            "concurrency": over, "lanes": "2"}  # fmt: skip
    page = client.post_multipart("/ui/functions/web-atomic/edit", edit, new_code)
    assert page.status == 400 and re.search(r'id="error-concurrency">[^<]*UnreservedConcurrentExecution', page.text)
    page = client.post_multipart("/ui/functions/web-atomic/edit", {**edit, "concurrency": "", "lanes": "0"}, new_code)
    assert page.status == 400 and 'id="error-lanes"' in page.text
    bad_handler = {**edit, "concurrency": "", "handler": "x y"}
    page = client.post_multipart("/ui/functions/web-atomic/edit", bad_handler, new_code)
    assert page.status == 400 and 'id="error-handler"' in page.text
    assert platform.functions.get("web-atomic") == before  # not the memory, not the code, not the limits
    assert platform.invoker.invoke("web-atomic", b"{}").payload == b"1"

    page = client.post_multipart("/ui/functions/web-atomic/edit", {**edit, "concurrency": "4"}, new_code)
    assert page.status == 303
    after = platform.functions.get("web-atomic")
    assert (after.memory_mb, after.timeout_s, after.environment) == (512, 9, {"AB": "1"})
    assert (after.reserved_concurrency, after.lanes) == (4, (2,))
    assert platform.invoker.invoke("web-atomic", b"{}").payload == b"2"

    # created with its limits in one go; refused limits create nothing
    created = fields("web-atomic-new", concurrency="2", lanes="3, 1")
    assert client.post_multipart("/ui/functions", created, package).status == 303
    config = platform.functions.get("web-atomic-new")
    assert (config.reserved_concurrency, config.lanes) == (2, (3, 1))
    page = client.post_multipart("/ui/functions", fields("web-atomic-no", concurrency=over), package)
    assert page.status == 400 and 'id="error-concurrency"' in page.text
    assert client.get("/ui/functions/web-atomic-no").status == 404


def test_each_parameter_rows_error_is_shown_under_it(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    rows = {
        "param_name_0": "threshold", "param_type_0": "number", "param_default_0": "lots",
        "param_name_1": "label", "param_type_1": "string", "param_default_1": "ok",
        "param_name_2": "", "param_type_2": "string",
        "param_name_3": "label", "param_type_3": "string",
        "param_name_4": "9bad", "param_type_4": "string",
    }  # fmt: skip
    package = {"package": ("fn.zip", zipped({"lambda_function.py": APP}))}
    page = client.post_multipart("/ui/functions", {**fields("web-params"), **rows}, package)
    assert page.status == 400
    errors = dict(re.findall(r'id="error-param-(\d+)">([^<]*)<', page.text))
    # the blank row is dropped from the table, so the rows shown are 0, 1, 2 (label again) and 3 (9bad)
    assert sorted(errors) == ["0", "2", "3"]
    assert "&#39;lots&#39; is not a number" in errors["0"]
    assert "declared more than once" in errors["2"]
    assert "Invalid parameter name" in errors["3"]
    assert 'value="lots"' in page.text  # what was typed stays
    assert client.get("/ui/functions/web-params").status == 404
    assert platform.store.get_function("web-params") is None


def test_the_forms_limits(ui: tuple[Platform, UiClient]) -> None:
    _platform, client = ui
    too_many = [(f"fn/f{i}.py", b"") for i in range(MAX_FILES + 1)]
    page = client.post_multipart("/ui/functions", fields("web-many"), {"package_files": too_many})
    assert page.status == 400 and "Too many files" in page.text
    huge = client.request(
        "POST",
        "/ui/functions",
        b"x" * 64,
        {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(10**10)},
    )
    assert huge.status == 413
    assert client.get("/ui/functions/web-many").status == 404


def test_the_runtime_choices_are_the_pythons_this_machine_has(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    available = platform.available_runtimes()
    page = client.get("/ui/new")
    options = re.findall(r'<option value="(python3\.\d+)"[^>]*>([^<]*)</option>', page.text)
    assert options == [(i.runtime, f"{i.runtime} (Python {i.version})") for i in available]
    assert len(options) >= 2, "this machine (and CI) has more than the platform's own Python"

    # a function of a runtime this machine lacks keeps it on edit, marked
    package = {"package": ("fn.zip", zipped({"lambda_function.py": "def handler(e, c):\n    return 1\n"}))}
    assert client.post_multipart("/ui/functions", fields("web-py38", runtime="python3.8"), package).status == 303
    edit = client.get("/ui/functions/web-py38/edit").text
    assert re.search(r'<option value="python3\.8" selected>python3\.8 \(not on this machine', edit)


def test_the_function_page_says_which_python_runs_it(ui: tuple[Platform, UiClient]) -> None:
    platform, client = ui
    package = {"package": ("fn.zip", zipped({"lambda_function.py": "def handler(e, c):\n    return 1\n"}))}
    assert client.post_multipart("/ui/functions", fields("web-own"), package).status == 303
    own = platform.functions.runs_on("python3.11")
    page = client.get("/ui/functions/web-own").text
    assert f'id="runtime">python3.11 <span class="muted">Python {own.version}</span>' in page
    assert client.post_multipart("/ui/functions", fields("web-old", runtime="python3.8"), package).status == 303
    page = client.get("/ui/functions/web-old").text
    assert re.search(r"id=\"runtime\">python3\.8 <span class=\"error\">not on this machine: runs on the platform", page)
