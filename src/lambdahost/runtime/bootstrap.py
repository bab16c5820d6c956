"""What runs inside an execution environment after it is forked: set the process up, run init (import the
handler), then serve invocations one at a time over the channel until it closes.

Frames (see ``protocol``): child -> parent a control frame ``{"k":"init","ok","ms","error"?}`` once; then per
invocation a binary invoke frame in and a binary reply frame (status, duration, peak memory, error type, result
or error JSON) out.
"""

from __future__ import annotations

import decimal
import json
import logging
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, NoReturn

from lambdahost.runtime import faults, sandbox
from lambdahost.runtime.context import LambdaContext, environment_fields
from lambdahost.runtime.protocol import (
    REPLY_BAD_EVENT,
    REPLY_ERROR,
    REPLY_OK,
    Channel,
    ChannelClosed,
    decode_invoke,
    encode_reply,
    recv_frame,
)

_request_id = ""
PROVIDED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "provided")
SNAPSHOT_HOOKS_MODULE = "snapshot_restore_py"
TRACE_VARIABLE = "_X_AMZN_TRACE_ID"
_context_env: tuple[str | None, ...] | None = None


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.terminator = ""
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]


def prepare_process() -> None:
    """The part of a new environment's setup that does not depend on the function (done ahead of time by
    pre-forked spare processes): own session, stdin from /dev/null, default signal handling."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def setup_process(spec: dict[str, Any], log_fd: int) -> None:
    """Function-specific setup: fds 1/2 to the log, working directory, environment, limits and sandbox."""
    os.makedirs(spec["tmp_dir"], exist_ok=True)
    output_dir = spec.get("output_dir")
    if output_dir:  # the files left there are the invocation's artifacts (runtime/outputs.py)
        os.makedirs(output_dir, exist_ok=True)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)
    code_dir = spec["code_dir"]
    os.environ.clear()
    os.environ.update(spec["env"])
    time.tzset()
    tempfile.tempdir = None
    os.chdir(code_dir)
    if code_dir not in sys.path:  # a snapshot child already has it from its template
        sys.path[:0] = [code_dir]
    if PROVIDED_DIR not in sys.path:
        sys.path.append(PROVIDED_DIR)  # after the function's own code: a bundled copy takes precedence
    sys.dont_write_bytecode = True
    nofile = int(spec.get("nofile", 1024))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), min(nofile, hard)))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = spec.get("fsize")
    if fsize:
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(fsize), int(fsize)))
    if spec.get("sandbox"):
        sandbox.restrict_writes([spec["tmp_dir"], "/dev/shm"])
    _setup_logging()
    global _context_env
    _context_env = environment_fields()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _decimal_default(obj: Any) -> Any:
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _max_rss_kb() -> int:
    return max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )


def run_init(
    chan: Channel, handler_name: str, before_ready: Callable[[], None] | None = None
) -> Callable[[Any, Any], Any]:
    """Import the handler (then run ``before_ready``, e.g. the before-snapshot hooks of a snapshot template);
    report the init outcome. On failure the process exits (as the AWS runtime does)."""
    started = time.perf_counter()
    try:
        handler = faults.load_handler(handler_name)
        if before_ready is not None:
            before_ready()
    except faults.FaultError as exc:
        error = faults.make_error(exc.message, exc.error_type, exc.trace)
    except Exception as exc:
        error = faults.fault_from_exception(exc)
    except SystemExit as exc:
        error = faults.make_error(f"Runtime exited with error: exit status {_exit_code(exc)}", faults.EXIT_ERROR, [])
    else:
        chan.send({"k": "init", "ok": True, "ms": (time.perf_counter() - started) * 1000})
        return handler
    _fail_init(chan, error, started)


def _fail_init(chan: Channel, error: dict[str, Any], started: float, snapshot: bool = False) -> NoReturn:
    sys.stderr.write(faults.log_line_for(error))
    _flush()
    chan.send(
        {
            "k": "init",
            "ok": False,
            "ms": (time.perf_counter() - started) * 1000,
            "error": error,
            "rss": _max_rss_kb(),
            "snapshot": snapshot,
        }
    )
    os._exit(1)


def run_hooks(kind: str) -> None:
    """Run the snapshot runtime hooks the function registered (``snapshot_restore_py``, if it imported it):
    ``before_snapshot`` in reverse order of registration, ``after_restore`` in order. A failing hook raises
    ``FaultError`` with AWS's error type."""
    module = sys.modules.get(SNAPSHOT_HOOKS_MODULE)
    if module is None:
        return
    hooks = list(getattr(module, f"get_{kind}")())
    error_type = faults.BEFORE_SNAPSHOT_ERROR if kind == "before_snapshot" else faults.AFTER_RESTORE_ERROR
    for func, args, kwargs in reversed(hooks) if kind == "before_snapshot" else hooks:
        try:
            func(*args, **kwargs)
        except Exception as exc:
            fault = faults.fault_from_exception(exc)
            raise faults.FaultError(
                error_type, f"{fault['errorType']}: {fault['errorMessage']}", fault["stackTrace"]
            ) from exc


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    sys.stderr.write(f"{exc.code}\n")
    return 1


