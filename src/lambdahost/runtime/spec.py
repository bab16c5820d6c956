"""Parent-side value types: what an environment is built from, what an invocation asks, what it returned."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EnvironmentSpec:
    """Everything needed to start environments of one function version. ``key`` identifies its warm pool:
    environments are reused only for the same key, so any change of code or configuration retires them."""

    function_name: str
    version: str
    revision_id: str
    handler: str
    code_dir: str
    memory_mb: int
    timeout_s: float
    ephemeral_mb: int
    env: dict[str, str] = field(default_factory=dict)
    snapshot: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.function_name, self.version, self.revision_id)


@dataclass(frozen=True)
class InvokeRequest:
    request_id: str
    payload: bytes
    invoked_function_arn: str
    client_context: dict[str, Any] | None = None
    cognito_identity: dict[str, Any] | None = None


class Outcome(enum.StrEnum):
    OK = "ok"
    ERROR = "error"  # handled by the runtime: unhandled exception, marshal error, oversized response
    INIT_ERROR = "init_error"
    TIMEOUT = "timeout"
    CRASH = "crash"
    OUT_OF_MEMORY = "oom"


@dataclass(frozen=True)
class LogParts:
    """What an invocation's log is made of; rendered (START, output, END, REPORT) only when someone reads it,
    which keeps string building off the invoke path."""

    prefix: str
    body: bytes
    limit: int
    suffix: str
    request_id: str
    version: str
    duration_ms: float
    memory_mb: int
    max_memory_mb: int
    init_duration_ms: float | None
    status: str | None
    error_type: str | None

    def render(self) -> tuple[str, bool]:
        from lambdahost.runtime import logs

        captured, truncated = logs.bound(self.body, self.limit)
        text = (
            self.prefix
            + logs.start_line(self.request_id, self.version)
            + captured
            + self.suffix
            + logs.end_line(self.request_id)
            + logs.report_line(
                self.request_id,
                self.duration_ms,
                self.memory_mb,
                self.max_memory_mb,
                self.init_duration_ms,
                self.status,
                self.error_type,
            )
        )
        return text, truncated


@dataclass(frozen=True)
class InvokeOutcome:
    """What one invocation produced. ``payload`` is the result JSON or the AWS error JSON."""

    request_id: str
    outcome: Outcome
    payload: bytes
    error_type: str | None
    error_message: str | None
    log_parts: LogParts
    duration_ms: float
    billed_duration_ms: int
    memory_mb: int
    max_memory_mb: int
    init_duration_ms: float | None
    started_at: float
    finished_at: float

    @functools.cached_property
    def _rendered(self) -> tuple[str, bool]:
        return self.log_parts.render()

    @property
    def log(self) -> str:
        """The whole log: platform lines around everything the function wrote (bounded)."""
        return self._rendered[0]

    @property
    def log_truncated(self) -> bool:
        return self._rendered[1]

    @property
    def function_error(self) -> str | None:
        """``X-Amz-Function-Error``: ``Unhandled`` for any failure, None on success."""
        return None if self.outcome is Outcome.OK else "Unhandled"
