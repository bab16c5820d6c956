"""AWS's rules for the settings of an event source mapping (Create/UpdateEventSourceMapping), pure.

``settings_from(request, kind, creating)`` checks each member of a request that is present (type and range, with
AWS's model-validation messages) and returns the dataclass fields it sets; ``check_mapping(mapping)`` then applies
the rules between fields to the mapping as it would be stored (after defaults on create, merged on update):

- queues: ``BatchSize`` 1-10,000 (FIFO queues: at most 10), more than 10 only with
  ``MaximumBatchingWindowInSeconds`` >= 1; ``ScalingConfig.MaximumConcurrency`` 2-1000; no stream settings and no
  ``StartingPosition``;
- streams: ``StartingPosition`` required (``AT_TIMESTAMP`` with ``StartingPositionTimestamp``),
  ``ParallelizationFactor`` 1-10, ``MaximumRetryAttempts`` -1..10,000, ``MaximumRecordAgeInSeconds`` -1 or
  60..604,800, ``BisectBatchOnFunctionError``, ``DestinationConfig.OnFailure``; no ``ScalingConfig``;
- both: window 0-300 s, ``FunctionResponseTypes`` only ``ReportBatchItemFailures``, ``FilterCriteria`` (at most 5
  patterns, each an EventBridge pattern: ``core.event_filters``).

What needs the outside world (does the function, the source, the destination exist? is the pair already mapped?) is
the engine's (``engine.event_source_mappings``).
"""

from __future__ import annotations

import datetime
from typing import Any

from lambdahost.core.errors import InvalidParameterValue, ValidationError
from lambdahost.core.event_filters import parse_filter_criteria
from lambdahost.core.event_source_mappings import (
    REPORT_BATCH_ITEM_FAILURES,
    EventSourceMapping,
    SourceKind,
    StartingPosition,
)

DEFAULT_BATCH_SIZE = {SourceKind.QUEUE: 10, SourceKind.STREAM: 100}
MAX_BATCH_SIZE = 10_000
MAX_FIFO_BATCH_SIZE = 10
MAX_UNWINDOWED_QUEUE_BATCH = 10
MAX_BATCHING_WINDOW_S = 300

# Members of AWS's request for sources lambdahost does not have (Kafka, MQ, DocumentDB) or settings it does not
# implement: refused, so nothing is silently ignored. Tags, MetricsConfig and LoggingConfig are accepted and ignored.
UNSUPPORTED = (
    "Topics",
    "Queues",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "ProvisionedPollerConfig",
    "TumblingWindowInSeconds",
    "KMSKeyArn",
)
STREAM_ONLY = (
    "ParallelizationFactor",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "DestinationConfig",
    "StartingPosition",
    "StartingPositionTimestamp",
)
QUEUE_ONLY = ("ScalingConfig",)


def _constraint(value: Any, member: str, constraint: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )


