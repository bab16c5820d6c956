"""Named message queues (the SQS subset): queues, messages, message attributes, and SQS's MD5 digests.

Pure data and pure functions; the store persists these records, ``engine.message_queues`` runs the rules.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# SQS's defaults and limits.
DEFAULT_VISIBILITY_TIMEOUT_S = 30
DEFAULT_RETENTION_S = 345_600  # 4 days
MAX_MESSAGE_SIZE = 262_144  # 256 KiB
DEDUPLICATION_WINDOW_S = 300.0  # FIFO: a deduplication id is remembered for 5 minutes
MAX_RECEIVE_BATCH = 10
FIFO_SUFFIX = ".fifo"

_TRANSPORT = {"String": 1, "Number": 1, "Binary": 2}


@dataclass(frozen=True)
class MessageAttribute:
    """One message attribute: ``data_type`` is ``String``, ``Number`` or ``Binary``, optionally with a custom label
    (``Number.float``); ``String``/``Number`` carry ``string_value``, ``Binary`` carries ``binary_value``."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None

    @property
    def base_type(self) -> str:
        return self.data_type.split(".", 1)[0]

    @staticmethod
    def string(value: str) -> MessageAttribute:
        return MessageAttribute("String", string_value=value)


@dataclass(frozen=True)
class RedrivePolicy:
    """Where a message goes after ``max_receive_count`` receives without a delete."""

    dead_letter_target_arn: str
    max_receive_count: int

    @property
    def dead_letter_queue(self) -> str:
        """The name of the dead-letter queue (the ARN's last part)."""
        return self.dead_letter_target_arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Queue:
    """A named queue and its attributes (its URL and ARN derive from the name, region and account)."""

    name: str
    created_at: float
    modified_at: float
    visibility_timeout_s: int = DEFAULT_VISIBILITY_TIMEOUT_S
    delay_s: int = 0
    retention_s: int = DEFAULT_RETENTION_S
    maximum_message_size: int = MAX_MESSAGE_SIZE
    receive_wait_s: int = 0
    redrive_policy: RedrivePolicy | None = None
    fifo: bool = False
    content_based_deduplication: bool = False
    # Attributes SQS accepts that change nothing here (Policy, KmsMasterKeyId, ...), kept and returned as given.
    extra_attributes: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def replace(self, **changes: Any) -> Queue:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class OutgoingMessage:
    """A message as sent, before the store gives it a place in its queue."""

    id: str
    body: str
    attributes: Mapping[str, MessageAttribute] = field(default_factory=dict)
    system_attributes: Mapping[str, MessageAttribute] = field(default_factory=dict)
    delay_s: int = 0
    group_id: str | None = None
    dedup_id: str | None = None

    @property
    def md5_of_body(self) -> str:
        return md5_of_body(self.body)


@dataclass(frozen=True)
class Message:
    """A stored message. ``receipt_token`` is the lease of its latest receive (None: never received);
    ``visible_at`` is when it may be received (again); ``sequence`` orders a queue's messages."""

    id: str
    queue_name: str
    sequence: int
    body: str
    sent_at: float
    visible_at: float
    attributes: Mapping[str, MessageAttribute] = field(default_factory=dict)
    system_attributes: Mapping[str, MessageAttribute] = field(default_factory=dict)
    receive_count: int = 0
    first_received_at: float | None = None
    receipt_token: str | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    source_arn: str | None = None  # the queue it came from, when a redrive moved it to a dead-letter queue

    @property
    def md5_of_body(self) -> str:
        return md5_of_body(self.body)

    def replace(self, **changes: Any) -> Message:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class MessageCounts:
    """Exact counts of a queue's messages: ready to receive, received and not yet visible again, delayed."""

    visible: int = 0
    in_flight: int = 0
    delayed: int = 0


class LeaseOutcome(enum.Enum):
    """What a delete or visibility change by receipt handle found."""

    DONE = "done"
    GONE = "gone"  # no such message (deleted, purged, expired, moved)
    STALE = "stale"  # received again since: the handle's lease is no longer the message's
    NOT_IN_FLIGHT = "not-in-flight"  # visibility change of a message whose visibility timeout already ran out


def format_sequence(sequence: int) -> str:
    """SQS's ``SequenceNumber``: a large decimal string (20 digits here)."""
    return f"{sequence:020d}"


# -- MD5 digests, exactly as SQS computes them -------------------------------------------------------------------
def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attributes: Mapping[str, MessageAttribute]) -> str | None:
    """``MD5OfMessageAttributes`` (and ``MD5OfMessageSystemAttributes``): for each attribute in name order, the
    name, the data type and the value, each as a 4-byte big-endian length and its UTF-8 bytes, with a transport
    byte (1: String/Number, 2: Binary) before the value. None without attributes (SQS leaves the field out)."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attribute = attributes[name]
        digest.update(_length_prefixed(name.encode("utf-8")))
        digest.update(_length_prefixed(attribute.data_type.encode("utf-8")))
        digest.update(bytes([_TRANSPORT.get(attribute.base_type, 1)]))
        if attribute.base_type == "Binary":
            digest.update(_length_prefixed(attribute.binary_value or b""))
        else:
            digest.update(_length_prefixed((attribute.string_value or "").encode("utf-8")))
    return digest.hexdigest()


def attribute_size(name: str, attribute: MessageAttribute) -> int:
    """What an attribute counts toward the message size limit: name, type and value bytes."""
    value = attribute.binary_value or b"" if attribute.base_type == "Binary" else attribute.string_value or ""
    size = len(value) if isinstance(value, bytes) else len(value.encode("utf-8"))
    return len(name.encode("utf-8")) + len(attribute.data_type.encode("utf-8")) + size
