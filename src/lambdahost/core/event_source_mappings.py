"""Event source mappings: what feeds a function from a queue or a stream (``CreateEventSourceMapping``).

One ``EventSourceMapping`` holds both kinds' settings; the ones that do not apply to its kind keep their defaults
(AWS's API does the same: a queue mapping has no ``StartingPosition``, a stream mapping no ``ScalingConfig``).
Durations are seconds, times epoch seconds."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

from lambdahost.core.model import LATEST


class SourceKind(enum.StrEnum):
    QUEUE = "sqs"  # arn:aws:sqs:<region>:<account>:<queue>
    STREAM = "kinesis"  # arn:aws:kinesis:<region>:<account>:stream/<name>


class MappingState(enum.StrEnum):
    """AWS's ``State`` values; ``Enabled`` and ``Disabled`` are the resting ones."""

    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


class StartingPosition(enum.StrEnum):
    TRIM_HORIZON = "TRIM_HORIZON"
    LATEST = "LATEST"
    AT_TIMESTAMP = "AT_TIMESTAMP"


REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
NO_RECORDS_PROCESSED = "No records processed"


@dataclass(frozen=True)
class EventSourceMapping:
    uuid: str
    function_name: str
    source_arn: str
    source_kind: SourceKind
    last_modified: float
    created_at: float = 0.0  # LATEST starts at the records put after it
    qualifier: str = LATEST
    enabled: bool = True
    state: MappingState = MappingState.ENABLED
    state_transition_reason: str = "USER_INITIATED"
    last_processing_result: str = NO_RECORDS_PROCESSED
    last_processing_at: float | None = None  # when last_processing_result last changed
    batch_size: int = 10
    maximum_batching_window_s: int = 0
    filter_patterns: tuple[str, ...] = ()  # FilterCriteria.Filters[].Pattern, JSON text each
    function_response_types: tuple[str, ...] = ()  # () or (REPORT_BATCH_ITEM_FAILURES,)
    # queues
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency, 2..1000
    # streams
    starting_position: StartingPosition | None = None
    starting_position_timestamp: float | None = None
    parallelization_factor: int = 1
    maximum_retry_attempts: int = -1  # -1: until the record expires
    maximum_record_age_s: int = -1  # -1: the stream's retention
    bisect_batch_on_function_error: bool = False
    on_failure_destination: str | None = None  # DestinationConfig.OnFailure.Destination: a queue ARN

    def replace(self, **changes: Any) -> EventSourceMapping:
        return dataclasses.replace(self, **changes)

    @property
    def reports_item_failures(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.function_response_types