def bounded(value: Any, member: str, low: int, high: int) -> int:
    """An integer member within AWS's model range (``member`` as AWS names it: ``batchSize``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _constraint(value, member, "Member must be an integer")
    if value < low:
        raise _constraint(value, member, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise _constraint(value, member, f"Member must have value less than or equal to {high}")
    return value


def _boolean(value: Any, member: str) -> bool:
    if not isinstance(value, bool):
        raise _constraint(value, member, "Member must be a boolean")
    return value


def _timestamp(value: Any) -> float:
    """``StartingPositionTimestamp``: epoch seconds (botocore's wire form) or an ISO 8601 string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)).timestamp()
    raise InvalidParameterValue(f"StartingPositionTimestamp must be a time (epoch seconds or ISO 8601), not {value!r}.")


def source_kind(arn: Any) -> SourceKind:
    """The kind of source an ``EventSourceArn`` names: ``arn:aws:sqs:...`` or ``arn:aws:kinesis:...:stream/...``."""
    if not isinstance(arn, str) or not arn:
        raise InvalidParameterValue("EventSourceArn is required: the ARN of a queue or a stream.")
    parts = arn.split(":")
    service = parts[2] if len(parts) >= 6 and parts[0] == "arn" else None
    if service == SourceKind.QUEUE.value:
        return SourceKind.QUEUE
    if service == SourceKind.STREAM.value and parts[5].startswith("stream/"):
        return SourceKind.STREAM
    raise InvalidParameterValue(
        f"Unsupported event source {arn}: lambdahost maps queues (arn:aws:sqs:...) and streams "
        "(arn:aws:kinesis:...:stream/...)."
    )


def is_fifo_queue(arn: str) -> bool:
    return arn.endswith(".fifo")


def settings_from(request: dict[str, Any], kind: SourceKind, *, creating: bool) -> dict[str, Any]:
    """The fields a Create (``creating``) or Update request sets, each checked on its own."""
    present = {key: value for key, value in request.items() if value is not None}
    for key in UNSUPPORTED:
        if key in present:
            raise InvalidParameterValue(f"{key} is not supported by lambdahost's event source mappings.")
    kind_name = "SQS" if kind is SourceKind.QUEUE else "Kinesis"
    for key in STREAM_ONLY if kind is SourceKind.QUEUE else QUEUE_ONLY:
        if key in present:
            raise InvalidParameterValue(f"Unsupported {key} for {kind_name} event sources.")
    if not creating:
        for key in ("StartingPosition", "StartingPositionTimestamp", "EventSourceArn"):
            if key in present:
                raise InvalidParameterValue(f"{key} cannot be changed: create a new event source mapping.")
    out: dict[str, Any] = {}
    if "Enabled" in present:
        out["enabled"] = _boolean(present["Enabled"], "enabled")
    if "BatchSize" in present:
        out["batch_size"] = bounded(present["BatchSize"], "batchSize", 1, MAX_BATCH_SIZE)
    if "MaximumBatchingWindowInSeconds" in present:
        out["maximum_batching_window_s"] = bounded(
            present["MaximumBatchingWindowInSeconds"], "maximumBatchingWindowInSeconds", 0, MAX_BATCHING_WINDOW_S
        )
    if "FilterCriteria" in present:
        out["filter_patterns"] = parse_filter_criteria(present["FilterCriteria"])
    if "FunctionResponseTypes" in present:
        out["function_response_types"] = _response_types(present["FunctionResponseTypes"])
    if "ScalingConfig" in present:
        out["maximum_concurrency"] = _scaling(present["ScalingConfig"])
    if "ParallelizationFactor" in present:
        out["parallelization_factor"] = bounded(present["ParallelizationFactor"], "parallelizationFactor", 1, 10)
    if "MaximumRetryAttempts" in present:
        out["maximum_retry_attempts"] = bounded(present["MaximumRetryAttempts"], "maximumRetryAttempts", -1, 10_000)
    if "MaximumRecordAgeInSeconds" in present:
        age = bounded(present["MaximumRecordAgeInSeconds"], "maximumRecordAgeInSeconds", -1, 604_800)
        if -1 < age < 60:
            raise InvalidParameterValue(
                f"MaximumRecordAgeInSeconds must be -1 (the stream's retention) or between 60 and 604800, not {age}."
            )
        out["maximum_record_age_s"] = age
    if "BisectBatchOnFunctionError" in present:
        out["bisect_batch_on_function_error"] = _boolean(
            present["BisectBatchOnFunctionError"], "bisectBatchOnFunctionError"
        )
    if "DestinationConfig" in present:
        out["on_failure_destination"] = _on_failure(present["DestinationConfig"])
    if creating and kind is SourceKind.STREAM:
        out.update(_starting_position(present))
    return out


def check_mapping(mapping: EventSourceMapping) -> EventSourceMapping:
    """The rules between a mapping's fields; returns it unchanged."""
    if mapping.source_kind is SourceKind.QUEUE:
        if is_fifo_queue(mapping.source_arn) and mapping.batch_size > MAX_FIFO_BATCH_SIZE:
            raise InvalidParameterValue(
                f"Batch size for FIFO queues must be between 1 and {MAX_FIFO_BATCH_SIZE}, not {mapping.batch_size}."
            )
        if mapping.batch_size > MAX_UNWINDOWED_QUEUE_BATCH and mapping.maximum_batching_window_s < 1:
            raise InvalidParameterValue(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
            )
    return mapping


def _response_types(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > 1 or any(v != REPORT_BATCH_ITEM_FAILURES for v in value):
        raise _constraint(
            value,
            "functionResponseTypes",
            f"Member must have length less than or equal to 1, and each member must satisfy enum value set: "
            f"[{REPORT_BATCH_ITEM_FAILURES}]",
        )
    return tuple(value)


def _scaling(value: Any) -> int | None:
    if not isinstance(value, dict):
        raise InvalidParameterValue('ScalingConfig must be an object: {"MaximumConcurrency": 2..1000}.')
    maximum = value.get("MaximumConcurrency")
    return None if maximum is None else bounded(maximum, "scalingConfig.maximumConcurrency", 2, 1000)


def _on_failure(value: Any) -> str | None:
    if not isinstance(value, dict):
        raise InvalidParameterValue('DestinationConfig must be an object: {"OnFailure": {"Destination": ARN}}.')
    if value.get("OnSuccess"):
        raise InvalidParameterValue("Unsupported DestinationConfig.OnSuccess for Kinesis event sources.")
    on_failure = value.get("OnFailure") or {}
    if not isinstance(on_failure, dict):
        raise InvalidParameterValue('DestinationConfig.OnFailure must be an object: {"Destination": ARN}.')
    destination = on_failure.get("Destination")
    if destination in (None, ""):
        return None
    if not isinstance(destination, str) or not destination.startswith("arn:") or destination.split(":")[2:3] != ["sqs"]:
        raise InvalidParameterValue(
            f"The destination ARN {destination} is not supported: lambdahost sends the on-failure records of stream "
            "mappings to queues (arn:aws:sqs:...)."
        )
    return destination


def _starting_position(present: dict[str, Any]) -> dict[str, Any]:
    raw = present.get("StartingPosition")
    if raw is None:
        raise InvalidParameterValue("StartingPosition is required for Kinesis event sources.")
    try:
        position = StartingPosition(raw)
    except ValueError:
        raise _constraint(
            raw, "startingPosition", "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]"
        ) from None
    timestamp = present.get("StartingPositionTimestamp")
    if position is StartingPosition.AT_TIMESTAMP:
        if timestamp is None:
            raise InvalidParameterValue("StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP.")
        return {"starting_position": position, "starting_position_timestamp": _timestamp(timestamp)}
    if timestamp is not None:
        raise InvalidParameterValue("StartingPositionTimestamp is only allowed when StartingPosition is AT_TIMESTAMP.")
    return {"starting_position": position, "starting_position_timestamp": None}
