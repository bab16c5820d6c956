"""Domain records -> AWS Lambda wire shapes (as in botocore's lambda 2015-03-31 model). Pure functions."""

from __future__ import annotations

from typing import Any

from lambdahost.core.ids import format_last_modified
from lambdahost.core.model import FunctionConfig, Invocation


def code_sha256(sha256_hex: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def function_configuration(config: FunctionConfig, arn: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "FunctionName": config.name,
        "FunctionArn": arn,
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": config.code_size,
        "Description": config.description,
        "Timeout": config.timeout_s,
        "MemorySize": config.memory_mb,
        "LastModified": format_last_modified(config.last_modified),
        "CodeSha256": code_sha256(config.code_sha256_hex),
        "Version": config.version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": config.revision_id,
        "State": config.state.value,
        "LastUpdateStatus": config.last_update_status.value,
        "PackageType": "Zip",
        "Architectures": list(config.architectures),
        "EphemeralStorage": {"Size": config.ephemeral_storage_mb},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": config.log_format, "LogGroup": config.effective_log_group},
    }
    if config.environment:
        out["Environment"] = {"Variables": dict(config.environment)}
    if config.dead_letter_target:
        out["DeadLetterConfig"] = {"TargetArn": config.dead_letter_target}
    if config.state_reason:
        out["StateReason"] = config.state_reason
    if config.state_reason_code:
        out["StateReasonCode"] = config.state_reason_code
    return out


def get_function(config: FunctionConfig, arn: str, code_location: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Configuration": function_configuration(config, arn),
        "Code": {"RepositoryType": "S3", "Location": code_location},
    }
    if config.tags:
        out["Tags"] = dict(config.tags)
    if config.reserved_concurrency is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": config.reserved_concurrency}
    return out


def invocation_summary(inv: Invocation) -> dict[str, Any]:
    return {
        "id": inv.id,
        "function": inv.function_name,
        "version": inv.version,
        "type": inv.type.value,
        "status": inv.status.value,
        "lane": inv.lane,
        "attempt": inv.attempt,
        "created_at": inv.created_at,
        "finished_at": inv.finished_at,
        "duration_ms": inv.duration_ms,
        "billed_duration_ms": inv.billed_duration_ms,
        "init_duration_ms": inv.init_duration_ms,
        "max_memory_mb": inv.max_memory_mb,
        "memory_mb": inv.memory_mb,
        "error_type": inv.error_type,
        "error_message": inv.error_message,
        "worker": inv.worker,
    }


def invocation_detail(inv: Invocation) -> dict[str, Any]:
    out = invocation_summary(inv)
    out.update(
        {
            "transitions": [{"status": t.status.value, "at": t.at, "worker": t.worker} for t in inv.transitions],
            "payload": inv.payload.decode("utf-8", "replace"),
            "result": None if inv.result is None else inv.result.decode("utf-8", "replace"),
            "function_error": inv.function_error,
            "log": inv.log,
            "log_truncated": inv.log_truncated,
            "trace": inv.trace,
            "routed_to": inv.routed_to,
            "route_condition": inv.route_condition,
        }
    )
    return out
