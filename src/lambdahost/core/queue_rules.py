"""SQS's rules for queue names, queue attributes, messages and batches, as pure functions raising SQS's errors
(codes and messages as Amazon SQS sends them)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lambdahost.core.messages import (
    FIFO_SUFFIX,
    MAX_MESSAGE_SIZE,
    MessageAttribute,
    MessageCounts,
    Queue,
    RedrivePolicy,
    attribute_size,
)
from lambdahost.core.queue_errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    TooManyEntriesInBatchRequest,
)

MAX_BATCH = 10
MAX_VISIBILITY_TIMEOUT_S = 43_200
MAX_DELAY_S = 900
MAX_WAIT_S = 20
MAX_MESSAGE_ATTRIBUTES = 10

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_GROUP_OR_DEDUP_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_INVALID_CHARACTERS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

# Attribute name -> (minimum, maximum) of the integer attributes.
INTEGER_ATTRIBUTES = {
    "VisibilityTimeout": ("visibility_timeout_s", 0, MAX_VISIBILITY_TIMEOUT_S),
    "DelaySeconds": ("delay_s", 0, MAX_DELAY_S),
    "MessageRetentionPeriod": ("retention_s", 60, 1_209_600),
    "MaximumMessageSize": ("maximum_message_size", 1024, MAX_MESSAGE_SIZE),
    "ReceiveMessageWaitTimeSeconds": ("receive_wait_s", 0, MAX_WAIT_S),
}
# Accepted, kept and returned as given; they change nothing here.
PASSIVE_ATTRIBUTES = frozenset(
    {
        "Policy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "RedriveAllowPolicy",
    }
)
COUNT_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
READ_ONLY_ATTRIBUTES = frozenset({*COUNT_ATTRIBUTES, "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn"})
MESSAGE_SYSTEM_ATTRIBUTES = frozenset(
    {
        "All",
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "SequenceNumber",
        "MessageDeduplicationId",
        "MessageGroupId",
        "AWSTraceHeader",
        "DeadLetterQueueSourceArn",
    }
)


# -- queues --------------------------------------------------------------------------------------------------------
def check_queue_name(name: str, fifo: bool) -> None:
    base = name.removesuffix(FIFO_SUFFIX) if fifo else name
    if fifo and (not name.endswith(FIFO_SUFFIX) or not _QUEUE_NAME.match(base) or len(name) > 80):
        raise InvalidParameterValue(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end "
            "with .fifo suffix and be 1 to 80 in length."
        )
    if not fifo and not _QUEUE_NAME.match(name):
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def _bool(name: str, value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
    return value.lower() == "true"


def parse_redrive_policy(value: str, fifo: bool, find_queue: Any) -> RedrivePolicy | None:
    """``RedrivePolicy`` JSON (``""`` removes it). ``find_queue(name) -> Queue | None`` checks the target."""
    if value == "":
        return None
    reason = None
    try:
        policy = json.loads(value)
        arn = policy["deadLetterTargetArn"]
        count = int(policy["maxReceiveCount"])
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        reason = "Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount."
    else:
        target = find_queue(arn.rsplit(":", 1)[-1])
        if not 1 <= count <= 1000:
            reason = "Invalid value for maxReceiveCount: {count}, valid values are from 1 to 1000 both inclusive."
            reason = reason.format(count=count)
        elif target is None:
            reason = "Dead letter target does not exist."
        elif target.fifo != fifo:
            reason = "Dead-letter queue must be same type of queue as the source."
        else:
            return RedrivePolicy(arn, count)
    raise InvalidParameterValue(f"Value {value} for parameter RedrivePolicy is invalid. Reason: {reason}")


def queue_changes(
    attributes: Mapping[str, str], *, creating: bool, fifo: bool, find_queue: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validated attribute values: (``Queue`` field changes, passive attributes to keep)."""
    changes: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for name, raw in attributes.items():
        value = str(raw)
        if name in INTEGER_ATTRIBUTES:
            field, low, high = INTEGER_ATTRIBUTES[name]
            try:
                number = int(value)
            except ValueError:
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.") from None
            if not low <= number <= high:
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
            changes[field] = number
        elif name == "RedrivePolicy":
            changes["redrive_policy"] = parse_redrive_policy(value, fifo, find_queue)
        elif name == "FifoQueue" and creating:
            if _bool(name, value) != fifo:
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
        elif name == "ContentBasedDeduplication" and fifo:
            changes["content_based_deduplication"] = _bool(name, value)
        elif name in PASSIVE_ATTRIBUTES:
            extra[name] = value
        else:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
    return changes, extra


def queue_attribute_values(queue: Queue, arn: str, counts: MessageCounts) -> dict[str, str]:
    """Every attribute ``GetQueueAttributes`` returns for ``All``, as strings."""
    values = {
        "QueueArn": arn,
        "ApproximateNumberOfMessages": str(counts.visible),
        "ApproximateNumberOfMessagesNotVisible": str(counts.in_flight),
        "ApproximateNumberOfMessagesDelayed": str(counts.delayed),
        "CreatedTimestamp": str(int(queue.created_at)),
        "LastModifiedTimestamp": str(int(queue.modified_at)),
        "VisibilityTimeout": str(queue.visibility_timeout_s),
        "MaximumMessageSize": str(queue.maximum_message_size),
        "MessageRetentionPeriod": str(queue.retention_s),
        "DelaySeconds": str(queue.delay_s),
        "ReceiveMessageWaitTimeSeconds": str(queue.receive_wait_s),
        "SqsManagedSseEnabled": "false",
    }
    if queue.redrive_policy is not None:
        policy = queue.redrive_policy
        values["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": policy.dead_letter_target_arn, "maxReceiveCount": policy.max_receive_count},
            separators=(",", ":"),
        )
    if queue.fifo:
        values |= {
            "FifoQueue": "true",
            "ContentBasedDeduplication": str(queue.content_based_deduplication).lower(),
            "DeduplicationScope": "queue",
            "FifoThroughputLimit": "perQueue",
        }
    return values | dict(queue.extra_attributes)


