"""Runtime hooks for snapshot mode, with the interface of AWS's ``snapshot_restore_py`` library (which AWS's
Python managed runtimes include for SnapStart).

``register_before_snapshot`` hooks run in the snapshot template after init, before environments are forked from
it (in reverse order of registration); ``register_after_restore`` hooks run in every environment forked from it,
before its first invocation (in order of registration). Both work as decorators. Outside snapshot mode the hooks
are registered and never run, as on AWS without SnapStart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

_before_snapshot: list[Hook] = []
_after_restore: list[Hook] = []


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    _before_snapshot.append((func, args, kwargs))
    return func


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    _after_restore.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return _before_snapshot


def get_after_restore() -> list[Hook]:
    return _after_restore
