"""What a queue event source mapping sends and how it reads the answer, pure.

``sqs_record`` builds one record of AWS's SQS event (``{"Records": [...]}``) from a received message: messageId,
receiptHandle, body, attributes (ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp,
and for FIFO queues SequenceNumber, MessageGroupId, MessageDeduplicationId), messageAttributes in Lambda's shape
(stringValue/binaryValue, stringListValues, binaryListValues, dataType), md5OfBody, md5OfMessageAttributes (only
when there are attributes), eventSource, eventSourceARN, awsRegion.

``failed_items`` reads a function's answer under ``FunctionResponseTypes: ["ReportBatchItemFailures"]`` with
AWS's rules: ``null``, ``{}``, or a ``batchItemFailures`` that is null or empty mean every message succeeded; a
response that is not JSON, a ``batchItemFailures`` that is not a list, an entry that is not an object with an
``itemIdentifier``, an empty or null identifier, or one that is not a message of the batch fail the whole batch.
``kept_ids`` turns that into the messages that stay in the queue: for a FIFO queue, everything from the first
failed message on, in order (Lambda stops a FIFO batch at its first failure).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from lambdahost.core.messages import Message, MessageAttribute, format_sequence, md5_of_attributes

MAX_EVENT_BYTES = 6_291_456  # a synchronous invocation's payload limit


class WholeBatchFailed(Exception):
    """The function's batch response fails the whole batch; the message says why."""


def _attribute(attribute: MessageAttribute) -> dict[str, Any]:
    shape: dict[str, Any] = {}
    if attribute.base_type == "Binary":
        shape["binaryValue"] = base64.b64encode(attribute.binary_value or b"").decode()
    else:
        shape["stringValue"] = attribute.string_value
    shape["stringListValues"] = []
    shape["binaryListValues"] = []
    shape["dataType"] = attribute.data_type
    return shape


def sqs_record(
    message: Message, receipt_handle: str, queue_arn: str, region: str, sender_id: str, fifo: bool
) -> dict[str, Any]:
    attributes = {
        "ApproximateReceiveCount": str(message.receive_count),
        "SentTimestamp": str(int(message.sent_at * 1000)),
        "SenderId": sender_id,
        "ApproximateFirstReceiveTimestamp": str(int((message.first_received_at or message.sent_at) * 1000)),
    }
    if fifo:
        attributes["SequenceNumber"] = format_sequence(message.sequence)
        if message.group_id is not None:
            attributes["MessageGroupId"] = message.group_id
        if message.dedup_id is not None:
            attributes["MessageDeduplicationId"] = message.dedup_id
    trace = message.system_attributes.get("AWSTraceHeader")
    if trace is not None and trace.string_value is not None:
        attributes["AWSTraceHeader"] = trace.string_value
    record: dict[str, Any] = {
        "messageId": message.id,
        "receiptHandle": receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {name: _attribute(message.attributes[name]) for name in sorted(message.attributes)},
        "md5OfBody": message.md5_of_body,
    }
    md5 = md5_of_attributes(message.attributes)
    if md5 is not None:
        record["md5OfMessageAttributes"] = md5
    record["eventSource"] = "aws:sqs"
    record["eventSourceARN"] = queue_arn
    record["awsRegion"] = region
    return record


def event_json(records: Sequence[dict[str, Any]]) -> bytes:
    """The event's payload: ``{"Records":[...]}``, compact."""
    return json.dumps({"Records": records}, separators=(",", ":")).encode()


EMPTY_EVENT_BYTES = len(event_json([]))


def record_size(record: dict[str, Any]) -> int:
    """The bytes a record adds to the event's JSON (``event_json``), its comma included."""
    return len(json.dumps(record, separators=(",", ":")).encode()) + 1


def failed_items(response: bytes, batch_ids: Sequence[str]) -> list[str]:
    """The message ids a ReportBatchItemFailures response lists (in its order, without repeats); raises
    ``WholeBatchFailed`` when the response fails the whole batch."""
    text = response.strip()
    if not text:
        return []
    try:
        answer = json.loads(text)
    except ValueError:
        raise WholeBatchFailed("the function's response is not valid JSON") from None
    if not isinstance(answer, dict):
        return []
    failures = answer.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        raise WholeBatchFailed("batchItemFailures is not a list")
    known = set(batch_ids)
    found: list[str] = []
    for entry in failures:
        if not isinstance(entry, dict) or "itemIdentifier" not in entry:
            raise WholeBatchFailed("an entry of batchItemFailures has no itemIdentifier")
        item = entry["itemIdentifier"]
        if not isinstance(item, str) or not item:
            raise WholeBatchFailed("an itemIdentifier is null or empty")
        if item not in known:
            raise WholeBatchFailed(f"the itemIdentifier {item} is not a message of the batch")
        if item not in found:
            found.append(item)
    return found


def kept_ids(failed: Sequence[str], batch_ids: Sequence[str], fifo: bool) -> list[str]:
    """The messages of a batch (in batch order) that stay in the queue, given the ones reported failed."""
    failed_set = set(failed)
    if not fifo:
        return [m for m in batch_ids if m in failed_set]
    for index, message_id in enumerate(batch_ids):
        if message_id in failed_set:
            return list(batch_ids[index:])
    return []
