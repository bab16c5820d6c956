"""lambdahost's example function: greets ``event["name"]`` and shows what the context offers.

Invoke it with ``lambdahost invoke hello --payload '{"name": "Ada"}'``.
"""

from __future__ import annotations

from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    print(f"greeting {name}")
    return {
        "message": f"Hello, {name}!",
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function": context.function_name,
    }
