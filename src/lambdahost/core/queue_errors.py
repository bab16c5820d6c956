"""The errors of named message queues, as Amazon SQS sends them (JSON protocol), in the ``LambdaHostError`` tree.

SQS moved from the query protocol to JSON and kept the old codes: an error's JSON body carries the modelled shape
name (``"__type": "com.amazonaws.sqs#QueueDoesNotExist"``), and the ``x-amzn-query-error`` header the query code
and fault (``AWS.SimpleQueueService.NonExistentQueue;Sender``). botocore raises the exception class named by the
shape (``client.exceptions.QueueDoesNotExist``) with ``Error.Code`` set to the query code, exactly as before.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lambdahost.core.errors import LambdaHostError

SQS_NAMESPACE = "com.amazonaws.sqs"


class QueueError(LambdaHostError):
    """Base of the SQS errors. ``code`` is the shape name (``__type``), ``query_code`` the legacy query code."""

    status = 400
    code = "InvalidParameterValueException"
    message_key = "message"
    query_code: ClassVar[str] = "InvalidParameterValue"

    @property
    def sender_fault(self) -> bool:
        return self.status < 500

    def body(self) -> dict[str, Any]:
        return {"__type": f"{SQS_NAMESPACE}#{self.code}", "message": self.message}

    def headers(self) -> dict[str, str]:
        return {"x-amzn-query-error": f"{self.query_code};{'Sender' if self.sender_fault else 'Receiver'}"}


class InvalidParameterValue(QueueError):
    """A parameter outside what SQS accepts (not a modelled shape: the query code is what clients see)."""


class MissingParameter(QueueError):
    code = "MissingRequiredParameterException"
    query_code = "MissingParameter"


class InvalidAction(QueueError):
    code = "InvalidAction"
    query_code = "InvalidAction"


class QueueDoesNotExist(QueueError):
    """The queue named by a URL, ARN or name does not exist (also raised to the engine's callers of ``send``)."""

    code = "QueueDoesNotExist"
    query_code = "AWS.SimpleQueueService.NonExistentQueue"


class ResourceNotFound(QueueError):
    status = 404
    code = "ResourceNotFoundException"
    query_code = "ResourceNotFoundException"


class QueueNameExists(QueueError):
    code = "QueueNameExists"
    query_code = "QueueAlreadyExists"


class InvalidAttributeName(QueueError):
    code = "InvalidAttributeName"
    query_code = "InvalidAttributeName"


class InvalidAttributeValue(QueueError):
    code = "InvalidAttributeValue"
    query_code = "InvalidAttributeValue"


class InvalidMessageContents(QueueError):
    code = "InvalidMessageContents"
    query_code = "InvalidMessageContents"


class ReceiptHandleIsInvalid(QueueError):
    code = "ReceiptHandleIsInvalid"
    query_code = "ReceiptHandleIsInvalid"


class MessageNotInflight(QueueError):
    code = "MessageNotInflight"
    query_code = "AWS.SimpleQueueService.MessageNotInflight"


class EmptyBatchRequest(QueueError):
    code = "EmptyBatchRequest"
    query_code = "AWS.SimpleQueueService.EmptyBatchRequest"


class TooManyEntriesInBatchRequest(QueueError):
    code = "TooManyEntriesInBatchRequest"
    query_code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(QueueError):
    code = "BatchEntryIdsNotDistinct"
    query_code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(QueueError):
    code = "InvalidBatchEntryId"
    query_code = "AWS.SimpleQueueService.InvalidBatchEntryId"


class BatchRequestTooLong(QueueError):
    code = "BatchRequestTooLong"
    query_code = "AWS.SimpleQueueService.BatchRequestTooLong"


class UnsupportedOperation(QueueError):
    code = "UnsupportedOperation"
    query_code = "AWS.SimpleQueueService.UnsupportedOperation"


class InternalError(QueueError):
    status = 500
    code = "InternalError"
    query_code = "InternalError"


def by_code() -> dict[str, type[QueueError]]:
    """Shape name (``__type`` after ``#``) -> class, for clients that turn responses back into exceptions."""
    table: dict[str, type[QueueError]] = {}
    pending: list[type[QueueError]] = [QueueError]
    while pending:
        cls = pending.pop()
        table.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    table["InvalidParameterValueException"] = InvalidParameterValue
    return table
