"""The errors of streams, as Kinesis Data Streams sends them (JSON 1.1 protocol), in the ``LambdaHostError`` tree.

Kinesis answers errors with status 400 (500 for its own failures) and a JSON body ``{"__type": "<Code>",
"message": "..."}``; botocore raises the exception class named by ``__type`` (``client.exceptions.
ResourceNotFoundException``) with ``Error.Code`` set to it.
"""

from __future__ import annotations

from typing import Any

from lambdahost.core.errors import LambdaHostError


class StreamError(LambdaHostError):
    status = 400
    code = "InvalidArgumentException"
    message_key = "message"

    def body(self) -> dict[str, Any]:
        return {"__type": self.code, "message": self.message}


class InvalidArgument(StreamError):
    code = "InvalidArgumentException"


class StreamValidationError(StreamError):
    """A value outside the model's constraints ("1 validation error detected: ...")."""

    code = "ValidationException"


class StreamNotFound(StreamError):
    code = "ResourceNotFoundException"


class StreamInUse(StreamError):
    code = "ResourceInUseException"


class ExpiredIterator(StreamError):
    code = "ExpiredIteratorException"


class UnknownStreamOperation(StreamError):
    code = "UnknownOperationException"


class StreamInternalFailure(StreamError):
    status = 500
    code = "InternalFailure"


def constraint(value: object, member: str, rule: str) -> StreamValidationError:
    """AWS's model validation message for one member."""
    return StreamValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    )
