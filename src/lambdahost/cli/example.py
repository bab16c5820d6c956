"""The bundled example function ``hello`` (``lambdahost/examples/hello``), deployed by ``serve --example``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdahost.server import Platform

EXAMPLE_NAME = "hello"
EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "examples" / "hello"


def example_configuration() -> dict[str, Any]:
    return {
        "Runtime": f"python{sys.version_info.major}.{sys.version_info.minor}",
        "Handler": "app.handler",
        "Description": "lambdahost's example: greets event['name'].",
        "Timeout": 3,
    }


def deploy_example(platform: Platform) -> str:
    """Create ``hello``, or update its code and configuration when it exists; returns what was done."""
    from lambdahost.code.folder import read_code_arg
    from lambdahost.core.errors import ResourceNotFound

    code = read_code_arg(EXAMPLE_DIR)
    functions = platform.functions
    try:
        functions.get(EXAMPLE_NAME)
    except ResourceNotFound:
        functions.create({"FunctionName": EXAMPLE_NAME, "Code": {"ZipFile": code}, **example_configuration()})
        return "deployed"
    functions.update_code(EXAMPLE_NAME, {"ZipFile": code})
    functions.update_configuration(EXAMPLE_NAME, example_configuration())
    return "updated"
