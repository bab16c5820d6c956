"""A function package from a folder: its ``requirements.txt`` vendored (or taken from the dependency cache), then
the deterministic zip. One path for ``lambdahost package``/``deploy`` and for a folder dropped on the web UI, so
both make the same bytes of the same files. Progress goes to ``report``; a pip failure is ``VendoringFailed``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from lambdahost.code.packaging import (
    REQUIREMENTS_FILE,
    Package,
    Target,
    build_package,
    limit_warnings,
    lists_requirements,
)
from lambdahost.code.vendoring import default_cache_dir, vendor

Report = Callable[[str], None]


def package_folder(
    folder: Path,
    target: Target,
    *,
    report: Report,
    pip_args: Sequence[str] = (),
    cache_dir: Path | None = None,
    refresh: bool = False,
    leave_out: Sequence[Path] = (),
) -> Package:
    """The package of ``folder`` for ``target``: its requirements vendored (or from the cache), then the zip."""
    dependencies = None
    requirements = folder / REQUIREMENTS_FILE
    if requirements.is_file():
        if lists_requirements(requirements.read_text(encoding="utf-8", errors="replace")):
            vendored = vendor(
                requirements,
                target,
                cache_dir=cache_dir or default_cache_dir(),
                pip_args=pip_args,
                refresh=refresh,
                report=report,
            )
            listed = ", ".join(vendored.distributions) or "nothing"
            how = "from the cache" if vendored.from_cache else f"installed in {vendored.seconds:.1f} s, cached"
            report(f"dependencies ({how}): {listed}")
            dependencies = vendored.path
        else:
            report(f"{REQUIREMENTS_FILE} lists no requirements; nothing to vendor")
    package = build_package(folder, dependencies, leave_out)
    for name in package.overridden:
        report(f"note: {name} of the folder replaces the dependency's file of that name")
    for warning in limit_warnings(package):
        report(f"warning: {warning}")
    return package