def same_attributes(given: Mapping[str, str], existing: Mapping[str, str]) -> list[str]:
    """The names of ``given`` attributes whose values differ from an existing queue's (CreateQueue's check)."""
    differ = []
    for name, value in given.items():
        current = existing.get(name)
        if name == "RedrivePolicy" and current is not None and value:
            try:
                if json.loads(value) == json.loads(current) or _same_policy(json.loads(value), json.loads(current)):
                    continue
            except ValueError:
                pass
        if name in ("FifoQueue", "ContentBasedDeduplication") and str(value).lower() == (current or "false"):
            continue
        if str(value) != (current or ""):
            differ.append(name)
    return differ


def _same_policy(a: Any, b: Any) -> bool:
    try:
        return bool(
            a["deadLetterTargetArn"] == b["deadLetterTargetArn"] and int(a["maxReceiveCount"]) == b["maxReceiveCount"]
        )
    except (KeyError, TypeError, ValueError):
        return False


# -- messages ------------------------------------------------------------------------------------------------------
def check_body(body: str, maximum_size: int) -> int:
    """The body's size in bytes, or SQS's error for an empty, invalid or too long body."""
    if body == "":
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if _INVALID_CHARACTERS.search(body):
        raise InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
            "#xE000 to #xFFFD | #x10000 to #x10FFFF"
        )
    return len(body.encode("utf-8"))


def check_message_attributes(attributes: Mapping[str, MessageAttribute], system: bool = False) -> int:
    """The attributes' size in bytes, or SQS's error for a bad name, type or value."""
    kind = "system" if system else "user"
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}]."
        )
    size = 0
    for name, attribute in attributes.items():
        lowered = name.lower()
        if (
            not _ATTRIBUTE_NAME.match(name)
            or ".." in name
            or name.startswith(".")
            or name.endswith(".")
            or (not system and lowered.startswith(("aws.", "amazon.")))
        ):
            raise InvalidParameterValue(f"Message ({kind}) attribute name '{name}' is invalid.")
        if system and name != "AWSTraceHeader":
            raise InvalidParameterValue(f"Message system attribute name '{name}' is invalid.")
        base = attribute.base_type
        if base not in ("String", "Number", "Binary") or len(attribute.data_type) > 256:
            raise InvalidParameterValue(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported type "
                "prefixes is Binary, Number, and String."
            )
        if base == "Binary" and not attribute.binary_value:
            raise InvalidParameterValue(
                f"The message attribute '{name}' with type 'Binary' must use field 'Binary'."
                if attribute.string_value is not None
                else f"The message attribute '{name}' must contain non-empty message attribute value for message "
                "attribute type 'Binary'."
            )
        if base != "Binary" and not attribute.string_value:
            raise InvalidParameterValue(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{base}'."
            )
        if base != "Binary" and _INVALID_CHARACTERS.search(attribute.string_value or ""):
            raise InvalidParameterValue(f"Message ({kind}) attribute '{name}' contains invalid characters.")
        if base == "Number" and not _is_number(attribute.string_value or ""):
            raise InvalidParameterValue(f"Can't cast the value of message ({kind}) attribute '{name}' to a number.")
        size += attribute_size(name, attribute)
    return size


def _is_number(value: str) -> bool:
    return bool(_NUMBER.match(value.strip())) and math.isfinite(float(value))


def check_delay(delay_s: int) -> None:
    if not 0 <= delay_s <= MAX_DELAY_S:
        raise InvalidParameterValue(
            f"Value {delay_s} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        )


def check_group_or_dedup_id(parameter: str, value: str) -> None:
    if not _GROUP_OR_DEDUP_ID.match(value):
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only include alphanumeric "
            "and punctuation characters. 1 to 128 in length."
        )


def not_for_this_queue_type(parameter: str, value: object) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Value {value} for parameter {parameter} is invalid. Reason: The request include parameter that is not "
        "valid for this queue type."
    )


def content_deduplication_id(body: str) -> str:
    """The deduplication id of content-based deduplication: the SHA-256 of the body."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def check_range(parameter: str, value: int, low: int, high: int, reason: str | None = None) -> None:
    if not low <= value <= high:
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. "
            f"Reason: {reason or f'Must be between {low} and {high}, if provided.'}"
        )


# -- batches -------------------------------------------------------------------------------------------------------
def check_batch(entries: Sequence[Mapping[str, Any]], entry_shape: str) -> None:
    """SQS's checks of a batch's entries: present, at most 10, ids valid and distinct."""
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {entry_shape} in the request.")
    if len(entries) > MAX_BATCH:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id")
        if not isinstance(entry_id, str) or not _BATCH_ID.match(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                "It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