_RESPONSE_ENCODER = json.JSONEncoder(default=_decimal_default)


def invoke_once(
    handler: Callable[[Any, Any], Any], request_id: str, deadline_ms: int, arn: str, meta: bytes, body: bytes
) -> bytes:
    """Run one invocation; returns the encoded reply frame. ``SystemExit`` propagates (the runtime then exits)."""
    global _request_id
    _request_id = request_id
    started = time.perf_counter()
    error: dict[str, Any] | None = None
    out = b""
    try:
        event = json.loads(body) if body and not body.isspace() else {}
    except ValueError as exc:  # the platform turns this into the API's InvalidRequestContent; nothing ran
        return encode_reply(REPLY_BAD_EVENT, 0.0, 0, None, str(exc).encode())
    else:
        extra = json.loads(meta) if meta else {}
        trace = extra.get("tr")
        if trace is not None:  # boto3 in the handler sends it on as X-Amzn-Trace-Id (loop protection)
            os.environ[TRACE_VARIABLE] = trace
        elif TRACE_VARIABLE in os.environ:
            del os.environ[TRACE_VARIABLE]
        context = LambdaContext(
            request_id, extra.get("cc"), extra.get("ci"), deadline_ms, arn, environment=_context_env
        )
        try:
            result = handler(event, context)
        except Exception as exc:
            error = faults.fault_from_exception(exc, request_id)
        else:
            try:
                out = _RESPONSE_ENCODER.encode(result).encode()
            except (TypeError, ValueError, OverflowError) as exc:
                error = faults.make_error(f"Unable to marshal response: {exc}", faults.MARSHAL_ERROR, [], request_id)
            else:
                if len(out) > faults.MAX_RESPONSE_BYTES:
                    error = {
                        "errorMessage": "Response payload size exceeded maximum allowed payload size "
                        f"({faults.MAX_RESPONSE_BYTES} bytes).",
                        "errorType": faults.RESPONSE_TOO_LARGE,
                    }
    elapsed = (time.perf_counter() - started) * 1000
    if error is not None:
        sys.stderr.write(faults.log_line_for(error))
        out = json.dumps(error).encode()
    _flush()
    if error is None:
        return encode_reply(REPLY_OK, elapsed, _max_rss_kb(), None, out)
    return encode_reply(REPLY_ERROR, elapsed, _max_rss_kb(), error["errorType"], out)


def serve(chan: Channel, handler: Callable[[Any, Any], Any]) -> NoReturn:
    """Serve invocations until the parent closes the channel."""
    sock = chan.sock
    chunk = bytearray(65536)
    while True:
        try:
            request_id, deadline_ms, arn, meta, body = decode_invoke(recv_frame(sock, chunk))
        except (ChannelClosed, OSError):
            os._exit(0)
        try:
            reply = invoke_once(handler, request_id, deadline_ms, arn, meta, body)
        except SystemExit as exc:
            _flush()
            os._exit(_exit_code(exc))
        sock.sendall(reply)


def run_environment(chan: Channel, spec: dict[str, Any], log_fd: int) -> NoReturn:
    """Entry point of a freshly forked environment."""
    setup_process(spec, log_fd)
    if spec.get("template"):
        handler = run_init(chan, spec["handler"], lambda: run_hooks("before_snapshot"))
        from lambdahost.runtime.forkserver import serve_forks

        serve_forks(chan, lambda c, s, fd: continue_environment(c, s, fd, handler))
    serve(chan, run_init(chan, spec["handler"]))


def continue_environment(
    chan: Channel, spec: dict[str, Any], log_fd: int, handler: Callable[[Any, Any], Any]
) -> NoReturn:
    """A snapshot child: the template already ran init; set up this process, run the after-restore hooks, serve.
    The reported time (the process's own restore work) is what AWS bills as the restore duration."""
    started = time.perf_counter()
    setup_process(spec, log_fd)
    try:
        run_hooks("after_restore")
    except faults.FaultError as exc:
        _fail_init(chan, faults.make_error(exc.message, exc.error_type, exc.trace), started, snapshot=True)
    chan.send({"k": "init", "ok": True, "ms": (time.perf_counter() - started) * 1000, "snapshot": True})
    serve(chan, handler)
