"""Tiny wheels built in a test, so vendoring runs pip for real without a network (``--no-index --find-links``).

A wheel is a zip in a documented layout (PEP 427, the binary distribution format): the package's files, a
``<dist>-<version>.dist-info/`` with METADATA, WHEEL and RECORD (every file's sha256), and optionally
``<dist>-<version>.data/scripts/`` for console scripts. Writing it directly keeps the tests offline and fast: this
machine's build tools (setuptools without ``wheel``) cannot ``pip wheel`` without downloading a build backend.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, str],
    *,
    tag: str = "py3-none-any",
    requires: Sequence[str] = (),
    scripts: Mapping[str, str] | None = None,
) -> Path:
    """Write ``<name>-<version>-<tag>.whl`` into ``directory`` holding ``files`` (path in site-packages -> text)."""
    directory.mkdir(parents=True, exist_ok=True)
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    purelib = "true" if tag.endswith("-none-any") else "false"
    contents = dict(files)
    for script, text in (scripts or {}).items():
        contents[f"{dist}-{version}.data/scripts/{script}"] = text
    contents[f"{info}/METADATA"] = metadata
    contents[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: lambdahost-tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    )
    record = [f"{path},sha256={_digest(text.encode())},{len(text.encode())}" for path, text in contents.items()]
    contents[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    path = directory / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in contents.items():
            archive.writestr(member, text)
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
