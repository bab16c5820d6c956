"""The bundled example functions (``lambdahost/examples``), deployed by ``serve --example`` (the quick start):
``hello``, and the tasks performance engineers keep: ``jtl-report`` (a JMeter JTL to an Excel workbook and an HTML
report) and ``anomaly-detect`` (response-time spikes and throughput drops). ``docs/examples.md`` describes their
events.

``jtl-report`` needs openpyxl, which lambdahost installs as a dependency of its own for this example: functions run on
the platform's interpreter and find it there, so the quick start needs no pip run and no network. (``scheduled-digest``
needs boto3 and a schedule of the user's choosing: ``lambdahost deploy`` it, see docs/examples.md.)"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdahost.server import Platform

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


@dataclass(frozen=True)
class Example:
    name: str
    folder: str
    description: str
    timeout_s: int = 3
    memory_mb: int = 128

    def configuration(self) -> dict[str, Any]:
        return {
            "Runtime": f"python{sys.version_info.major}.{sys.version_info.minor}",
            "Handler": "app.handler",
            "Description": self.description,
            "Timeout": self.timeout_s,
            "MemorySize": self.memory_mb,
        }


EXAMPLES = (
    Example("hello", "hello", "lambdahost's example: greets event['name']."),
    Example(
        "jtl-report",
        "jtl_report",
        'A JMeter JTL to per-label statistics, an Excel workbook and an HTML report (event: {"jtl": PATH}).',
        timeout_s=300,
        memory_mb=512,
    ),
    Example(
        "anomaly-detect",
        "anomaly_detect",
        'Response-time spikes and throughput drops in a JTL or a series (event: {"jtl": PATH}).',
        timeout_s=120,
        memory_mb=256,
    ),
)
EXAMPLE_NAME = EXAMPLES[0].name  # the one the quick start invokes


def deploy_example(platform: Platform) -> str:
    """Create each example, or update its code and configuration when it exists; returns what was done ("deployed"
    when ``hello`` was created, else "updated")."""
    verbs = [_deploy(platform, example) for example in EXAMPLES]
    return verbs[0]


def _deploy(platform: Platform, example: Example) -> str:
    from lambdahost.code.folder import read_code_arg
    from lambdahost.core.errors import ResourceNotFound

    code = read_code_arg(EXAMPLES_DIR / example.folder)
    functions = platform.functions
    try:
        functions.get(example.name)
    except ResourceNotFound:
        functions.create({"FunctionName": example.name, "Code": {"ZipFile": code}, **example.configuration()})
        return "deployed"
    functions.update_code(example.name, {"ZipFile": code})
    functions.update_configuration(example.name, example.configuration())
    return "updated"
