"""The function code and helpers shared by the runtime integration tests."""

from __future__ import annotations

import uuid
from pathlib import Path

from lambdahost.runtime.spec import EnvironmentSpec

APP = """
import json, os, sys, time, subprocess, ctypes
print("init says hi")
COUNTER = 0

def handler(event, context):
    global COUNTER
    COUNTER += 1
    action = event.get("action")
    if action == "echo":
        return event
    if action == "count":
        return COUNTER
    if action == "context":
        return {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "client_context": None if context.client_context is None else context.client_context.custom,
            "env": {k: v for k, v in os.environ.items()},
            "cwd": os.getcwd(),
        }
    if action == "raise":
        raise ValueError("boom")
    if action == "sleep":
        time.sleep(event["seconds"])
        return "slept"
    if action == "exit":
        sys.exit(event.get("code", 1))
    if action == "hard_exit":
        os._exit(event.get("code", 7))
    if action == "segfault":
        ctypes.string_at(0)
    if action == "allocate":
        blob = bytearray(event["mb"] * 1024 * 1024)
        for i in range(0, len(blob), 4096):
            blob[i] = 1
        time.sleep(0.5)
        return len(blob)
    if action == "unserialisable":
        return {1, 2}
    if action == "huge":
        return "x" * (6 * 1024 * 1024 + 100)
    if action == "print":
        print("from print")
        sys.stderr.write("from stderr\\n")
        os.write(1, b"from fd 1\\n")
        subprocess.run(["sh", "-c", "echo from child process"], check=True)
        return "printed"
    if action == "write_code":
        with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "new.txt"), "w") as fh:
            fh.write("x")
        return "wrote"
    if action == "write_tmp":
        import tempfile
        with tempfile.NamedTemporaryFile(delete=False) as fh:
            fh.write(b"data")
        return fh.name
    if action == "log_spam":
        sys.stdout.write("y" * event["bytes"])
        return "spammed"
    return "ok"
"""


def write_code(root: Path) -> Path:
    """The test functions' code in ``root``."""
    (root / "app.py").write_text(APP)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text("def func(event, context):\n    return 'nested'\n")
    (root / "syntax_bad.py").write_text("def broken(:\n")
    (root / "import_bad.py").write_text("import not_a_module_anywhere\n")
    (root / "raises_at_import.py").write_text("raise RuntimeError('init failed')\n")
    (root / "exits_at_import.py").write_text("import sys\nsys.exit(3)\n")
    (root / "no_handler.py").write_text("x = 1\n")
    return root


def spec(
    code_dir: Path,
    handler: str = "app.handler",
    timeout: float = 3.0,
    memory: int = 128,
    revision: str | None = None,
    **env: str,
) -> EnvironmentSpec:
    return EnvironmentSpec(
        function_name="fn",
        version="$LATEST",
        revision_id=revision or uuid.uuid4().hex,
        handler=handler,
        code_dir=str(code_dir),
        memory_mb=memory,
        timeout_s=timeout,
        ephemeral_mb=512,
        env={
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "LAMBDA_TASK_ROOT": str(code_dir),
            **env,
        },
    )
