"""The named message queue operations of ``Client`` (the SQS JSON protocol), as a mixin: ``Client`` provides
``_sqs``, which sends one operation signed for service ``sqs`` and raises the queue errors AWS names."""

from __future__ import annotations

import abc
from typing import Any


class MessageQueueClient(abc.ABC):
    @abc.abstractmethod
    def _sqs(self, operation: str, request: dict[str, Any]) -> dict[str, Any]: ...

    def create_queue(self, name: str, attributes: dict[str, str] | None = None) -> str:
        """CreateQueue (idempotent with the same attributes); returns the queue URL."""
        return str(self._sqs("CreateQueue", {"QueueName": name, "Attributes": attributes or {}})["QueueUrl"])

    def list_queues(self, prefix: str | None = None) -> list[str]:
        """Every queue URL (whose name starts with ``prefix``)."""
        urls: list[str] = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {"MaxResults": 1000}
            if prefix:
                request["QueueNamePrefix"] = prefix
            if token:
                request["NextToken"] = token
            page = self._sqs("ListQueues", request)
            urls += page.get("QueueUrls", [])
            token = page.get("NextToken")
            if not token:
                return urls

    def queue_attributes(self, queue: str, names: list[str] | None = None) -> dict[str, str]:
        found = self._sqs("GetQueueAttributes", {"QueueUrl": queue, "AttributeNames": names or ["All"]})
        attributes: dict[str, str] = found.get("Attributes", {})
        return attributes

    def delete_queue(self, queue: str) -> None:
        self._sqs("DeleteQueue", {"QueueUrl": queue})

    def start_message_move_task(self, source_arn: str, destination_arn: str | None = None) -> str:
        """StartMessageMoveTask: a dead-letter queue's messages back to their sources (or to ``destination_arn``);
        returns the task handle."""
        request = {"SourceArn": source_arn} | ({"DestinationArn": destination_arn} if destination_arn else {})
        return str(self._sqs("StartMessageMoveTask", request)["TaskHandle"])

    def list_message_move_tasks(self, source_arn: str, limit: int = 10) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = self._sqs("ListMessageMoveTasks", {"SourceArn": source_arn, "MaxResults": limit})[
            "Results"
        ]
        return tasks

    def purge_queue(self, queue: str) -> None:
        self._sqs("PurgeQueue", {"QueueUrl": queue})

    def send_message(self, queue: str, body: str, **fields: Any) -> dict[str, Any]:
        """SendMessage; ``fields`` are more of SQS's request keys (``DelaySeconds``, ``MessageGroupId``...)."""
        return self._sqs("SendMessage", {"QueueUrl": queue, "MessageBody": body, **fields})

    def receive_messages(
        self, queue: str, max_messages: int = 1, wait_s: int = 0, visibility_timeout_s: int | None = None
    ) -> list[dict[str, Any]]:
        """ReceiveMessage (long polling up to ``wait_s``), with every system and message attribute."""
        request: dict[str, Any] = {
            "QueueUrl": queue,
            "MaxNumberOfMessages": max_messages,
            "WaitTimeSeconds": wait_s,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if visibility_timeout_s is not None:
            request["VisibilityTimeout"] = visibility_timeout_s
        messages: list[dict[str, Any]] = self._sqs("ReceiveMessage", request).get("Messages", [])
        return messages

    def delete_message(self, queue: str, receipt_handle: str) -> None:
        self._sqs("DeleteMessage", {"QueueUrl": queue, "ReceiptHandle": receipt_handle})
