"""``CodeStore``: code packages on this machine's disk, content-addressed by the sha256 of the zip.

Layout under ``root``::

    packages/<sha>.zip    the bytes, written to a temp file and ``os.replace``d into place
    code/<sha>/           the unpacked tree, read-only, built in a temp dir beside it and ``os.rename``d in

Both renames are atomic, so another thread or process sees a package completely or not at all. Each sha is
unpacked once: in-process callers queue on a per-sha lock and find the work done; across processes the first
rename wins and the loser deletes its identical copy. Temp names start with ``.`` and end in ``.tmp``. Any
rejection removes whatever this call created, so a refused upload leaves nothing on disk.

The unpacked tree is a cache of the zip: it is not fsynced (the zip is), and ``remove`` drops both.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from lambdahost.code.limits import DEFAULT_LIMITS, ZipLimits
from lambdahost.code.manifest import ZipManifest, read_manifest
from lambdahost.code.unpack import remove_tree, unpack
from lambdahost.code.validate import package_of, validate_zip
from lambdahost.core.errors import InvalidParameterValue, ResourceNotFound, ServiceError
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.model import CodePackage

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_TEMP_SUFFIX = ".tmp"
_LOCK_STRIPES = 64

Fetch = Callable[[], bytes | None]


class CodeNotFound(ResourceNotFound):
    """The package is not on this machine and ``fetch`` could not supply it."""


class CodeIntegrityError(ServiceError):
    """Bytes fetched for a sha256 do not hash to it (a corrupt store or transfer, never the user's fault)."""


class CodeStore:
    def __init__(self, root: Path, *, limits: ZipLimits = DEFAULT_LIMITS, clock: Clock = wall_clock) -> None:
        self.root = Path(root)
        self.limits = limits
        self._clock = clock
        self._packages = self.root / "packages"
        self._code = self.root / "code"
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    def add(self, data: bytes) -> CodePackage:
        """Validate ``data``, keep the zip and its unpacked tree; the same bytes always map to one package."""
        manifest = read_manifest(data, self.limits)
        with self._lock(manifest.sha256_hex):
            self._materialize(data, manifest)
        return package_of(manifest, self._clock())

    def validate(self, data: bytes) -> CodePackage:
        """The verdict ``add`` would give, without writing anything (e.g. for a DryRun)."""
        return validate_zip(data, self.limits, clock=self._clock)

    def ensure(self, sha256_hex: str, fetch: Fetch) -> Path:
        """The unpacked tree for ``sha256_hex``; calls ``fetch`` for the zip only if this machine lacks it."""
        target = self.code_dir(sha256_hex)
        if target.is_dir():
            return target
        with self._lock(sha256_hex):
            if target.is_dir():
                return target
            data = self._local_zip(sha256_hex)
            if data is None:
                data = fetch()
                if data is None:
                    raise CodeNotFound(f"Code package {sha256_hex} is not on this machine and could not be fetched.")
                actual = hashlib.sha256(data).hexdigest()
                if actual != sha256_hex:
                    raise CodeIntegrityError(
                        f"Fetched code for package {sha256_hex} hashes to {actual}; refusing to use it."
                    )
            self._materialize(data, read_manifest(data, self.limits))
        return target

    def code_dir(self, sha256_hex: str) -> Path:
        """Where the package's tree is (or would be) unpacked."""
        return self._code / _checked(sha256_hex)

    def zip_path(self, sha256_hex: str) -> Path:
        return self._packages / f"{_checked(sha256_hex)}.zip"

    def has(self, sha256_hex: str) -> bool:
        """Whether the package is unpacked on this machine."""
        return self.code_dir(sha256_hex).is_dir()

    def read(self, sha256_hex: str) -> bytes | None:
        """The zip's bytes, when this machine has them (e.g. to serve another machine's ``fetch``)."""
        try:
            return self.zip_path(sha256_hex).read_bytes()
        except FileNotFoundError:
            return None

    def remove(self, sha256_hex: str) -> None:
        """Drop the zip and the tree. Processes already running from the tree keep their open files."""
        target = self.code_dir(sha256_hex)
        with self._lock(sha256_hex):
            self.zip_path(sha256_hex).unlink(missing_ok=True)
            if target.is_dir():
                doomed = target.with_name(f".{sha256_hex}.{uuid.uuid4().hex}{_TEMP_SUFFIX}")
                os.rename(target, doomed)  # gone for everyone at once, then deleted at leisure
                remove_tree(doomed)

    def sweep(self, older_than_s: float = 3600.0) -> int:
        """Delete temp files and dirs a crashed process left behind; returns how many were removed."""
        cutoff = time.time() - older_than_s
        removed = 0
        for folder in (self._packages, self._code):
            if not folder.is_dir():
                continue
            for path in folder.glob(f".*{_TEMP_SUFFIX}"):
                try:
                    if path.lstat().st_mtime >= cutoff:
                        continue
                    if path.is_dir():
                        remove_tree(path)
                    else:
                        path.unlink()
                except FileNotFoundError:
                    continue  # another process swept it first
                removed += 1
        return removed

    def _materialize(self, data: bytes, manifest: ZipManifest) -> None:
        """Put the zip and its tree in place (whichever is missing); on any failure remove what this made."""
        sha = manifest.sha256_hex
        zip_path, target = self.zip_path(sha), self.code_dir(sha)
        temp_zip: Path | None = None
        temp_dir: Path | None = None
        try:
            if not zip_path.is_file():
                temp_zip = self._write_temp_zip(data, sha)
            if not target.is_dir():
                self._code.mkdir(parents=True, exist_ok=True)
                temp_dir = Path(tempfile.mkdtemp(prefix=f".{sha}.", suffix=_TEMP_SUFFIX, dir=self._code))
                unpack(data, manifest, temp_dir, self.limits)
            if temp_zip is not None:
                os.replace(temp_zip, zip_path)
                temp_zip = None
            if temp_dir is not None:
                _rename_into_place(temp_dir, target)
                temp_dir = None
        finally:
            if temp_zip is not None:
                temp_zip.unlink(missing_ok=True)
            if temp_dir is not None:
                remove_tree(temp_dir)

    def _write_temp_zip(self, data: bytes, sha: str) -> Path:
        self._packages.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{sha}.", suffix=_TEMP_SUFFIX, dir=self._packages)
        path = Path(name)
        try:
            with open(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(path, 0o444)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def _local_zip(self, sha: str) -> bytes | None:
        """This machine's copy of the zip, if it has an intact one (a corrupt copy is deleted)."""
        data = self.read(sha)
        if data is not None and hashlib.sha256(data).hexdigest() != sha:
            self.zip_path(sha).unlink(missing_ok=True)
            return None
        return data

    def _lock(self, sha: str) -> threading.Lock:
        return self._locks[int(_checked(sha)[:8], 16) % _LOCK_STRIPES]


def _rename_into_place(temp_dir: Path, target: Path) -> None:
    try:
        os.rename(temp_dir, target)
    except OSError:
        if not target.is_dir():
            raise
        remove_tree(temp_dir)  # another process won the race with an identical tree


def _checked(sha256_hex: str) -> str:
    if not _SHA_RE.match(sha256_hex):
        raise InvalidParameterValue(f"{sha256_hex!r} is not a code package id (64 lowercase hex digits).")
    return sha256_hex
