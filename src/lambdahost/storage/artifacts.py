"""The storage port of artifacts, which ``Store`` inherits.

Output artifacts: rows of ``artifacts`` keyed by (invocation id, name), each with its bytes, so every node can
serve them (as code packages' bytes are kept). Input artifacts: rows of ``input_artifacts`` keyed by the content's
SHA-256. Implemented once for SQL (``artifacts_sql.ArtifactSqlStore``) and once for the in-memory fake
(``artifacts_memory``); ``tests/integration/test_store_contract_artifacts.py`` covers all three.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from lambdahost.core.artifacts import ArtifactFile, ArtifactInfo


class ArtifactStore(abc.ABC):
    """Durable artifacts."""

    @abc.abstractmethod
    def put_artifacts(
        self, invocation_id: str, files: Sequence[ArtifactFile], now: float, expires_at: float
    ) -> list[ArtifactInfo]:
        """Store an invocation's output files in one transaction (a file of the same name replaces the old one)."""

    @abc.abstractmethod
    def list_artifacts(self, invocation_id: str) -> list[ArtifactInfo]:
        """An invocation's unexpired-or-not-yet-swept artifacts, ordered by name (byte-wise)."""

    @abc.abstractmethod
    def get_artifact(self, invocation_id: str, name: str) -> tuple[ArtifactInfo, bytes] | None: ...

    @abc.abstractmethod
    def put_input_artifact(self, sha256: str, content: bytes, now: float, expires_at: float) -> None:
        """Store an input file's bytes by their hash; storing the same bytes again extends their expiry."""

    @abc.abstractmethod
    def get_input_artifact(self, sha256: str) -> bytes | None: ...

    @abc.abstractmethod
    def delete_expired_artifacts(self, now: float) -> int:
        """Delete output and input artifacts with ``expires_at <= now``; how many rows went."""
