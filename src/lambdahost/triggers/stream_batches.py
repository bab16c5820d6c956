"""AWS's failure rules for the batches of one lane of a shard (``LaneRunner``), with the invocation, the give-up and
the waits injected, so they are tested without processes.

A lane's records are sent in order, in batches of up to ``BatchSize`` records and 6 MB. A batch is retried until
it succeeds (the lane, and so the shard, waits meanwhile), ``MaximumRetryAttempts`` retries are used up, or its
oldest record is older than ``MaximumRecordAgeInSeconds`` (checked before every invocation; the records too old
are given up with ``RecordAgeExceeded``, the rest go on). With ``BisectBatchOnFunctionError`` a failed batch of
more than one record is split in two halves, each tried on its own, the first first; a split is not a retry, so a
poison record ends up alone and then uses its retries. With ``ReportBatchItemFailures`` the records before the
lowest reported sequence number succeeded and the batch goes on from that record (a retry of it); an empty or null
list is a success, a malformed answer fails the whole batch. A batch given up goes to ``give_up`` (the on-failure
destination) and the lane moves past it. Throttles and platform errors are retried without using a retry.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdahost.core.event_source_mappings import EventSourceMapping
from lambdahost.core.ids import Clock
from lambdahost.core.queue_events import WholeBatchFailed
from lambdahost.core.stream_events import (
    MAX_EVENT_BYTES,
    RECORD_AGE_EXCEEDED,
    RETRY_ATTEMPTS_EXHAUSTED,
    failed_sequences,
    record_size,
)
from lambdahost.core.streams import StreamRecord

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 5.0
FIRST_RETRY_DELAY_S = 0.05
SYSTEM_RETRY_DELAY_S = 1.0


@dataclass(frozen=True)
class Invoked:
    """One invocation of a batch: the function's answer, or ``system_error`` when it did not run (throttled, the
    function is missing...), which is retried without using a retry."""

    request_id: str
    payload: bytes = b""
    function_error: str | None = None
    executed_version: str = "$LATEST"
    system_error: str | None = None

    def response_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": self.executed_version}
        if self.function_error is not None:
            context["functionError"] = self.function_error
        return context


@dataclass
class LaneReport:
    """What a lane did (for ``LastProcessingResult``): invocations that failed, batches given up."""

    invocations: int = 0
    failures: int = 0
    given_up: list[str] = field(default_factory=list)


Invoke = Callable[[Sequence[StreamRecord]], Invoked]
GiveUp = Callable[[Sequence[StreamRecord], str, int, "Invoked | None"], None]
# Wait this long; False when the lane must stop (shutdown or lost lease).
Wait = Callable[[float], bool]


def batches(records: Sequence[StreamRecord], batch_size: int) -> list[list[StreamRecord]]:
    """Consecutive batches of up to ``batch_size`` records and ``MAX_EVENT_BYTES`` of event."""
    found: list[list[StreamRecord]] = []
    current: list[StreamRecord] = []
    size = 200
    for record in records:
        grows = record_size(record)
        if current and (len(current) >= batch_size or size + grows > MAX_EVENT_BYTES):
            found.append(current)
            current, size = [], 200
        current.append(record)
        size += grows
    if current:
        found.append(current)
    return found


class LaneRunner:
    def __init__(
        self,
        mapping: EventSourceMapping,
        invoke: Invoke,
        give_up: GiveUp,
        wait: Wait,
        clock: Clock,
        retention_s: float | None = None,
    ) -> None:
        self.mapping = mapping
        # MaximumRecordAgeInSeconds -1: the stream's retention (a record past it is gone from the stream)
        self.max_age_s = mapping.maximum_record_age_s if mapping.maximum_record_age_s >= 0 else retention_s
        self.invoke = invoke
        self.give_up = give_up
        self.wait = wait
        self.clock = clock
        self.report = LaneReport()

    def run(self, records: Sequence[StreamRecord]) -> bool:
        """Process the lane's records in order; False when stopped before the end (nothing to checkpoint)."""
        return all(self._batch(batch) for batch in batches(records, self.mapping.batch_size))

    def _expired(self, segment: list[StreamRecord]) -> int:
        """How many of the segment's first records are older than the maximum record age."""
        limit = self.max_age_s
        if limit is None:
            return 0
        now = self.clock()
        count = 0
        while count < len(segment) and now - segment[count].arrival > limit:
            count += 1
        return count

    def _batch(self, batch: list[StreamRecord]) -> bool:
        pending: deque[list[StreamRecord]] = deque([batch])
        while pending:
            segment = pending.popleft()
            retries = 0
            invocations = 0
            last: Invoked | None = None
            while segment:
                expired = self._expired(segment)
                if expired:
                    self._give_up(segment[:expired], RECORD_AGE_EXCEEDED, invocations, last)
                    segment = segment[expired:]
                    continue
                last = self.invoke(segment)
                self.report.invocations += 1
                if last.system_error is not None:
                    if not self.wait(SYSTEM_RETRY_DELAY_S):
                        return False
                    continue
                invocations += 1
                failed_from, whole = self._failed_from(last, segment)
                if failed_from is None:
                    break
                self.report.failures += 1
                if whole and self.mapping.bisect_batch_on_function_error and len(segment) > 1:
                    middle = len(segment) // 2
                    pending.appendleft(segment[middle:])
                    pending.appendleft(segment[:middle])
                    break
                segment = segment[failed_from:]
                retries += 1
                limit = self.mapping.maximum_retry_attempts
                if limit >= 0 and retries > limit:
                    self._give_up(segment, RETRY_ATTEMPTS_EXHAUSTED, invocations, last)
                    break
                if not self.wait(min(MAX_RETRY_DELAY_S, FIRST_RETRY_DELAY_S * 2 ** (retries - 1))):
                    return False
        return True

    def _failed_from(self, outcome: Invoked, segment: list[StreamRecord]) -> tuple[int | None, bool]:
        """(None, False) when the segment succeeded; else the index of its first record to try again, and whether
        the whole segment failed (a function error or a malformed batch response)."""
        if outcome.function_error is not None:
            return 0, True
        if not self.mapping.reports_item_failures:
            return None, False
        try:
            failed = set(failed_sequences(outcome.payload, segment))
        except WholeBatchFailed as exc:
            log.info("whole batch failed: %s", exc, extra={"action": "stream_batch_failed", "uuid": self.mapping.uuid})
            return 0, True
        for index, record in enumerate(segment):
            if record.sequence_number in failed:
                return index, False
        return None, False

    def _give_up(self, records: list[StreamRecord], condition: str, invocations: int, last: Invoked | None) -> None:
        self.report.given_up.append(condition)
        self.give_up(records, condition, invocations, last)
