"""What a stream event source mapping sends and how it reads the answer, pure.

``kinesis_record`` builds one record of AWS's Kinesis event (``{"Records": [...]}``); ``filter_view`` is what a
mapping's filter patterns see of it (the record, with ``data`` the record's data decoded from base64 and parsed as
JSON, as Lambda filters Kinesis records; left out when it is not JSON); ``failure_record`` is the on-failure
destination's record (metadata only: ``KinesisBatchInfo``, never the records); ``lane_of`` spreads a shard's
records over ``ParallelizationFactor`` lanes by partition key, so one key's records stay in order in one lane.
``failed_sequences`` reads a ReportBatchItemFailures answer with AWS's rules (``queue_events.failed_items``).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from typing import Any

from lambdahost.core.queue_events import failed_items
from lambdahost.core.streams import StreamRecord, partition_hash

MAX_EVENT_BYTES = 6_291_456  # a synchronous invocation's payload limit
RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


def kinesis_record(record: StreamRecord, stream_arn: str, region: str, identity_arn: str) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": base64.b64encode(record.data).decode(),
            "approximateArrivalTimestamp": record.arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{record.shard_id}:{record.sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": identity_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def record_size(record: StreamRecord) -> int:
    """An upper bound of the bytes a record adds to the event's JSON."""
    return (len(record.data) + 2) // 3 * 4 + len(record.partition_key.encode()) * 6 + 600


def filter_view(event_record: dict[str, Any], data: bytes) -> dict[str, Any]:
    view = dict(event_record)
    try:
        view["data"] = json.loads(data)
    except ValueError:
        pass
    return view


def lane_of(record: StreamRecord, lanes: int) -> int:
    return 0 if lanes <= 1 else partition_hash(record.partition_key) % lanes


def failed_sequences(response: bytes, batch: Sequence[StreamRecord]) -> list[str]:
    """The sequence numbers a ReportBatchItemFailures response lists; ``WholeBatchFailed`` when the response fails
    the whole batch (not JSON, a malformed entry, an id that is not a record of the batch)."""
    return failed_items(response, [r.sequence_number for r in batch])


def iso_time(at: float) -> str:
    """``2019-11-14T00:13:49.717Z``"""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def failure_record(
    batch: Sequence[StreamRecord],
    stream_arn: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    request_id: str,
    response: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    """The record sent to ``DestinationConfig.OnFailure`` when a batch is given up. ``response``: the last
    invocation's ``statusCode``, ``executedVersion`` and ``functionError`` (empty when it never ran)."""
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": iso_time(now),
        "KinesisBatchInfo": {
            "shardId": batch[0].shard_id,
            "startSequenceNumber": batch[0].sequence_number,
            "endSequenceNumber": batch[-1].sequence_number,
            "approximateArrivalOfFirstRecord": iso_time(batch[0].arrival),
            "approximateArrivalOfLastRecord": iso_time(batch[-1].arrival),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }
