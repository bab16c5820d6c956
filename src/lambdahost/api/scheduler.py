"""EventBridge Scheduler's API, the subset boto3's ``scheduler`` client needs for schedules that invoke functions:
``CreateSchedule`` (``POST /schedules/{Name}``), ``GetSchedule`` (``GET``), ``UpdateSchedule`` (``PUT``),
``DeleteSchedule`` (``DELETE``) and ``ListSchedules`` (``GET /schedules``), with botocore's shapes (rest-json;
timestamps as epoch seconds) and Scheduler's errors. ``Target.Arn`` must name a Lambda function; only the
``default`` schedule group exists.

lambdahost's additions, ignored by botocore: a request may say ``"LambdahostEventFormat": "rule"`` to deliver an
EventBridge rule's "Scheduled Event" instead of Scheduler's default notification, and a schedule's shape carries
``LambdahostEventFormat``, ``LambdahostNextFireTime`` and ``LambdahostLastFireTime`` (epoch seconds or absent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambdahost.api.wire import json_body, json_response
from lambdahost.core.errors import ValidationError
from lambdahost.core.model import LATEST, ScheduleConfig
from lambdahost.core.scheduling import DEFAULT_GROUP
from lambdahost.engine.schedules import check_group

if TYPE_CHECKING:
    from lambdahost.server import Platform

DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE_S = 86400
_UNSUPPORTED_TARGET = (
    "EcsParameters",
    "EventBridgeParameters",
    "EventBridgePutEventsV2Parameters",
    "EventBridgePutRawEventsParameters",
    "KinesisParameters",
    "SageMakerPipelineParameters",
    "SqsParameters",
)


def _field(body: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    value = body.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool)):
        raise ValidationError(f"{where}{key} has the wrong type: {value!r}.")
    return value


def _time(body: dict[str, Any], key: str) -> float | None:
    value = _field(body, key, (int, float))
    return None if value is None else float(value)


def draft_from(name: str, body: dict[str, Any]) -> ScheduleConfig:
    """The schedule a Create/UpdateSchedule body describes (times unset: the service sets them)."""
    check_group(_field(body, "GroupName", str))
    expression = _field(body, "ScheduleExpression", str)
    target = _field(body, "Target", dict)
    window = _field(body, "FlexibleTimeWindow", dict)
    if expression is None or target is None or window is None:
        missing = [k for k, v in (("ScheduleExpression", expression), ("Target", target)) if v is None]
        raise ValidationError(f"Missing required parameter: {', '.join(missing) or 'FlexibleTimeWindow'}.")
    arn = _field(target, "Arn", str, "Target.")
    role = _field(target, "RoleArn", str, "Target.")
    if arn is None or role is None:
        raise ValidationError("Target.Arn and Target.RoleArn are required.")
    unsupported = [key for key in _UNSUPPORTED_TARGET if key in target]
    if unsupported:
        raise ValidationError(f"Target.{unsupported[0]} is not supported: lambdahost schedules invoke functions.")
    retry = _field(target, "RetryPolicy", dict, "Target.") or {}
    dead_letter = _field(target, "DeadLetterConfig", dict, "Target.") or {}
    mode = _field(window, "Mode", str, "FlexibleTimeWindow.")
    minutes = _field(window, "MaximumWindowInMinutes", int, "FlexibleTimeWindow.")
    if mode not in ("OFF", "FLEXIBLE"):
        raise ValidationError(f"FlexibleTimeWindow.Mode must be OFF or FLEXIBLE, not {mode!r}.")
    if mode == "FLEXIBLE" and minutes is None:
        raise ValidationError("FlexibleTimeWindow.MaximumWindowInMinutes is required when Mode is FLEXIBLE.")
    if mode == "OFF" and minutes is not None:
        raise ValidationError("FlexibleTimeWindow.MaximumWindowInMinutes must not be set when Mode is OFF.")
    if mode == "FLEXIBLE" and minutes is not None and minutes < 1:
        raise ValidationError("FlexibleTimeWindow.MaximumWindowInMinutes must be between 1 and 1440.")
    state = _field(body, "State", str) or "ENABLED"
    if state not in ("ENABLED", "DISABLED"):
        raise ValidationError(f"State must be ENABLED or DISABLED, not {state!r}.")
    return ScheduleConfig(
        name=name,
        expression=expression,
        function_name=arn,
        created_at=0.0,
        last_modified=0.0,
        qualifier=LATEST,
        timezone=_field(body, "ScheduleExpressionTimezone", str) or "UTC",
        input=_field(target, "Input", str, "Target."),
        enabled=state == "ENABLED",
        flexible_window_minutes=minutes or 0,
        start_date=_time(body, "StartDate"),
        end_date=_time(body, "EndDate"),
        description=_field(body, "Description", str) or "",
        kind=_field(body, "LambdahostEventFormat", str) or ScheduleConfig.SCHEDULER,
        role_arn=role,
        retry_max_attempts=_field(retry, "MaximumRetryAttempts", int, "Target.RetryPolicy."),
        retry_max_event_age_s=_field(retry, "MaximumEventAgeInSeconds", int, "Target.RetryPolicy."),
        dead_letter_arn=_field(dead_letter, "Arn", str, "Target.DeadLetterConfig."),
        action_after_completion=_field(body, "ActionAfterCompletion", str) or "NONE",
        kms_key_arn=_field(body, "KmsKeyArn", str),
    )


def routes(platform: Platform) -> list[Route]:
    service = platform.schedules

    def target_arn(schedule: ScheduleConfig) -> str:
        qualifier = None if schedule.qualifier == LATEST else schedule.qualifier
        return platform.functions.arn(schedule.function_name, qualifier)

    def shape(schedule: ScheduleConfig) -> dict[str, Any]:
        target: dict[str, Any] = {
            "Arn": target_arn(schedule),
            "RoleArn": schedule.role_arn or "",
            "RetryPolicy": {
                "MaximumEventAgeInSeconds": schedule.retry_max_event_age_s or DEFAULT_EVENT_AGE_S,
                "MaximumRetryAttempts": (
                    DEFAULT_RETRY_ATTEMPTS if schedule.retry_max_attempts is None else schedule.retry_max_attempts
                ),
            },
        }
        if schedule.input is not None:
            target["Input"] = schedule.input
        if schedule.dead_letter_arn is not None:
            target["DeadLetterConfig"] = {"Arn": schedule.dead_letter_arn}
        window: dict[str, Any] = {"Mode": "FLEXIBLE" if schedule.flexible_window_minutes else "OFF"}
        if schedule.flexible_window_minutes:
            window["MaximumWindowInMinutes"] = schedule.flexible_window_minutes
        found: dict[str, Any] = {
            "Arn": service.arn(schedule.name),
            "GroupName": DEFAULT_GROUP,
            "Name": schedule.name,
            "ScheduleExpression": schedule.expression,
            "ScheduleExpressionTimezone": schedule.timezone,
            "Description": schedule.description,
            "State": "ENABLED" if schedule.enabled else "DISABLED",
            "CreationDate": schedule.created_at,
            "LastModificationDate": schedule.last_modified,
            "Target": target,
            "FlexibleTimeWindow": window,
            "ActionAfterCompletion": schedule.action_after_completion,
            "LambdahostEventFormat": schedule.kind,
        }
        optional = {
            "StartDate": schedule.start_date,
            "EndDate": schedule.end_date,
            "KmsKeyArn": schedule.kms_key_arn,
            "LambdahostNextFireTime": schedule.next_fire_at,
            "LambdahostLastFireTime": schedule.last_fired_at,
        }
        found.update((key, value) for key, value in optional.items() if value is not None)
        return found

    def summary(schedule: ScheduleConfig) -> dict[str, Any]:
        full = shape(schedule)
        keys = ("Arn", "Name", "GroupName", "State", "CreationDate", "LastModificationDate")
        return {key: full[key] for key in keys} | {
            "Target": {"Arn": full["Target"]["Arn"]},
            "ScheduleExpression": schedule.expression,
            "LambdahostNextFireTime": schedule.next_fire_at,
        }

    async def create(request: Request) -> Response:
        draft = draft_from(request.path_params["name"], await json_body(request))
        created = await run_in_threadpool(service.create, draft)
        return json_response({"ScheduleArn": service.arn(created.name)})

    async def update(request: Request) -> Response:
        draft = draft_from(request.path_params["name"], await json_body(request))
        updated = await run_in_threadpool(service.update, draft)
        return json_response({"ScheduleArn": service.arn(updated.name)})

    async def get(request: Request) -> Response:
        check_group(request.query_params.get("groupName"))
        return json_response(shape(await run_in_threadpool(service.get, request.path_params["name"])))

    async def delete(request: Request) -> Response:
        check_group(request.query_params.get("groupName"))
        await run_in_threadpool(service.delete, request.path_params["name"])
        return json_response({})

    async def list_schedules(request: Request) -> Response:
        params = request.query_params
        check_group(params.get("ScheduleGroup"))
        raw = params.get("MaxResults", "100")
        if not raw.isdigit():
            raise ValidationError(f"MaxResults must be an integer between 1 and 100, not {raw!r}.")
        page, token = await run_in_threadpool(
            service.list, params.get("NamePrefix"), params.get("State"), params.get("NextToken"), int(raw)
        )
        body: dict[str, Any] = {"Schedules": [summary(s) for s in page]}
        if token is not None:
            body["NextToken"] = token
        return json_response(body)

    return [
        Route("/schedules", list_schedules, methods=["GET"]),
        Route("/schedules/{name}", create, methods=["POST"]),
        Route("/schedules/{name}", get, methods=["GET"]),
        Route("/schedules/{name}", update, methods=["PUT"]),
        Route("/schedules/{name}", delete, methods=["DELETE"]),
    ]
