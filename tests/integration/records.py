"""Domain records for the store contract tests (``test_store_contract*.py``)."""

from __future__ import annotations

from lambdahost.core.model import CodePackage, FunctionConfig, Invocation, InvocationStatus, InvocationType, Transition

S = InvocationStatus
SHA_A = "a" * 64
SHA_B = "b" * 64
MIB = 1024 * 1024


def package(sha: str = SHA_A, created_at: float = 1_700_000_000.5) -> CodePackage:
    return CodePackage(sha256_hex=sha, size=123, unzipped_size=4567, entries=3, created_at=created_at)


def function(name: str = "fn", **changes: object) -> FunctionConfig:
    config = FunctionConfig(
        name=name,
        runtime="python3.12",
        handler="app.handler",
        role="arn:aws:iam::000000000000:role/lambda",
        code_sha256_hex=SHA_A,
        code_size=123,
        revision_id="rev-1",
        last_modified=1_700_000_000.25,
    )
    return config.replace(**changes)


def invocation(inv_id: str = "inv-1", **changes: object) -> Invocation:
    record = Invocation(
        id=inv_id,
        function_name="fn",
        version="$LATEST",
        type=InvocationType.EVENT,
        status=S.CREATED,
        created_at=1000.0,
        transitions=(Transition(S.CREATED, 1000.0),),
        payload=b'{"n": 1}',
    )
    return record.replace(**changes)


def finished(inv_id: str, finished_at: float, **changes: object) -> Invocation:
    return invocation(inv_id, status=S.SUCCEEDED, finished_at=finished_at, log=f"log of {inv_id}\n", **changes)


# A record with every field set: a failed synchronous invocation that walked the whole lifecycle.
FULL = Invocation(
    id="inv-full",
    function_name="fn",
    version="7",
    type=InvocationType.SYNC,
    status=S.FAILED,
    created_at=1_700_000_000.123456,
    transitions=(
        Transition(S.CREATED, 1_700_000_000.123456),
        Transition(S.PENDING, 1_700_000_000.2),
        Transition(S.READY, 1_700_000_000.3, "worker-a"),
        Transition(S.RUNNING, 1_700_000_000.4, "worker-a"),
        Transition(S.FAILED, 1_700_000_001.5, "worker-a"),
    ),
    lane=2,
    attempt=3,
    payload=b'{"k": "v\\u00e9"}',
    result=b'{"errorMessage": "boom"}',
    function_error="Unhandled",
    error_type="ValueError",
    error_message="bäd ünïcode ✗",
    log="START RequestId: inv-full\nhéllo 🚀\nEND\n",
    log_truncated=True,
    duration_ms=1100.25,
    billed_duration_ms=1101,
    init_duration_ms=87.5,
    max_memory_mb=64,
    memory_mb=128,
    worker="worker-a",
    finished_at=1_700_000_001.5,
)
