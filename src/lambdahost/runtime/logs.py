"""The platform's log lines around each invocation (START/END/REPORT, INIT_REPORT), bounded log bodies and
the 4 KB tail of ``X-Amz-Log-Result``. Pure functions."""

from __future__ import annotations

import base64
import math
import time

TAIL_BYTES = 4096


def billed_ms(duration_ms: float) -> int:
    return max(1, math.ceil(duration_ms))


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_duration_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
    billed_restore_ms: int | None = None,
) -> str:
    """AWS's REPORT line. A cold start shows ``Init Duration``; an environment restored from a snapshot shows
    ``Restore Duration`` and ``Billed Restore Duration`` instead (``billed_restore_ms`` set)."""
    fields = [
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_ms(duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_duration_ms is not None and billed_restore_ms is not None:
        fields.append(f"Restore Duration: {init_duration_ms:.2f} ms")
        fields.append(f"Billed Restore Duration: {billed_restore_ms} ms")
    elif init_duration_ms is not None:
        fields.append(f"Init Duration: {init_duration_ms:.2f} ms")
    if status:
        fields.append(f"Status: {status}")
    if error_type:
        fields.append(f"Error Type: {error_type}")
    return f"REPORT RequestId: {request_id}\t" + "\t".join(fields) + "\t\n"


def init_report_line(init_duration_ms: float, phase: str, status: str, error_type: str | None) -> str:
    line = f"INIT_REPORT Init Duration: {init_duration_ms:.2f} ms\tPhase: {phase}\tStatus: {status}"
    if error_type:
        line += f"\tError Type: {error_type}"
    return line + "\n"


def restore_report_line(restore_duration_ms: float, status: str, error_type: str | None) -> str:
    """The line a failed restore from a snapshot leaves (its after-restore hooks failed)."""
    line = f"RESTORE_REPORT Restore Duration: {restore_duration_ms:.2f} ms\tStatus: {status}"
    if error_type:
        line += f"\tError Type: {error_type}"
    return line + "\n"


def timestamp(epoch: float | None = None) -> str:
    now = time.time() if epoch is None else epoch
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int((now % 1) * 1000):03d}Z"


def bound(body: bytes, limit: int) -> tuple[str, bool]:
    """Decode a captured log body, keeping the head and tail when it is over ``limit`` bytes."""
    if len(body) <= limit:
        return body.decode("utf-8", "replace"), False
    half = limit // 2
    dropped = len(body) - 2 * half
    marker = f"\n... [lambdahost: {dropped} bytes of log truncated] ...\n".encode()
    return (body[:half] + marker + body[-half:]).decode("utf-8", "replace"), True


def tail_b64(log: str, size: int = TAIL_BYTES) -> str:
    """``X-Amz-Log-Result``: base64 of the last ``size`` bytes of the log."""
    return base64.b64encode(log.encode()[-size:]).decode()
