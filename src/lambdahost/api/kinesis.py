"""The Kinesis Data Streams API subset (JSON 1.1 protocol) as a raw ASGI endpoint.

``POST /`` with ``X-Amz-Target: Kinesis_20131202.<Operation>`` and a JSON body (``application/x-amz-json-1.1``);
``app.py`` routes such requests here. ``Data`` is base64 on the wire, timestamps are epoch seconds. Errors are
``{"__type": "<Code>", "message": ...}`` with status 400 (``core/stream_errors.py``), which botocore turns into
``client.exceptions.<Code>``. With ``endpoint_url`` set, boto3's endpoint rules send every operation (also those
naming a ``StreamARN``) to that URL unchanged: no account-id or control/data-plane host prefixes.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from lambdahost.api.invoke import Receive, Scope, Send, read_body
from lambdahost.core.errors import LambdaHostError
from lambdahost.core.ids import new_request_id
from lambdahost.core.stream_errors import (
    InvalidArgument,
    StreamError,
    StreamInternalFailure,
    StreamValidationError,
    UnknownStreamOperation,
    constraint,
)
from lambdahost.core.streams import Shard, Stream, StreamRecord
from lambdahost.engine.streams import PutEntry, PutFailure, Streams

TARGET_PREFIX = b"Kinesis_20131202."
CONTENT_TYPE = b"application/x-amz-json-1.1"

log = logging.getLogger(__name__)

Params = dict[str, Any]
Operation = Callable[["KinesisApi", Params], Awaitable[Params]]


def target_of(scope: Scope) -> str | None:
    """The Kinesis operation of a request (``X-Amz-Target: Kinesis_20131202.PutRecord`` -> ``PutRecord``)."""
    for name, value in scope["headers"]:
        if name == b"x-amz-target" and value.startswith(TARGET_PREFIX):
            return bytes(value[len(TARGET_PREFIX) :]).decode("latin-1")
    return None


def _str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise StreamValidationError(f"Start of structure or map found where not expected: {name} must be a string.")
    return value


def _int(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise StreamValidationError(f"The value of {name} must be an integer.")
    return value


def _data(raw: Any) -> bytes:
    if not isinstance(raw, str):
        raise StreamValidationError(
            "1 validation error detected: Value null at 'data' failed to satisfy constraint: Member must not be null"
        )
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise StreamValidationError("Data must be base64-encoded.") from None


def _entry(params: Params) -> PutEntry:
    return PutEntry(_str(params, "PartitionKey"), _data(params.get("Data")), _str(params, "ExplicitHashKey"))


def _shard(shard: Shard) -> Params:
    return {
        "ShardId": shard.shard_id,
        "HashKeyRange": {"StartingHashKey": str(shard.starting_hash_key), "EndingHashKey": str(shard.ending_hash_key)},
        "SequenceNumberRange": {"StartingSequenceNumber": shard.starting_sequence_number},
    }


def _record(record: StreamRecord) -> Params:
    return {
        "SequenceNumber": record.sequence_number,
        "ApproximateArrivalTimestamp": record.arrival,
        "Data": base64.b64encode(record.data).decode(),
        "PartitionKey": record.partition_key,
    }


def _summary(stream: Stream) -> Params:
    return {
        "StreamName": stream.name,
        "StreamARN": stream.arn,
        "StreamStatus": stream.status,
        "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        "StreamCreationTimestamp": stream.created_at,
    }


class KinesisApi:
    """The operations; each takes the JSON request and returns the JSON response (store calls on threads)."""

    def __init__(self, streams: Streams) -> None:
        self.streams = streams

    def _name(self, params: Params) -> str:
        return self.streams.resolve(_str(params, "StreamName"), _str(params, "StreamARN"))

    async def create_stream(self, params: Params) -> Params:
        name = _str(params, "StreamName")
        if not name:
            raise constraint(name, "streamName", "Member must not be null")
        mode = (params.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        count = _int(params, "ShardCount")
        if mode == "PROVISIONED" and count is None and params.get("StreamModeDetails"):
            raise InvalidArgument("ShardCount is required for PROVISIONED streams.")
        await run_in_threadpool(self.streams.create, name, count)
        return {}

    async def describe_stream_summary(self, params: Params) -> Params:
        stream = await run_in_threadpool(self.streams.get, self._name(params))
        return {
            "StreamDescriptionSummary": {
                **_summary(stream),
                "RetentionPeriodHours": stream.retention_hours,
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
                "OpenShardCount": stream.shard_count,
                "ConsumerCount": 0,
            }
        }

    async def describe_stream(self, params: Params) -> Params:
        name = self._name(params)
        stream = await run_in_threadpool(self.streams.get, name)
        shards = await run_in_threadpool(self.streams.shards, name)
        start = _str(params, "ExclusiveStartShardId")
        if start:
            shards = [s for s in shards if s.shard_id > start]
        limit = _int(params, "Limit") or 100
        if not 1 <= limit <= 10_000:
            raise constraint(limit, "limit", "Member must have value less than or equal to 10000")
        return {
            "StreamDescription": {
                **_summary(stream),
                "Shards": [_shard(s) for s in shards[:limit]],
                "HasMoreShards": len(shards) > limit,
                "RetentionPeriodHours": stream.retention_hours,
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
            }
        }

    async def list_streams(self, params: Params) -> Params:
        limit = _int(params, "Limit") or 100
        if not 1 <= limit <= 10_000:
            raise constraint(limit, "limit", "Member must have value less than or equal to 10000")
        after = _str(params, "ExclusiveStartStreamName")
        token = _str(params, "NextToken")
        if token:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except (ValueError, binascii.Error):
                raise InvalidArgument(f"NextToken {token} is invalid.") from None
        found = await run_in_threadpool(self.streams.list_streams, after, limit + 1)
        page = found[:limit]
        result: Params = {
            "StreamNames": [s.name for s in page],
            "HasMoreStreams": len(found) > limit,
            "StreamSummaries": [_summary(s) for s in page],
        }
        if len(found) > limit:
            result["NextToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        return result

    async def delete_stream(self, params: Params) -> Params:
        await run_in_threadpool(self.streams.delete, self._name(params))
        return {}

    async def list_shards(self, params: Params) -> Params:
        token = _str(params, "NextToken")
        if token:
            if params.get("StreamName") or params.get("StreamARN"):
                raise InvalidArgument("NextToken and StreamName cannot be provided together.")
            try:
                name, start = json.loads(base64.urlsafe_b64decode(token.encode()))
            except (ValueError, TypeError, binascii.Error):
                raise InvalidArgument(f"NextToken {token} is invalid.") from None
        else:
            name, start = self._name(params), _str(params, "ExclusiveStartShardId")
        limit = _int(params, "MaxResults") or 1000
        if not 1 <= limit <= 10_000:
            raise constraint(limit, "maxResults", "Member must have value less than or equal to 10000")
        shards = await run_in_threadpool(self.streams.shards, name)
        if start:
            shards = [s for s in shards if s.shard_id > start]
        result: Params = {"Shards": [_shard(s) for s in shards[:limit]]}
        if len(shards) > limit:
            result["NextToken"] = base64.urlsafe_b64encode(
                json.dumps([name, shards[limit - 1].shard_id]).encode()
            ).decode()
        return result

    async def put_record(self, params: Params) -> Params:
        name = self._name(params)
        outcome = (await run_in_threadpool(self.streams.put, name, [_entry(params)]))[0]
        if isinstance(outcome, PutFailure):
            raise StreamInternalFailure(outcome.error_message)
        return {"ShardId": outcome.shard_id, "SequenceNumber": outcome.sequence_number, "EncryptionType": "NONE"}

    async def put_records(self, params: Params) -> Params:
        name = self._name(params)
        raw = params.get("Records")
        if not isinstance(raw, list):
            raise constraint(raw, "records", "Member must not be null")
        entries = [_entry(item if isinstance(item, dict) else {}) for item in raw]
        outcomes = await run_in_threadpool(self.streams.put, name, entries)
        records: list[Params] = []
        for outcome in outcomes:
            if isinstance(outcome, PutFailure):
                records.append({"ErrorCode": outcome.error_code, "ErrorMessage": outcome.error_message})
            else:
                records.append({"SequenceNumber": outcome.sequence_number, "ShardId": outcome.shard_id})
        failed = sum(1 for o in outcomes if isinstance(o, PutFailure))
        return {"FailedRecordCount": failed, "Records": records, "EncryptionType": "NONE"}

    async def get_shard_iterator(self, params: Params) -> Params:
        name = self._name(params)
        shard_id = _str(params, "ShardId")
        kind = _str(params, "ShardIteratorType")
        if not shard_id:
            raise constraint(shard_id, "shardId", "Member must not be null")
        if not kind:
            raise constraint(kind, "shardIteratorType", "Member must not be null")
        stamp = params.get("Timestamp")
        if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int | float)):
            raise StreamValidationError("Timestamp must be epoch seconds.")
        token = await run_in_threadpool(
            self.streams.iterator, name, shard_id, kind, _str(params, "StartingSequenceNumber"), stamp
        )
        return {"ShardIterator": token}

    async def get_records(self, params: Params) -> Params:
        token = _str(params, "ShardIterator")
        if not token:
            raise constraint(token, "shardIterator", "Member must not be null")
        result = await run_in_threadpool(self.streams.read, token, _int(params, "Limit"))
        return {
            "Records": [_record(r) for r in result.records],
            "NextShardIterator": result.next_iterator,
            "MillisBehindLatest": result.millis_behind,
        }


OPERATIONS: dict[str, Operation] = {
    "CreateStream": KinesisApi.create_stream,
    "DescribeStreamSummary": KinesisApi.describe_stream_summary,
    "DescribeStream": KinesisApi.describe_stream,
    "ListStreams": KinesisApi.list_streams,
    "DeleteStream": KinesisApi.delete_stream,
    "ListShards": KinesisApi.list_shards,
    "PutRecord": KinesisApi.put_record,
    "PutRecords": KinesisApi.put_records,
    "GetShardIterator": KinesisApi.get_shard_iterator,
    "GetRecords": KinesisApi.get_records,
}


def _as_stream_error(exc: LambdaHostError) -> StreamError:
    if isinstance(exc, StreamError):
        return exc
    if exc.status < 500:
        return InvalidArgument(exc.message)
    return StreamInternalFailure(exc.message)


class KinesisEndpoint:
    """The ASGI endpoint: parse, dispatch, render (Kinesis's JSON errors, a catch-all ``InternalFailure``)."""

    def __init__(self, streams: Streams) -> None:
        self.api = KinesisApi(streams)

    async def __call__(self, scope: Scope, receive: Receive, send: Send, operation: str) -> None:
        request_id = new_request_id()
        try:
            handler = OPERATIONS.get(operation)
            if handler is None:
                raise UnknownStreamOperation(f"Operation {operation} is not supported by lambdahost.")
            raw = await read_body(receive)
            try:
                params = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise StreamValidationError("The request body is not valid JSON.") from None
            if not isinstance(params, dict):
                raise StreamValidationError("The request body must be a JSON object.")
            status, body = 200, await handler(self.api, params)
        except LambdaHostError as exc:
            error = _as_stream_error(exc)
            if error.status >= 500:
                log.error("kinesis error: %s", exc, extra={"action": "kinesis_500", "operation": operation})
            status, body = error.status, error.body()
        except Exception as exc:
            log.exception("unhandled error", extra={"action": "http_500", "operation": operation})
            error = StreamInternalFailure(f"Internal error: {type(exc).__name__}")
            status, body = error.status, error.body()
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", CONTENT_TYPE),
            (b"content-length", str(len(payload)).encode()),
            (b"x-amzn-requestid", request_id.encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
