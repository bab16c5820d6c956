"""``Streams``: named streams (the Kinesis Data Streams subset) over the store, for the Kinesis API, the CLI and the
stream poller.

A stream is addressed by name or ARN (``arn:aws:kinesis:<region>:<account>:stream/<name>``). Requests are checked
the way Kinesis checks them, with its error codes and messages (``core/stream_errors.py``). A shard iterator is an
opaque token holding the stream, the shard, the sequence to read after and when it was made; like Kinesis's it
expires after 5 minutes, and each ``GetRecords`` answer carries the next one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lambdahost.core import streams as s
from lambdahost.core.errors import LambdaHostError, StorageError
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.settings import Settings
from lambdahost.core.stream_errors import (
    ExpiredIterator,
    InvalidArgument,
    StreamInUse,
    StreamNotFound,
    constraint,
)
from lambdahost.storage.base import Store

DEFAULT_SHARD_COUNT = 4  # what an on-demand stream starts with
ITERATOR_TTL_S = 300.0
MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024
ITERATOR_TYPES = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
_ARN_PATTERN = r"arn:aws.*:kinesis:.*:\d{12}:stream/\S+"


@dataclass(frozen=True)
class PutEntry:
    """One record of a PutRecord(s) request, as sent (``data`` already decoded from base64)."""

    partition_key: str | None
    data: bytes
    explicit_hash_key: str | None = None


@dataclass(frozen=True)
class PutFailure:
    """A record of PutRecords that was not stored (Kinesis reports these per record, the request succeeds)."""

    error_code: str
    error_message: str


@dataclass(frozen=True)
class ReadResult:
    records: list[s.StreamRecord]
    next_iterator: str
    millis_behind: int


class Streams:
    def __init__(self, store: Store, settings: Settings, clock: Clock = wall_clock) -> None:
        self.store = store
        self.region = settings.region
        self.account = settings.account_id
        self.clock = clock

    # -- names -----------------------------------------------------------------------------------------------------
    def arn(self, name: str) -> str:
        return s.stream_arn(self.region, self.account, name)

    def not_found(self, name: str) -> StreamNotFound:
        return StreamNotFound(f"Stream {name} under account {self.account} not found.")

    def resolve(self, name: str | None = None, arn: str | None = None) -> str:
        """The stream name of a request's ``StreamName`` and/or ``StreamARN`` (the stream need not exist)."""
        if arn:
            if not _matches(arn):
                raise constraint(arn, "streamARN", f"Member must satisfy regular expression pattern: {_ARN_PATTERN}")
            parts = arn.split(":", 5)
            arn_name = parts[5][len("stream/") :]
            if parts[4] != self.account or parts[3] != self.region:
                raise StreamNotFound(f"Stream {arn_name} under account {parts[4]} not found.")
            if name and name != arn_name:
                raise InvalidArgument("StreamARN and StreamName refer to different streams.")
            name = arn_name
        if not name:
            raise InvalidArgument("Either StreamName or StreamARN should be provided.")
        check_name(name)
        return name

    def exists(self, arn: str) -> bool:
        """Whether the stream an ARN names exists (for event source mappings)."""
        try:
            return self.store.get_stream(self.resolve(arn=arn)) is not None
        except LambdaHostError:
            return False

    def get(self, name: str) -> s.Stream:
        stream = self.store.get_stream(name)
        if stream is None:
            raise self.not_found(name)
        return stream

    # -- streams ---------------------------------------------------------------------------------------------------
    def create(self, name: str, shard_count: int | None = None) -> s.Stream:
        check_name(name)
        count = DEFAULT_SHARD_COUNT if shard_count is None else shard_count
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise constraint(count, "shardCount", "Member must have value greater than or equal to 1")
        if count > s.MAX_SHARDS:
            raise InvalidArgument(
                f"This request would exceed the shard limit for the account {self.account} in {self.region}. "
                f"Current shard count for the account: 0. Limit: {s.MAX_SHARDS}. Number of additional shards that "
                f"would have resulted from this request: {count}."
            )
        stream = s.Stream(name, self.region, self.account, count, self.clock())
        if not self.store.insert_stream(stream, s.new_shards(name, count)):
            raise StreamInUse(f"Stream {name} under account {self.account} already exists.")
        return stream

    def list_streams(self, after: str | None = None, limit: int = 100) -> list[s.Stream]:
        return self.store.list_streams(after, limit)

    def delete(self, name: str) -> None:
        if not self.store.delete_stream(name):
            raise self.not_found(name)

    def shards(self, name: str) -> list[s.Shard]:
        self.get(name)
        return self.store.list_shards(name)

    def shard(self, name: str, shard_id: str) -> s.Shard:
        for shard in self.shards(name):
            if shard.shard_id == shard_id:
                return shard
        raise StreamNotFound(f"Shard {shard_id} in stream {name} under account {self.account} does not exist")

    # -- records ---------------------------------------------------------------------------------------------------
    def put(self, name: str, entries: Sequence[PutEntry]) -> list[s.StreamRecord | PutFailure]:
        """Store records in order (one transaction); every entry is checked first, and a bad one fails the request
        (as in Kinesis). A store failure fails every record with ``InternalFailure`` (PutRecords reports it per
        record; PutRecord raises it)."""
        if len(entries) > s.MAX_PUT_RECORDS:
            raise constraint("[...]", "records", f"Member must have length less than or equal to {s.MAX_PUT_RECORDS}")
        if not entries:
            raise constraint("[]", "records", "Member must have length greater than or equal to 1")
        records = [_new_record(entry) for entry in entries]
        total = sum(len(r.data) + len(r.partition_key.encode()) for r in records)
        if total > s.MAX_PUT_RECORDS_BYTES:
            raise InvalidArgument(f"Records size exceeds {s.MAX_PUT_RECORDS_BYTES // (1024 * 1024)} MB limit")
        try:
            stored = self.store.put_records(name, records, self.clock())
        except StorageError:
            failure = PutFailure("InternalFailure", "Internal service failure.")
            return [failure for _ in records]
        if stored is None:
            raise self.not_found(name)
        return list(stored)

    def iterator(
        self,
        name: str,
        shard_id: str,
        iterator_type: str,
        sequence_number: str | None = None,
        timestamp: float | None = None,
    ) -> str:
        shard = self.shard(name, shard_id)
        if iterator_type not in ITERATOR_TYPES:
            raise constraint(
                iterator_type,
                "shardIteratorType",
                f"Member must satisfy enum value set: [{', '.join(ITERATOR_TYPES)}]",
            )
        if iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if not sequence_number:
                raise InvalidArgument(f"StartingSequenceNumber is required for ShardIteratorType {iterator_type}.")
            sequence = self.sequence_in(shard, sequence_number)
            after = sequence - 1 if iterator_type == "AT_SEQUENCE_NUMBER" else sequence
        elif iterator_type == "AT_TIMESTAMP":
            if timestamp is None:
                raise InvalidArgument("Timestamp is required for ShardIteratorType AT_TIMESTAMP.")
            after = self.store.sequence_before(name, shard_id, timestamp)
        elif iterator_type == "LATEST":
            after = shard.last_sequence
        else:
            after = 0
        return self._token(name, shard_id, max(after, 0))

    def sequence_in(self, shard: s.Shard, sequence_number: str) -> int:
        try:
            index, sequence = s.parse_sequence(sequence_number)
        except ValueError:
            raise InvalidArgument(
                f"StartingSequenceNumber {sequence_number} used in GetShardIterator on shard "
                f"{shard.shard_id} in stream {shard.stream_name} under account {self.account} is "
                "invalid."
            ) from None
        if index != shard.index:
            raise InvalidArgument(
                f"Invalid StartingSequenceNumber. It encodes {s.shard_id(index)}, while it was used in a call to a "
                f"shard with {shard.shard_id}"
            )
        return sequence

    def read(self, iterator: str, limit: int | None = None) -> ReadResult:
        name, shard_id, after, made_at = self._parse_token(iterator)
        now = self.clock()
        if now - made_at > ITERATOR_TTL_S:
            raise ExpiredIterator(
                f"Iterator expired. The iterator was created at time {_stamp(made_at)} while right now it is "
                f"{_stamp(now)} which is further in the future than the tolerated delay of "
                f"{int(ITERATOR_TTL_S * 1000)} milliseconds."
            )
        if limit is not None and not 1 <= limit <= s.MAX_GET_RECORDS:
            raise constraint(limit, "limit", f"Member must have value less than or equal to {s.MAX_GET_RECORDS}")
        shard = self.shard(name, shard_id)
        found = self.store.get_records(name, shard_id, after, now, limit or s.MAX_GET_RECORDS)
        records: list[s.StreamRecord] = []
        size = 0
        for record in found:
            size += len(record.data) + len(record.partition_key)
            if records and size > MAX_GET_RECORDS_BYTES:
                break
            records.append(record)
        last = records[-1].sequence if records else after
        behind = 0 if last >= shard.last_sequence or not records else int((now - records[-1].arrival) * 1000)
        return ReadResult(records, self._token(name, shard_id, last), max(behind, 0))

    def _token(self, name: str, shard_id: str, after: int) -> str:
        raw = json.dumps([name, shard_id, after, self.clock()], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode()

    def _parse_token(self, token: str) -> tuple[str, str, int, float]:
        try:
            name, shard_id, after, made_at = json.loads(base64.urlsafe_b64decode(token.encode()))
            if not (isinstance(name, str) and isinstance(shard_id, str) and isinstance(after, int)):
                raise ValueError(token)
            return name, shard_id, after, float(made_at)
        except (ValueError, TypeError, binascii.Error):
            raise InvalidArgument("Invalid ShardIterator.") from None


def check_name(name: str) -> None:
    if not s.STREAM_NAME.fullmatch(name or ""):
        if len(name) > 128:
            raise constraint(name, "streamName", "Member must have length less than or equal to 128")
        raise constraint(name, "streamName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")


def _matches(arn: str) -> bool:
    return re.fullmatch(_ARN_PATTERN, arn) is not None and len(arn.split(":", 5)) == 6


def _new_record(entry: PutEntry) -> s.NewRecord:
    key = entry.partition_key
    if key is None or len(key) < 1:
        raise constraint(key or "", "partitionKey", "Member must have length greater than or equal to 1")
    if len(key) > s.MAX_PARTITION_KEY:
        raise constraint(key, "partitionKey", f"Member must have length less than or equal to {s.MAX_PARTITION_KEY}")
    if len(entry.data) + len(key.encode()) > s.MAX_RECORD_DATA:
        raise constraint(
            "java.nio.HeapByteBuffer", "data", f"Member must have length less than or equal to {s.MAX_RECORD_DATA}"
        )
    hash_key = s.partition_hash(key)
    if entry.explicit_hash_key is not None:
        explicit = entry.explicit_hash_key
        if not explicit.isdigit() or int(explicit) >= s.HASH_KEY_LIMIT:
            raise InvalidArgument(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                f"Specified value was {explicit}"
            )
        hash_key = int(explicit)
    return s.NewRecord(key, entry.data, hash_key, entry.explicit_hash_key)


def _stamp(at: float) -> int:
    return int(at * 1000)
