"""Loading the bundled example functions in-process, as the runtime does: the example's directory on
``sys.path`` and its ``app`` module imported (under a name of its own, so several examples' ``app`` coexist)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import lambdahost

EXAMPLES = Path(lambdahost.__file__).resolve().parent / "examples"


def load_example(name: str) -> ModuleType:
    directory = EXAMPLES / name
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    module_name = f"example_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, directory / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
