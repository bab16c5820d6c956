"""The environment variables a function sees: AWS's reserved ones, plus an endpoint, region and credentials
that point unmodified boto3 code inside the function at this platform (placeholders while authentication is off,
the platform's function key pair when it is on: see ``Settings.function_credentials``)."""

from __future__ import annotations

import os
import re
import sys
import time

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.model import FunctionConfig
from lambdahost.core.secrets import references
from lambdahost.core.settings import Settings

RESERVED_KEYS = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
KEY_RE = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_])+$")
MAX_ENV_BYTES = 4096


def validate_variables(variables: object) -> dict[str, str]:
    """Check user variables as AWS does: names, reserved keys, string values, 4 KB in total."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidParameterValue("Environment.Variables must be a map of strings to strings.")
    reserved = sorted(k for k in variables if k in RESERVED_KEYS)
    if reserved:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment variables you "
            "have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {','.join(reserved)}"
        )
    for key, value in variables.items():
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise InvalidParameterValue(
                f"1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: "
                f"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
                f"[a-zA-Z]([a-zA-Z0-9_])+] (key {key!r})"
            )
        if not isinstance(value, str):
            raise InvalidParameterValue(f"Environment variable {key} must be a string.")
        references(value)  # a malformed {{secret.NAME}} is an error now, not literal text at run time
    import json

    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > MAX_ENV_BYTES:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment variables you "
            f"have provided exceeded the 4KB limit. String measured: {measured}"
        )
    return dict(variables)


def execution_env_name(runtime: str) -> str:
    return f"AWS_Lambda_{runtime}"


def function_environment(
    config: FunctionConfig, settings: Settings, code_dir: str, python: str | None = None
) -> dict[str, str]:
    """Everything the function process gets in ``os.environ`` (nothing else leaks from the platform). ``PATH``
    starts with the directory of ``python``, the interpreter that runs the function (default: the platform's), as
    AWS's starts with its runtime's ``/var/lang/bin``."""
    runtime_dir = os.path.dirname(os.path.abspath(__file__)).rsplit(os.sep, 1)[0] + os.sep + "runtime"
    python_bin = os.path.dirname(python or sys.executable)
    host_port = settings.endpoint_url.removeprefix("http://")
    stream = time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{config.version}]{config.revision_id.replace('-', '')}"
    env = {
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": code_dir,
        "LAMBDA_RUNTIME_DIR": runtime_dir,
        "_HANDLER": config.handler,
        "AWS_EXECUTION_ENV": execution_env_name(config.runtime),
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": config.version,
        "AWS_LAMBDA_LOG_GROUP_NAME": config.effective_log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_RUNTIME_API": host_port,
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_ENDPOINT_URL": settings.endpoint_url,
        "AWS_ACCESS_KEY_ID": settings.function_credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": settings.function_credentials.secret_access_key,
        "AWS_SESSION_TOKEN": "lambdahost-session",
    }
    env.update(config.environment)
    return env
