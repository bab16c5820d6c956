"""The Amazon SQS API subset (JSON protocol, as current botocore speaks it) as a raw ASGI endpoint.

``POST /`` with ``X-Amz-Target: AmazonSQS.<Operation>`` and a JSON body (``application/x-amz-json-1.0``);
``app.py`` routes such requests here. Answers are JSON; errors carry SQS's shape name in ``__type`` and the legacy
query code in the ``x-amzn-query-error`` header (``core/queue_errors.py``), so boto3 raises
``client.exceptions.QueueDoesNotExist`` and friends. Queue URLs are built from the request's ``Host``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from lambdahost.api.invoke import Receive, Scope, Send, read_body
from lambdahost.core import queue_errors as qe
from lambdahost.core import queue_rules as rules
from lambdahost.core.errors import InvalidParameterValue as LambdaInvalidParameterValue
from lambdahost.core.errors import LambdaHostError
from lambdahost.core.ids import new_request_id
from lambdahost.core.messages import (
    MAX_MESSAGE_SIZE,
    Message,
    MessageAttribute,
    attribute_size,
    format_sequence,
    md5_of_attributes,
)
from lambdahost.engine.message_moves import MessageMoves
from lambdahost.engine.message_queues import MessageQueues, SendEntry

TARGET_PREFIX = "AmazonSQS."
CONTENT_TYPE = b"application/x-amz-json-1.0"

log = logging.getLogger(__name__)

Params = dict[str, Any]
Operation = Callable[["SqsApi", Params, str], Awaitable[Params]]


def target_of(scope: Scope) -> str | None:
    """The SQS operation of a request (``X-Amz-Target: AmazonSQS.SendMessage`` -> ``SendMessage``), or None."""
    for name, value in scope["headers"]:
        if name == b"x-amz-target" and value.startswith(b"AmazonSQS."):
            return bytes(value[len(TARGET_PREFIX) :]).decode("latin-1")
    return None


def _base_url(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"host":
            return f"{scope.get('scheme', 'http')}://{value.decode('latin-1')}"
    return None


# -- parameters ----------------------------------------------------------------------------------------------------
def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise qe.MissingParameter(f"The request must contain the parameter {name}.")
    if not isinstance(value, str):
        raise qe.InvalidParameterValue(f"Value {value} for parameter {name} is invalid. Reason: Must be a string.")
    return value


def _int(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise qe.InvalidParameterValue(f"Value {value} for parameter {name} is invalid. Reason: Must be an integer.")
    return value


def _mapping(params: Params, name: str) -> dict[str, Any]:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise qe.InvalidParameterValue(f"Value for parameter {name} is invalid. Reason: Must be a map.")
    return value


def _names(params: Params, *keys: str) -> list[str]:
    found: list[str] = []
    for key in keys:
        value = params.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise qe.InvalidParameterValue(f"Value for parameter {key} is invalid. Reason: Must be a list of strings.")
        found += value
    return found


def message_attributes(raw: Mapping[str, Any], parameter: str = "MessageAttributes") -> dict[str, MessageAttribute]:
    """The wire shape ``{name: {"DataType", "StringValue" | "BinaryValue" (base64)}}`` as records."""
    attributes: dict[str, MessageAttribute] = {}
    for name, value in raw.items():
        if not isinstance(value, dict) or not isinstance(value.get("DataType"), str):
            raise qe.InvalidParameterValue(f"The message attribute '{name}' must contain a DataType.")
        binary = None
        if value.get("BinaryValue") is not None:
            try:
                binary = base64.b64decode(str(value["BinaryValue"]), validate=True)
            except (binascii.Error, ValueError):
                raise qe.InvalidParameterValue(f"The message attribute '{name}' has an invalid BinaryValue.") from None
        string = value.get("StringValue")
        if string is not None and not isinstance(string, str):
            raise qe.InvalidParameterValue(f"The message attribute '{name}' has an invalid StringValue.")
        attributes[name] = MessageAttribute(value["DataType"], string_value=string, binary_value=binary)
    return attributes


def attributes_wire(attributes: Mapping[str, MessageAttribute]) -> dict[str, dict[str, str]]:
    wire: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        value = {"DataType": attribute.data_type}
        if attribute.binary_value is not None:
            value["BinaryValue"] = base64.b64encode(attribute.binary_value).decode()
        else:
            value["StringValue"] = attribute.string_value or ""
        wire[name] = value
    return wire


def _selected(attributes: Mapping[str, MessageAttribute], names: list[str]) -> dict[str, MessageAttribute]:
    """``MessageAttributeNames``: ``All``/``.*``, names, or prefixes ending in ``.*``."""
    if not names:
        return {}
    if "All" in names or ".*" in names:
        return dict(attributes)
    prefixes = tuple(n[:-1] for n in names if n.endswith(".*"))
    return {k: v for k, v in attributes.items() if k in names or (prefixes and k.startswith(prefixes))}


def _entry(params: Params) -> SendEntry:
    return SendEntry(
        body=_required(params, "MessageBody"),
        attributes=message_attributes(_mapping(params, "MessageAttributes")),
        system_attributes=message_attributes(_mapping(params, "MessageSystemAttributes"), "MessageSystemAttributes"),
        delay_s=_int(params, "DelaySeconds"),
        group_id=params.get("MessageGroupId"),
        dedup_id=params.get("MessageDeduplicationId"),
    )


def _sent(message: Message, fifo: bool) -> Params:
    result: Params = {"MessageId": message.id, "MD5OfMessageBody": message.md5_of_body}
    md5 = md5_of_attributes(message.attributes)
    if md5 is not None:
        result["MD5OfMessageAttributes"] = md5
    system_md5 = md5_of_attributes(message.system_attributes)
    if system_md5 is not None:
        result["MD5OfMessageSystemAttributes"] = system_md5
    if fifo:
        result["SequenceNumber"] = format_sequence(message.sequence)
    return result


def _failure(entry_id: str, error: qe.QueueError) -> Params:
    return {"Id": entry_id, "SenderFault": error.sender_fault, "Code": error.query_code, "Message": error.message}


def _as_queue_error(exc: LambdaHostError) -> qe.QueueError:
    if isinstance(exc, qe.QueueError):
        return exc
    if isinstance(exc, LambdaInvalidParameterValue):
        return qe.InvalidParameterValue(exc.message)
    if exc.status < 500:
        return qe.InvalidParameterValue(exc.message)
    return qe.InternalError(exc.message)


class SqsApi:
    """The operations; each takes the JSON request and the base URL and returns the JSON response."""

    def __init__(self, queues: MessageQueues, moves: MessageMoves) -> None:
        self.queues = queues
        self.moves = moves

    def _system_attributes(self, message: Message, names: list[str], fifo: bool) -> dict[str, str]:
        wanted = set(names)
        values = {
            "SenderId": self.queues.account,
            "SentTimestamp": str(int(message.sent_at * 1000)),
            "ApproximateReceiveCount": str(message.receive_count),
            "ApproximateFirstReceiveTimestamp": str(int((message.first_received_at or message.sent_at) * 1000)),
        }
        if fifo:
            values["SequenceNumber"] = format_sequence(message.sequence)
            if message.dedup_id is not None:
                values["MessageDeduplicationId"] = message.dedup_id
        if message.group_id is not None:
            values["MessageGroupId"] = message.group_id
        trace = message.system_attributes.get("AWSTraceHeader")
        if trace is not None and trace.string_value is not None:
            values["AWSTraceHeader"] = trace.string_value
        if message.source_arn is not None:
            values["DeadLetterQueueSourceArn"] = message.source_arn
        return values if "All" in wanted else {k: v for k, v in values.items() if k in wanted}

    # -- queues ----------------------------------------------------------------------------------------------------
    async def create_queue(self, params: Params, base_url: str) -> Params:
        name = _required(params, "QueueName")
        attributes = {k: str(v) for k, v in _mapping(params, "Attributes").items()}
        tags = {k: str(v) for k, v in _mapping(params, "tags").items()}
        queue = await run_in_threadpool(self.queues.create, name, attributes, tags)
        return {"QueueUrl": self.queues.url(queue.name, base_url)}

    async def get_queue_url(self, params: Params, base_url: str) -> Params:
        owner = params.get("QueueOwnerAWSAccountId")
        if owner is not None and owner != self.queues.account:
            raise qe.QueueDoesNotExist("The specified queue does not exist.")
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueName"))
        return {"QueueUrl": self.queues.url(queue.name, base_url)}

    async def list_queues(self, params: Params, base_url: str) -> Params:
        max_results = _int(params, "MaxResults")
        if max_results is not None and not 1 <= max_results <= 1000:
            raise qe.InvalidParameterValue(
                f"Value {max_results} for parameter MaxResults is invalid. Reason: MaxResults must be an integer "
                "between 1 and 1000."
            )
        after = None
        token = params.get("NextToken")
        if token:
            try:
                after = base64.urlsafe_b64decode(str(token).encode()).decode()
            except (ValueError, binascii.Error):
                raise qe.InvalidParameterValue("Invalid NextToken value.") from None
        limit = max_results or 1000
        prefix = params.get("QueueNamePrefix") or None
        found = await run_in_threadpool(self.queues.list_queues, prefix, after, limit + 1)
        result: Params = {}
        if found[:limit]:
            result["QueueUrls"] = [self.queues.url(q.name, base_url) for q in found[:limit]]
        if max_results is not None and len(found) > limit:
            result["NextToken"] = base64.urlsafe_b64encode(found[limit - 1].name.encode()).decode()
        return result

    async def delete_queue(self, params: Params, base_url: str) -> Params:
        await run_in_threadpool(self.queues.delete, _required(params, "QueueUrl"))
        return {}

    async def purge_queue(self, params: Params, base_url: str) -> Params:
        await run_in_threadpool(self.queues.purge, _required(params, "QueueUrl"))
        return {}

    async def get_queue_attributes(self, params: Params, base_url: str) -> Params:
        names = _names(params, "AttributeNames")
        values = await run_in_threadpool(self.queues.attributes, _required(params, "QueueUrl"), names)
        return {"Attributes": values} if values else {}

    async def set_queue_attributes(self, params: Params, base_url: str) -> Params:
        attributes = {k: str(v) for k, v in _mapping(params, "Attributes").items()}
        await run_in_threadpool(self.queues.set_attributes, _required(params, "QueueUrl"), attributes)
        return {}

    async def list_queue_tags(self, params: Params, base_url: str) -> Params:
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueUrl"))
        return {"Tags": dict(queue.tags)} if queue.tags else {}

    async def tag_queue(self, params: Params, base_url: str) -> Params:
        tags = {k: str(v) for k, v in _mapping(params, "Tags").items()}
        await run_in_threadpool(self.queues.tag, _required(params, "QueueUrl"), tags, [])
        return {}

    async def untag_queue(self, params: Params, base_url: str) -> Params:
        keys = _names(params, "TagKeys")
        await run_in_threadpool(self.queues.tag, _required(params, "QueueUrl"), {}, keys)
        return {}

    async def list_dead_letter_source_queues(self, params: Params, base_url: str) -> Params:
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueUrl"))
        arn = self.queues.arn(queue.name)
        every = await run_in_threadpool(self.queues.list_queues)
        urls = [
            self.queues.url(q.name, base_url)
            for q in every
            if q.redrive_policy is not None and q.redrive_policy.dead_letter_target_arn == arn
        ]
        return {"queueUrls": urls}

    # -- messages --------------------------------------------------------------------------------------------------
    async def send_message(self, params: Params, base_url: str) -> Params:
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueUrl"))
        entry = _entry(params)
        result = (await run_in_threadpool(self.queues.send_batch, queue.name, [entry]))[0]
        if isinstance(result, qe.QueueError):
            raise result
        return _sent(result, queue.fifo)

    async def send_message_batch(self, params: Params, base_url: str) -> Params:
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueUrl"))
        raw = params.get("Entries") or []
        rules.check_batch(raw, "SendMessageBatchRequestEntry")
        entries: list[SendEntry | qe.QueueError] = []
        total = 0
        for item in raw:
            try:
                entry = _entry(item)
            except qe.QueueError as exc:
                entries.append(exc)
                continue
            total += len(entry.body.encode("utf-8", "surrogatepass"))
            total += sum(attribute_size(name, a) for name, a in (entry.attributes or {}).items())
            entries.append(entry)
        if total > MAX_MESSAGE_SIZE:
            raise qe.BatchRequestTooLong(
                f"Batch requests cannot be longer than {MAX_MESSAGE_SIZE} bytes. You have sent {total} bytes."
            )
        valid = [e for e in entries if isinstance(e, SendEntry)]
        sent = iter(await run_in_threadpool(self.queues.send_batch, queue.name, valid) if valid else [])
        successful: list[Params] = []
        failed: list[Params] = []
        for item, prepared in zip(raw, entries, strict=True):
            outcome = prepared if isinstance(prepared, qe.QueueError) else next(sent)
            if isinstance(outcome, qe.QueueError):
                failed.append(_failure(item["Id"], outcome))
            else:
                successful.append({"Id": item["Id"], **_sent(outcome, queue.fifo)})
        return {"Successful": successful, "Failed": failed}

    async def receive_message(self, params: Params, base_url: str) -> Params:
        queue_url = _required(params, "QueueUrl")
        system_names = _names(params, "AttributeNames", "MessageSystemAttributeNames")
        attribute_names = _names(params, "MessageAttributeNames")
        found = await self.queues.receive_async(
            queue_url,
            max_messages=_int(params, "MaxNumberOfMessages") or 1,
            visibility_timeout_s=_int(params, "VisibilityTimeout"),
            wait_s=_int(params, "WaitTimeSeconds"),
        )
        if not found:
            return {}
        fifo = found[0].queue_name.endswith(".fifo")
        messages = []
        for message in found:
            wire: Params = {
                "MessageId": message.id,
                "ReceiptHandle": self.queues.receipt_handle(message),
                "MD5OfBody": message.md5_of_body,
                "Body": message.body,
            }
            system = self._system_attributes(message, system_names, fifo)
            if system:
                wire["Attributes"] = system
            selected = _selected(message.attributes, attribute_names)
            if selected:
                wire["MessageAttributes"] = attributes_wire(selected)
                wire["MD5OfMessageAttributes"] = md5_of_attributes(selected)
            messages.append(wire)
        return {"Messages": messages}

    async def delete_message(self, params: Params, base_url: str) -> Params:
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueUrl"))
        await run_in_threadpool(self.queues.delete_message, queue, _required(params, "ReceiptHandle"))
        return {}

    async def delete_message_batch(self, params: Params, base_url: str) -> Params:
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueUrl"))
        raw = params.get("Entries") or []
        rules.check_batch(raw, "DeleteMessageBatchRequestEntry")
        given = [item for item in raw if item.get("ReceiptHandle")]
        deleted = iter(await run_in_threadpool(self.queues.delete_messages, queue, [i["ReceiptHandle"] for i in given]))
        missing = qe.MissingParameter("The request must contain the parameter ReceiptHandle.")
        errors = [next(deleted) if item.get("ReceiptHandle") else missing for item in raw]  # one transaction
        return {
            "Successful": [{"Id": item["Id"]} for item, error in zip(raw, errors, strict=True) if error is None],
            "Failed": [
                _failure(item["Id"], error) for item, error in zip(raw, errors, strict=True) if error is not None
            ],
        }

    async def change_message_visibility(self, params: Params, base_url: str) -> Params:
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueUrl"))
        timeout = _int(params, "VisibilityTimeout")
        if timeout is None:
            raise qe.MissingParameter("The request must contain the parameter VisibilityTimeout.")
        await run_in_threadpool(self.queues.change_visibility, queue, _required(params, "ReceiptHandle"), timeout)
        return {}

    async def change_message_visibility_batch(self, params: Params, base_url: str) -> Params:
        queue = await run_in_threadpool(self.queues.get, _required(params, "QueueUrl"))
        raw = params.get("Entries") or []
        rules.check_batch(raw, "ChangeMessageVisibilityBatchRequestEntry")

        def each(item: Params) -> None:
            timeout = _int(item, "VisibilityTimeout")
            if timeout is None:
                raise qe.MissingParameter("The request must contain the parameter VisibilityTimeout.")
            self.queues.change_visibility(queue, _required(item, "ReceiptHandle"), timeout)

        return await self._batch(raw, each)

    async def _batch(self, raw: list[Params], each: Callable[[Params], None]) -> Params:
        def run() -> Params:
            successful: list[Params] = []
            failed: list[Params] = []
            for item in raw:
                try:
                    each(item)
                except LambdaHostError as exc:
                    failed.append(_failure(item["Id"], _as_queue_error(exc)))
                else:
                    successful.append({"Id": item["Id"]})
            return {"Successful": successful, "Failed": failed}

        return await run_in_threadpool(run)

    # -- dead-letter queue redrive (engine/message_moves.py) ------------------------------------------------------
    async def start_message_move_task(self, params: Params, base_url: str) -> Params:
        rate = params.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool)):
            raise qe.InvalidParameterValue("MaxNumberOfMessagesPerSecond must be an integer.")
        destination = params.get("DestinationArn")
        if destination is not None and not isinstance(destination, str):
            raise qe.InvalidParameterValue("DestinationArn must be a string.")
        task = await run_in_threadpool(self.moves.start, str(_required(params, "SourceArn")), destination, rate)
        return {"TaskHandle": task.handle}

    async def list_message_move_tasks(self, params: Params, base_url: str) -> Params:
        limit = params.get("MaxResults")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
            raise qe.InvalidParameterValue("MaxResults must be an integer.")
        tasks = await run_in_threadpool(self.moves.list, str(_required(params, "SourceArn")), limit)
        results: list[Params] = []
        for task in tasks:
            entry: Params = {
                "TaskHandle": task.handle,
                "Status": task.status,
                "SourceArn": task.source_arn,
                "ApproximateNumberOfMessagesMoved": task.moved,
                "ApproximateNumberOfMessagesToMove": task.moved,
                "StartedTimestamp": int(task.started_at * 1000),
            }
            if task.destination_arn is not None:
                entry["DestinationArn"] = task.destination_arn
            if task.max_per_second is not None:
                entry["MaxNumberOfMessagesPerSecond"] = task.max_per_second
            results.append(entry)
        return {"Results": results}

    async def cancel_message_move_task(self, params: Params, base_url: str) -> Params:
        moved = await run_in_threadpool(self.moves.cancel, str(_required(params, "TaskHandle")))
        return {"ApproximateNumberOfMessagesMoved": moved}


OPERATIONS: dict[str, Operation] = {
    "CreateQueue": SqsApi.create_queue,
    "GetQueueUrl": SqsApi.get_queue_url,
    "ListQueues": SqsApi.list_queues,
    "DeleteQueue": SqsApi.delete_queue,
    "PurgeQueue": SqsApi.purge_queue,
    "GetQueueAttributes": SqsApi.get_queue_attributes,
    "SetQueueAttributes": SqsApi.set_queue_attributes,
    "ListQueueTags": SqsApi.list_queue_tags,
    "TagQueue": SqsApi.tag_queue,
    "UntagQueue": SqsApi.untag_queue,
    "ListDeadLetterSourceQueues": SqsApi.list_dead_letter_source_queues,
    "SendMessage": SqsApi.send_message,
    "SendMessageBatch": SqsApi.send_message_batch,
    "ReceiveMessage": SqsApi.receive_message,
    "DeleteMessage": SqsApi.delete_message,
    "DeleteMessageBatch": SqsApi.delete_message_batch,
    "ChangeMessageVisibility": SqsApi.change_message_visibility,
    "ChangeMessageVisibilityBatch": SqsApi.change_message_visibility_batch,
    "StartMessageMoveTask": SqsApi.start_message_move_task,
    "ListMessageMoveTasks": SqsApi.list_message_move_tasks,
    "CancelMessageMoveTask": SqsApi.cancel_message_move_task,
}


class SqsEndpoint:
    """The ASGI endpoint: parse, dispatch, render (SQS's JSON errors, a catch-all ``InternalError``)."""

    def __init__(self, queues: MessageQueues, moves: MessageMoves) -> None:
        self.api = SqsApi(queues, moves)
        self.default_base_url = queues.base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send, operation: str) -> None:
        request_id = new_request_id()
        try:
            handler = OPERATIONS.get(operation)
            if handler is None:
                raise qe.InvalidAction(f"The action {operation} is not valid for this endpoint.")
            raw = await read_body(receive)
            try:
                params = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise qe.InvalidParameterValue("The request body is not valid JSON.") from None
            if not isinstance(params, dict):
                raise qe.InvalidParameterValue("The request body must be a JSON object.")
            result = await handler(self.api, params, _base_url(scope) or self.default_base_url)
            status, body, headers = 200, result, {}
        except LambdaHostError as exc:
            error = _as_queue_error(exc)
            if error.status >= 500:
                log.error("sqs error: %s", exc, extra={"action": "sqs_500", "operation": operation})
            status, body, headers = error.status, error.body(), error.headers()
        except Exception as exc:
            log.exception("unhandled error", extra={"action": "http_500", "operation": operation})
            error = qe.InternalError(f"Internal error: {type(exc).__name__}")
            status, body, headers = error.status, error.body(), error.headers()
        payload = json.dumps(body).encode()
        raw_headers = [
            (b"content-type", CONTENT_TYPE),
            (b"content-length", str(len(payload)).encode()),
            (b"x-amzn-requestid", request_id.encode()),
            *((name.encode(), value.encode()) for name, value in headers.items()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})
