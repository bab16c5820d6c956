"""Streams (the Kinesis Data Streams subset): streams, shards, records and the shard leases of stream mappings.

A stream has a fixed number of shards; the 128-bit hash key space ``0 .. 2**128 - 1`` is split among them evenly,
as Kinesis does on ``CreateStream`` (shard ``i`` starts at ``i * (2**128 // n)``, the last one ends at the top). A
record goes to the shard whose range holds the MD5 of its partition key (as a big-endian integer), or its
``ExplicitHashKey``. Within a shard, records take increasing sequence numbers: stored as a plain integer (1, 2,
...) and shown as Kinesis-like 56-digit decimal strings (``49`` + 6 digits of shard index + 48 digits of the
integer), which sort the same way as text and as numbers. Times are epoch seconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

HASH_KEY_LIMIT = 2**128  # hash keys are 0 .. HASH_KEY_LIMIT - 1
DEFAULT_RETENTION_HOURS = 24
MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760
MAX_SHARDS = 500  # per stream, here (AWS's default account quota is higher and adjustable)
MAX_RECORD_DATA = 1024 * 1024  # data + partition key, per record
MAX_PARTITION_KEY = 256
MAX_PUT_RECORDS = 500
MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024
MAX_GET_RECORDS = 10_000
STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")

_SEQUENCE_PREFIX = "49"
_SEQUENCE_DIGITS = 48
_SHARD_DIGITS = 6


class StreamStatus:
    CREATING = "CREATING"
    DELETING = "DELETING"
    ACTIVE = "ACTIVE"
    UPDATING = "UPDATING"


@dataclass(frozen=True)
class Stream:
    name: str
    region: str
    account: str
    shard_count: int
    created_at: float
    retention_hours: int = DEFAULT_RETENTION_HOURS
    status: str = StreamStatus.ACTIVE

    @property
    def arn(self) -> str:
        return stream_arn(self.region, self.account, self.name)

    @property
    def retention_s(self) -> float:
        return self.retention_hours * 3600.0

    def replace(self, **changes: Any) -> Stream:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Shard:
    stream_name: str
    shard_id: str
    starting_hash_key: int
    ending_hash_key: int
    last_sequence: int = 0  # the sequence of the newest record put (0: none yet)

    @property
    def index(self) -> int:
        return shard_index(self.shard_id)

    @property
    def starting_sequence_number(self) -> str:
        return format_sequence(self.index, 0)

    def holds(self, hash_key: int) -> bool:
        return self.starting_hash_key <= hash_key <= self.ending_hash_key


@dataclass(frozen=True)
class NewRecord:
    """A record to put: ``hash_key`` chose its shard (the partition key's MD5 or the explicit hash key)."""

    partition_key: str
    data: bytes
    hash_key: int
    explicit_hash_key: str | None = None


@dataclass(frozen=True)
class StreamRecord:
    stream_name: str
    shard_id: str
    sequence: int
    partition_key: str
    data: bytes
    arrival: float
    explicit_hash_key: str | None = None

    @property
    def sequence_number(self) -> str:
        return format_sequence(shard_index(self.shard_id), self.sequence)


@dataclass(frozen=True)
class ShardLease:
    """The progress of one stream mapping on one shard, and which node processes it (``lease_owner`` until
    ``lease_expires``). ``checkpoint``: the sequence of the last record done with (None: not started; the starting
    position decides); ``last_arrival``: that record's arrival time (for the iterator age)."""

    mapping_uuid: str
    stream_name: str
    shard_id: str
    checkpoint: int | None
    lease_owner: str | None
    lease_expires: float
    last_arrival: float | None = None
    updated_at: float = 0.0


def stream_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def shard_index(shard: str) -> int:
    if not re.fullmatch(r"shardId-\d{12}", shard):
        raise ValueError(f"not a shard id: {shard}")
    return int(shard[len("shardId-") :])


def hash_ranges(shard_count: int) -> list[tuple[int, int]]:
    """Kinesis's even split of the hash key space among ``shard_count`` shards."""
    size = HASH_KEY_LIMIT // shard_count
    return [(i * size, HASH_KEY_LIMIT - 1 if i == shard_count - 1 else (i + 1) * size - 1) for i in range(shard_count)]


def new_shards(stream_name: str, shard_count: int) -> list[Shard]:
    return [Shard(stream_name, shard_id(i), lo, hi) for i, (lo, hi) in enumerate(hash_ranges(shard_count))]


def partition_hash(partition_key: str) -> int:
    """The hash key of a partition key: its UTF-8 bytes' MD5 as a 128-bit big-endian integer (as Kinesis)."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8"), usedforsecurity=False).digest(), "big")


def shard_for(shards: list[Shard], hash_key: int) -> Shard:
    for shard in shards:
        if shard.holds(hash_key):
            return shard
    raise ValueError(f"no shard holds hash key {hash_key}")


def format_sequence(index: int, sequence: int) -> str:
    return f"{_SEQUENCE_PREFIX}{index:0{_SHARD_DIGITS}d}{sequence:0{_SEQUENCE_DIGITS}d}"


def parse_sequence(sequence_number: str) -> tuple[int, int]:
    """(shard index, sequence) of a sequence number string; ``ValueError`` when it is not one of ours."""
    digits = len(_SEQUENCE_PREFIX) + _SHARD_DIGITS + _SEQUENCE_DIGITS
    if len(sequence_number) != digits or not sequence_number.isdigit() or not sequence_number.startswith("49"):
        raise ValueError(f"not a sequence number: {sequence_number}")
    start = len(_SEQUENCE_PREFIX)
    return int(sequence_number[start : start + _SHARD_DIGITS]), int(sequence_number[start + _SHARD_DIGITS :])


def route(shards: list[Shard], records: Sequence[NewRecord]) -> list[str]:
    """The shard id each record goes to."""
    return [shard_for(shards, record.hash_key).shard_id for record in records]


def numbered(
    stream_name: str, records: Sequence[NewRecord], targets: Sequence[str], base: Mapping[str, int], now: float
) -> list[StreamRecord]:
    """``records`` as stored: on the shards ``targets`` names, numbered on from each shard's ``base`` sequence."""
    last = dict(base)
    stored: list[StreamRecord] = []
    for record, target in zip(records, targets, strict=True):
        last[target] += 1
        stored.append(
            StreamRecord(
                stream_name=stream_name,
                shard_id=target,
                sequence=last[target],
                partition_key=record.partition_key,
                data=record.data,
                arrival=now,
                explicit_hash_key=record.explicit_hash_key,
            )
        )
    return stored
