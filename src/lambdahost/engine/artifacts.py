"""``Artifacts``: the files kept with invocations and the files handed to them.

Output artifacts: every environment has an output directory (``LAMBDAHOST_OUTPUT_DIR``, inside its writable temp
directory); after each invocation the runtime collects what the function left there (``runtime/outputs.py``,
bounded by ``core/artifacts.MAX_FILES``/``MAX_BYTES``) and empties it, and ``save`` stores the files with the
invocation id (the sync path from the recorder's thread, the async path from the worker). They expire after
``Settings.artifact_retention_s``; ``sweep`` (run by the queue worker's loop, at most once a minute) deletes them.

Input artifacts (a ``file`` parameter): ``put_input`` stores the bytes in the store by their SHA-256 (so every
node can fetch them) and returns an ``ArtifactRef``; ``input_path`` materializes them once per node as
``<data dir>/inputs/<sha256>/<filename>``, read-only (mode 0444, and outside what the sandbox lets a function
write), and returns that path for the function's event.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lambdahost.core.artifacts import (
    DEFAULT_RETENTION_S,
    MAX_INPUT_BYTES,
    ArtifactFile,
    ArtifactInfo,
    ArtifactRef,
    check_artifact_name,
    check_filename,
    check_sha256,
)
from lambdahost.core.errors import InvalidParameterValue, RequestTooLarge, ResourceNotFound
from lambdahost.storage.base import Store

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 60.0


class Artifacts:
    def __init__(
        self,
        store: Store,
        data_dir: Path,
        retention_s: float = DEFAULT_RETENTION_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.inputs_dir = Path(data_dir) / "inputs"
        self.retention_s = retention_s
        self._clock = clock
        self._last_sweep = 0.0
        # every minute, or more often when artifacts live only briefly
        self.sweep_interval_s = min(SWEEP_INTERVAL_S, retention_s / 10)

    # Input artifacts (for the parameters' ``file`` type)

    def put_input(self, data: bytes, filename: str) -> ArtifactRef:
        """Store an input file; the reference an event can carry (``input_path`` turns it into a path)."""
        check_filename(filename)
        if len(data) > MAX_INPUT_BYTES:
            raise RequestTooLarge(f"Input file {filename!r} is {len(data)} bytes, over the {MAX_INPUT_BYTES} limit.")
        digest = hashlib.sha256(data).hexdigest()
        now = self._clock()
        self.store.put_input_artifact(digest, data, now, now + self.retention_s)
        return ArtifactRef(digest, filename, len(data))

    def input_path(self, ref: ArtifactRef) -> str:
        """The path of an input file on this node, readable by functions and not writable by them (written
        from the store on first use)."""
        check_sha256(ref.sha256)
        check_filename(ref.filename)
        folder = self.inputs_dir / ref.sha256
        path = folder / ref.filename
        if path.is_file():
            return str(path)
        data = self.store.get_input_artifact(ref.sha256)
        if data is None:
            raise ResourceNotFound(f"Input file {ref.filename!r} ({ref.sha256}) not found (expired?).")
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(temp, 0o444)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return str(path)

    # Output artifacts

    def save(self, invocation_id: str, files: tuple[ArtifactFile, ...]) -> list[ArtifactInfo]:
        """Store an invocation's collected output files (nothing when there are none). Never raises: a store
        error is logged, the invocation's own record is not affected."""
        if not files:
            return []
        now = self._clock()
        try:
            return self.store.put_artifacts(invocation_id, files, now, now + self.retention_s)
        except Exception:
            log.exception("storing the artifacts of invocation %s failed", invocation_id)
            return []

    def list(self, invocation_id: str) -> list[ArtifactInfo]:
        return self.store.list_artifacts(invocation_id)

    def read(self, invocation_id: str, name: str) -> tuple[ArtifactInfo, bytes]:
        check_artifact_name(name)
        found = self.store.get_artifact(invocation_id, name)
        if found is None:
            raise ResourceNotFound(f"Invocation {invocation_id} has no artifact {name!r}.")
        return found

    # Retention

    def sweep(self, now: float | None = None) -> int:
        """Delete expired artifacts (output and input rows), and this node's copies of input files written more
        than the retention ago; how many rows went."""
        now = self._clock() if now is None else now
        self._last_sweep = now
        deleted = self.store.delete_expired_artifacts(now)
        try:
            folders = list(os.scandir(self.inputs_dir))
        except FileNotFoundError:
            folders = []
        for folder in folders:
            try:
                if folder.is_dir(follow_symlinks=False) and folder.stat().st_mtime <= now - self.retention_s:
                    shutil.rmtree(folder.path, ignore_errors=True)
            except OSError:
                continue
        return deleted

    def maybe_sweep(self) -> int:
        """``sweep`` at most every ``sweep_interval_s``: for a periodic loop. Never raises."""
        now = self._clock()
        if now - self._last_sweep < self.sweep_interval_s:
            return 0
        try:
            return self.sweep(now)
        except Exception:
            log.exception("sweeping expired artifacts failed")
            return 0


def parse_ref(value: object) -> ArtifactRef:
    """An ``ArtifactRef`` from its JSON form ``{"sha256", "filename", "size"}``."""
    if not isinstance(value, dict):
        raise InvalidParameterValue("An input file reference is an object with sha256, filename and size.")
    try:
        return ArtifactRef(
            check_sha256(str(value["sha256"])), check_filename(str(value["filename"])), int(value["size"])
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidParameterValue("An input file reference is an object with sha256, filename and size.") from None
