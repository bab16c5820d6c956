"""The in-memory fake of ``ArtifactStore`` (a mixin of ``InMemoryStore``), with the SQL stores' semantics."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from lambdahost.core.artifacts import ArtifactFile, ArtifactInfo
from lambdahost.storage.artifacts_sql import artifact_info, artifact_order


class ArtifactMemoryStore:
    _lock: threading.Lock

    def _init_artifacts(self) -> None:
        self._artifacts: dict[tuple[str, str], tuple[ArtifactInfo, bytes]] = {}
        self._input_artifacts: dict[str, tuple[bytes, float]] = {}

    def put_artifacts(
        self, invocation_id: str, files: Sequence[ArtifactFile], now: float, expires_at: float
    ) -> list[ArtifactInfo]:
        infos = [artifact_info(invocation_id, file, now, expires_at) for file in files]
        with self._lock:
            for info, file in zip(infos, files, strict=True):
                self._artifacts[(invocation_id, info.name)] = (info, file.content)
        return sorted(infos, key=artifact_order)

    def list_artifacts(self, invocation_id: str) -> list[ArtifactInfo]:
        with self._lock:
            found = [info for (owner, _), (info, _) in self._artifacts.items() if owner == invocation_id]
        return sorted(found, key=artifact_order)

    def get_artifact(self, invocation_id: str, name: str) -> tuple[ArtifactInfo, bytes] | None:
        with self._lock:
            return self._artifacts.get((invocation_id, name))

    def put_input_artifact(self, sha256: str, content: bytes, now: float, expires_at: float) -> None:
        with self._lock:
            current = self._input_artifacts.get(sha256)
            if current is None:
                self._input_artifacts[sha256] = (content, expires_at)
            elif current[1] < expires_at:
                self._input_artifacts[sha256] = (current[0], expires_at)

    def get_input_artifact(self, sha256: str) -> bytes | None:
        with self._lock:
            found = self._input_artifacts.get(sha256)
        return None if found is None else found[0]

    def delete_expired_artifacts(self, now: float) -> int:
        with self._lock:
            gone = [key for key, (info, _) in self._artifacts.items() if info.expires_at <= now]
            inputs = [key for key, (_, expires) in self._input_artifacts.items() if expires <= now]
            for key in gone:
                del self._artifacts[key]
            for sha in inputs:
                del self._input_artifacts[sha]
        return len(gone) + len(inputs)
