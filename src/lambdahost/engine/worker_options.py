"""``WorkerOptions``: how a queue worker runs (slots, leases, heartbeats, polling) and its retry policy: the waits
before a failed attempt's retries (AWS's about 1 and 2 minutes, with jitter) and the backoff of invocations the
platform could not run (1 s doubling to 5 minutes, using no attempt)."""

from __future__ import annotations

from dataclasses import dataclass

LANES_REFRESH_MIN_S = 0.05  # another process's wake-ups read the lanes at most this often (a store-wide count)
PLATFORM_RETRY_MAX_S = 300.0  # AWS: system errors are retried with backoff from 1 s to 5 minutes


@dataclass(frozen=True)
class WorkerOptions:
    slots: int = 16  # invocations run at once by this worker (each in its own environment)
    lease_s: float = 30.0  # a lease not extended for this long is taken back by another worker
    heartbeat_s: float = 2.0
    poll_s: float = 0.2
    lanes_refresh_s: float = 1.0  # how often the lanes with pending work are read from the store
    max_retry_attempts: int = 2  # the most any function allows (MaximumRetryAttempts): lost workers' runs count
    retry_delays_s: tuple[float, ...] = (60.0, 120.0)  # AWS's ~1 min then ~2 min; shortened for tests and dev
    retry_jitter: float = 0.1  # each delay varies by up to this fraction, so failed bursts spread out
    shutdown_grace_s: float = 30.0  # close() lets running invocations finish for this long

    @property
    def max_attempts(self) -> int:
        return 1 + self.max_retry_attempts

    def retry_delay(self, attempt: int, draw: float) -> float:
        """The wait before attempt ``attempt + 1``; ``draw`` is a random number in [0, 1)."""
        base = self.retry_delays_s[min(attempt, len(self.retry_delays_s)) - 1]
        return base * (1 + self.retry_jitter * (2 * draw - 1))

    def platform_retry_delay(self, earlier: int, draw: float) -> float:
        """The wait before retrying an invocation the platform could not run (its environment did not start),
        after ``earlier`` such errors: 1 s, 2 s, 4 s ... up to 5 minutes, plus up to 10 %."""
        return min(PLATFORM_RETRY_MAX_S, 2.0 ** max(0, earlier)) * (1 + 0.1 * draw)
