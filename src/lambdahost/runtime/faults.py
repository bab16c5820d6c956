"""Function error payloads and handler loading, matching the AWS Python runtime (awslambdaric) exactly."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"
TIMEOUT = "Sandbox.Timedout"
EXIT_ERROR = "Runtime.ExitError"
OUT_OF_MEMORY = "Runtime.OutOfMemory"
BEFORE_SNAPSHOT_ERROR = "Runtime.BeforeSnapshotError"
AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"

MAX_RESPONSE_BYTES = 6291556

_RUNTIME_DIR_MARKERS = ("/lambdahost/runtime/",)


class FaultError(Exception):
    """A runtime fault with an AWS error type (``Runtime.*``)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def make_error(message: str, error_type: str, trace: list[str] | None, request_id: str = "") -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace or [],
    }


def _user_frames(tb: TracebackType | None) -> list[str]:
    frames = traceback.extract_tb(tb)
    for index, frame in enumerate(frames):
        if not any(marker in frame.filename for marker in _RUNTIME_DIR_MARKERS):
            return traceback.format_list(frames[index:])
    return []


def fault_from_exception(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """The payload for an unhandled exception: type name, message, stack without the runtime's own frames."""
    return make_error(str(exc), type(exc).__name__, _user_frames(exc.__traceback__), request_id)


def log_line_for(error: dict[str, Any]) -> str:
    """What the runtime prints to the log for an error: ``[ERROR] Type: message`` and the traceback."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}", "Traceback (most recent call last):"]
    lines.extend(frame.rstrip("\n") for frame in error.get("stackTrace", []))
    return "\n".join(lines) + "\n"


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """Import the handler's module and return the callable, raising ``FaultError`` as AWS does."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {exc}") from None
    if not modname or not fname:
        raise FaultError(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': empty module or function name")
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultError(BUILT_IN_MODULE_CONFLICT, f"Cannot use built-in module {modname} as a handler module")
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise FaultError(IMPORT_MODULE_ERROR, f"Unable to import module '{modname}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError(USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{modname}': {exc}", trace) from None
    try:
        func = getattr(module, fname)
    except AttributeError:
        raise FaultError(HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'") from None
    if not callable(func):
        raise FaultError(HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'")
    return func  # type: ignore[no-any-return]


def exit_description(status: int | None) -> str:
    """How AWS words a runtime exit: ``exit status 1``, ``signal: killed``..."""
    if status is None:
        return "Runtime exited without providing a reason"
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"Runtime exited with error: exit status {code}"
    names = {
        signal.SIGKILL: "killed",
        signal.SIGSEGV: "segmentation fault",
        signal.SIGABRT: "aborted",
        signal.SIGTERM: "terminated",
        signal.SIGBUS: "bus error",
        signal.SIGFPE: "floating point exception",
        signal.SIGILL: "illegal instruction",
    }
    sig = signal.Signals(-code)
    return f"Runtime exited with error: signal: {names.get(sig, sig.name.lower())}"
