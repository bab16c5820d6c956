"""The stream operations of ``Client`` (the Kinesis JSON 1.1 protocol), as a mixin: ``Client`` provides
``_request``, one signed request; ``_kinesis`` sends one operation signed for service ``kinesis``. Errors come
back as the exceptions ``client.error_from_response`` makes of Kinesis's ``__type`` codes."""

from __future__ import annotations

import abc
import base64
import json
from typing import Any


class StreamClient(abc.ABC):
    @abc.abstractmethod
    def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        progress: Any = None,
        service: str = "lambda",
    ) -> Any: ...

    def _kinesis(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"Kinesis_20131202.{operation}"}
        response = self._request("POST", "/", body=json.dumps(request).encode(), headers=headers, service="kinesis")
        result: dict[str, Any] = response.json()
        return result

    def create_stream(self, name: str, shard_count: int = 1) -> None:
        self._kinesis("CreateStream", {"StreamName": name, "ShardCount": shard_count})

    def describe_stream(self, name: str) -> dict[str, Any]:
        """DescribeStreamSummary's summary, with the shards of ListShards under ``Shards``."""
        summary: dict[str, Any] = self._kinesis("DescribeStreamSummary", {"StreamName": name})[
            "StreamDescriptionSummary"
        ]
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamName": name}
        while True:
            page = self._kinesis("ListShards", request)
            shards += page.get("Shards", [])
            if not page.get("NextToken"):
                return {**summary, "Shards": shards}
            request = {"NextToken": page["NextToken"]}

    def list_streams(self) -> list[dict[str, Any]]:
        """Every stream's summary (name, ARN, status, creation time), by name."""
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {"Limit": 1000}
        while True:
            page = self._kinesis("ListStreams", request)
            found += page.get("StreamSummaries", [])
            if not page.get("HasMoreStreams"):
                return found
            request = {"Limit": 1000, "NextToken": page["NextToken"]}

    def put_stream_records(self, name: str, records: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        """PutRecords: ``(partition key, data)`` pairs; each result has ``ShardId`` and ``SequenceNumber`` (or
        ``ErrorCode`` and ``ErrorMessage``)."""
        entries = [{"PartitionKey": key, "Data": base64.b64encode(data).decode()} for key, data in records]
        results: list[dict[str, Any]] = self._kinesis("PutRecords", {"StreamName": name, "Records": entries})["Records"]
        return results

    def delete_stream(self, name: str) -> None:
        self._kinesis("DeleteStream", {"StreamName": name})
