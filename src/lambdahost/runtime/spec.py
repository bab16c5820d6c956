"""Parent-side value types: what an environment is built from, what an invocation asks, what it returned."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from lambdahost.core.artifacts import Collected
from lambdahost.core.errors import LambdaHostError
from lambdahost.core.secrets import Masker
from lambdahost.runtime import logs


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
    env: dict[str, str] = field(default_factory=dict, repr=False)  # may hold secret values: never in a repr
    snapshot: bool = False
    interpreter: str | None = None  # the Python that runs it (an executable's path); None: the platform's own
    # Secrets (engine/secrets.py): the values given to the environment, masked in every outcome; which values
    # (part of the key: environments holding older ones never serve this spec); why none may start (a reference
    # to a missing secret), raised instead.
    masker: Masker | None = None
    secrets_version: str = ""
    refused: LambdaHostError | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        if self.secrets_version:
            return (self.function_name, self.version, f"{self.revision_id}/{self.secrets_version}")
        return (self.function_name, self.version, self.revision_id)


@dataclass(slots=True)
class InvokeRequest:
    request_id: str
    payload: bytes
    invoked_function_arn: str
    client_context: dict[str, Any] | None = None
    cognito_identity: dict[str, Any] | None = None
    trace: str | None = None  # the X-Amzn-Trace-Id the function runs under (its _X_AMZN_TRACE_ID)
    # secret values this invocation's event was given (resolved parameters or overrides), masked in its outcome
    # with the spec's: ``Secrets.resolve_text`` gives the values, ``Masker.of`` the masker
    masker: Masker | None = None


class Outcome(enum.StrEnum):
    OK = "ok"
    ERROR = "error"  # handled by the runtime: unhandled exception, marshal error, oversized response
    INIT_ERROR = "init_error"
    TIMEOUT = "timeout"
    CRASH = "crash"
    OUT_OF_MEMORY = "oom"
    INVALID_EVENT = "invalid_event"  # the payload is not JSON: nothing ran, the caller gets a request error


@dataclass(slots=True)
class InvokeOutcome:
    """What one invocation produced. ``payload`` is the result JSON or the AWS error JSON.

    The log is kept in pieces (what the environment wrote, plus the platform's own lines around it) and rendered
    with ``START``/``END``/``REPORT`` only when someone reads it, which keeps string building off the invoke path.
    Treated as immutable (not frozen only because a frozen dataclass costs an ``object.__setattr__`` per field)."""

    request_id: str
    outcome: Outcome
    payload: bytes
    error_type: str | None
    error_message: str | None
    duration_ms: float
    memory_mb: int
    max_memory_mb: int
    init_duration_ms: float | None
    started_at: float
    finished_at: float
    version: str
    log_body: bytes = b""
    log_limit: int = 0
    log_prefix: str = ""  # init output and INIT_REPORT of a failed init, before START
    log_suffix: str = ""  # the platform's timeout or crash lines, before END
    report_status: str | None = None  # REPORT's Status: timeout | error
    billed_restore_ms: int | None = None  # set when the environment was restored from a snapshot
    artifacts: Collected | None = None  # the files left in the output directory (runtime/outputs.py)
    _rendered: tuple[str, bool] | None = field(default=None, repr=False, compare=False)

    @property
    def billed_duration_ms(self) -> int:
        return logs.billed_ms(self.duration_ms)

    def _render(self) -> tuple[str, bool]:
        if self._rendered is None:
            captured, truncated = logs.bound(self.log_body, self.log_limit)
            text = (
                self.log_prefix
                + logs.start_line(self.request_id, self.version)
                + captured
                + self.log_suffix
                + logs.end_line(self.request_id)
                + logs.report_line(
                    self.request_id,
                    self.duration_ms,
                    self.memory_mb,
                    self.max_memory_mb,
                    self.init_duration_ms,
                    self.report_status,
                    self.error_type if self.report_status == "error" else None,
                    self.billed_restore_ms,
                )
            )
            self._rendered = (text, truncated)
        return self._rendered

    @property
    def log(self) -> str:
        """The whole log: platform lines around everything the function wrote (bounded)."""
        return self._render()[0]

    @property
    def log_truncated(self) -> bool:
        return self._render()[1]

    @property
    def function_error(self) -> str | None:
        """``X-Amz-Function-Error``: ``Unhandled`` for any failure, None on success."""
        return None if self.outcome is Outcome.OK else "Unhandled"
