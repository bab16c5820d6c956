"""One exception tree for the whole platform.

Every error that can reach a client carries its HTTP status, its AWS wire code and the key AWS uses for the
message in the JSON body (``message`` for most, ``Message`` for some), so the API layer renders it in one place.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LambdaHostError(Exception):
    """Base of every error raised by lambdahost."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "ServiceException"
    message_key: ClassVar[str] = "Message"

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    @property
    def error_kind(self) -> str:
        """AWS's ``Type`` field: ``User`` for client errors, ``Service`` for server ones."""
        return "Service" if self.status >= 500 else "User"

    def body(self) -> dict[str, Any]:
        """The JSON body AWS sends for this error."""
        return {"Type": self.error_kind, self.message_key: self.message, **self.fields}

    def headers(self) -> dict[str, str]:
        return {}


class InvalidParameterValue(LambdaHostError):
    status = 400
    code = "InvalidParameterValueException"
    message_key = "message"


class ValidationError(InvalidParameterValue):
    """A request value outside its declared constraint ("1 validation error detected: ..."), as AWS's model
    validation reports it."""

    code = "ValidationException"


class InvalidRequestContent(LambdaHostError):
    status = 400
    code = "InvalidRequestContentException"
    message_key = "message"


class ResourceNotFound(LambdaHostError):
    status = 404
    code = "ResourceNotFoundException"
    message_key = "Message"


class ProvisionedConcurrencyConfigNotFound(ResourceNotFound):
    code = "ProvisionedConcurrencyConfigNotFoundException"


class ResourceConflict(LambdaHostError):
    status = 409
    code = "ResourceConflictException"
    message_key = "message"


class SchedulerConflict(LambdaHostError):
    """EventBridge Scheduler's conflict (a schedule name taken), where Lambda says ResourceConflictException."""

    status = 409
    code = "ConflictException"
    message_key = "Message"


class ResourceInUse(LambdaHostError):
    status = 400
    code = "ResourceInUseException"
    message_key = "Message"


class PreconditionFailed(LambdaHostError):
    status = 412
    code = "PreconditionFailedException"
    message_key = "message"


class TooManyRequests(LambdaHostError):
    """Throttle. ``reason`` is AWS's ``Reason`` field (e.g. ``ConcurrentInvocationLimitExceeded``)."""

    status = 429
    code = "TooManyRequestsException"
    message_key = "message"

    def __init__(self, reason: str, message: str = "Rate Exceeded.", retry_after_s: int = 1) -> None:
        super().__init__(message, Reason=reason)
        self.reason = reason
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class RequestTooLarge(LambdaHostError):
    status = 413
    code = "RequestEntityTooLargeException"
    message_key = "message"


class UnsupportedMediaType(LambdaHostError):
    status = 415
    code = "UnsupportedMediaTypeException"
    message_key = "message"


class RecursiveInvocation(LambdaHostError):
    status = 400
    code = "RecursiveInvocationException"
    message_key = "Message"


class AccessDenied(LambdaHostError):
    status = 403
    code = "AccessDeniedException"
    message_key = "Message"


class MissingAuthenticationToken(AccessDenied):
    """Authentication is on and the request carries no ``Authorization`` header."""

    code = "MissingAuthenticationTokenException"
    message_key = "message"


class IncompleteSignature(AccessDenied):
    """The ``Authorization`` header is not a complete Signature Version 4 header."""

    code = "IncompleteSignatureException"
    message_key = "message"


class UnrecognizedClient(AccessDenied):
    """The access key id is not one the server knows."""

    code = "UnrecognizedClientException"
    message_key = "message"


class InvalidSignature(AccessDenied):
    """Wrong signature, wrong credential scope, or a request date outside the allowed window."""

    code = "InvalidSignatureException"
    message_key = "message"


class ServiceError(LambdaHostError):
    status = 500
    code = "ServiceException"
    message_key = "Message"


class StorageError(ServiceError):
    """A database driver error, translated once at the storage adapter."""


class RuntimeFailure(ServiceError):
    """The platform could not start or talk to an execution environment (not a function error)."""


class SecretNotFound(LambdaHostError):
    """A function's environment references a secret (``{{secret.NAME}}``) that does not exist: nothing runs."""

    status = 400
    code = "SecretNotFoundException"
    message_key = "message"


class SecretKeyError(ServiceError):
    """The secrets' encryption key is unusable (malformed, or a key file readable by others): the platform does
    not start."""

    code = "SecretKeyError"


class SecretKeyMismatch(ServiceError):
    """A stored secret does not decrypt with this process's key: it was encrypted with another one."""

    code = "SecretKeyMismatchException"
    message_key = "message"
