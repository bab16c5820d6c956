"""Create/Update/Get/List/DeleteEventSourceMapping's rules (``core.event_source_mapping_rules`` and the service
``engine.event_source_mappings``) on the in-memory store: defaults, AWS's ranges and messages, queue-only and
stream-only settings, FIFO limits, existence of function, source and destination, and one mapping per pair."""

from __future__ import annotations

from typing import Any

import pytest

from lambdahost.core.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound, ValidationError
from lambdahost.core.event_source_mappings import MappingState, SourceKind, StartingPosition
from lambdahost.core.model import LATEST
from lambdahost.core.names import function_arn, parse_function_ref
from lambdahost.core.settings import Settings
from lambdahost.engine.event_source_mappings import EventSourceMappings
from lambdahost.storage.memory import InMemoryStore

QUEUE = "arn:aws:sqs:us-east-1:000000000000:orders"
FIFO = "arn:aws:sqs:us-east-1:000000000000:orders.fifo"
DLQ = "arn:aws:sqs:us-east-1:000000000000:failed"
STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"


class Functions:
    """What the service asks of ``FunctionService``: ``get`` (raising as it does), ``arn`` and ``settings``."""

    settings = Settings()

    def __init__(self, *names: str) -> None:
        self.names = set(names)

    def arn(self, name: str, qualifier: str | None = None) -> str:
        return function_arn("us-east-1", "000000000000", name, qualifier)

    def get(self, function_name: str, qualifier: str | None = None) -> Any:
        ref = parse_function_ref(function_name, qualifier)
        if ref.name not in self.names or ref.qualifier not in (None, LATEST):
            raise ResourceNotFound(f"Function not found: {self.arn(ref.name, ref.qualifier)}")
        return type("Config", (), {"name": ref.name, "timeout_s": 30})()


@pytest.fixture
def service() -> EventSourceMappings:
    queues = {QUEUE, FIFO, DLQ}
    changes: list[int] = []
    service = EventSourceMappings(
        InMemoryStore(),
        Functions("fn", "other"),  # type: ignore[arg-type]
        {SourceKind.QUEUE: queues.__contains__, SourceKind.STREAM: {STREAM}.__contains__},
        clock=lambda: 1_700_000_000.5,
        on_change=lambda: changes.append(1),
    )
    service.changes = changes  # type: ignore[attr-defined]
    return service


def create(service: EventSourceMappings, **request: Any) -> Any:
    return service.create({"FunctionName": "fn", "EventSourceArn": QUEUE, **request})


def test_queue_defaults(service: EventSourceMappings) -> None:
    mapping = create(service)
    assert (mapping.function_name, mapping.qualifier, mapping.source_kind) == ("fn", LATEST, SourceKind.QUEUE)
    assert (mapping.batch_size, mapping.maximum_batching_window_s, mapping.enabled) == (10, 0, True)
    assert mapping.state is MappingState.ENABLED and mapping.last_processing_result == "No records processed"
    assert mapping.last_modified == 1_700_000_000.5
    assert service.get(mapping.uuid) == mapping
    assert service.arn(mapping) == f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{mapping.uuid}"
    assert service.function_arn(mapping) == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert service.changes == [1]  # type: ignore[attr-defined]


def test_every_function_name_form(service: EventSourceMappings) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST"
    assert service.create({"FunctionName": arn, "EventSourceArn": QUEUE}).function_name == "fn"
    partial = "000000000000:function:other"
    assert service.create({"FunctionName": partial, "EventSourceArn": QUEUE}).function_name == "other"
    with pytest.raises(ResourceNotFound, match="Function not found"):
        service.create({"FunctionName": "missing", "EventSourceArn": QUEUE})
    with pytest.raises(ResourceNotFound):
        service.create({"FunctionName": "fn:live", "EventSourceArn": FIFO})
    with pytest.raises(InvalidParameterValue, match="FunctionName is required"):
        service.create({"EventSourceArn": QUEUE})


def test_sources_must_exist_and_be_of_a_known_kind(service: EventSourceMappings) -> None:
    with pytest.raises(InvalidParameterValue, match=r"AWS\.SimpleQueueService\.NonExistentQueue"):
        create(service, EventSourceArn="arn:aws:sqs:us-east-1:000000000000:nope")
    with pytest.raises(InvalidParameterValue, match="Stream not found"):
        create(service, EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/nope", StartingPosition="LATEST")
    with pytest.raises(InvalidParameterValue, match="Unsupported event source"):
        create(service, EventSourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x")
    with pytest.raises(InvalidParameterValue, match="EventSourceArn is required"):
        service.create({"FunctionName": "fn"})


@pytest.mark.parametrize(
    ("request_", "error", "message"),
    [
        (
            {"BatchSize": 0},
            ValidationError,
            "Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ),
        ({"BatchSize": 10001, "MaximumBatchingWindowInSeconds": 1}, ValidationError, "less than or equal to 10000"),
        ({"BatchSize": "5"}, ValidationError, "Member must be an integer"),
        (
            {"BatchSize": 11},
            InvalidParameterValue,
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ),
        ({"MaximumBatchingWindowInSeconds": 301}, ValidationError, "maximumBatchingWindowInSeconds"),
        ({"ScalingConfig": {"MaximumConcurrency": 1}}, ValidationError, "scalingConfig.maximumConcurrency"),
        ({"ScalingConfig": {"MaximumConcurrency": 1001}}, ValidationError, "less than or equal to 1000"),
        ({"FunctionResponseTypes": ["Nope"]}, ValidationError, "functionResponseTypes"),
        ({"FilterCriteria": {"Filters": [{"Pattern": "nope"}]}}, InvalidParameterValue, "Invalid filter pattern"),
        ({"StartingPosition": "LATEST"}, InvalidParameterValue, "Unsupported StartingPosition for SQS"),
        ({"ParallelizationFactor": 2}, InvalidParameterValue, "Unsupported ParallelizationFactor for SQS"),
        ({"BisectBatchOnFunctionError": True}, InvalidParameterValue, "Unsupported BisectBatchOnFunctionError"),
        ({"Topics": ["t"]}, InvalidParameterValue, "Topics is not supported"),
        ({"Enabled": "yes"}, ValidationError, "Member must be a boolean"),
    ],
)
def test_queue_settings_are_checked(
    service: EventSourceMappings, request_: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        create(service, **request_)
    assert service.list(None, None, None, None) == ([], None)  # nothing stored


def test_queue_settings_in_range(service: EventSourceMappings) -> None:
    mapping = create(
        service,
        BatchSize=10000,
        MaximumBatchingWindowInSeconds=300,
        ScalingConfig={"MaximumConcurrency": 1000},
        FunctionResponseTypes=["ReportBatchItemFailures"],
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"a": ["b"]}}'}]},
        Enabled=False,
    )
    assert (mapping.batch_size, mapping.maximum_batching_window_s, mapping.maximum_concurrency) == (10000, 300, 1000)
    assert mapping.reports_item_failures and mapping.filter_patterns == ('{"body": {"a": ["b"]}}',)
    assert (mapping.enabled, mapping.state) == (False, MappingState.DISABLED)


def test_fifo_queues_take_batches_of_at_most_10(service: EventSourceMappings) -> None:
    with pytest.raises(InvalidParameterValue, match="Batch size for FIFO queues must be between 1 and 10"):
        create(service, EventSourceArn=FIFO, BatchSize=11, MaximumBatchingWindowInSeconds=1)
    assert create(service, EventSourceArn=FIFO, BatchSize=10).batch_size == 10


def test_stream_settings(service: EventSourceMappings) -> None:
    with pytest.raises(InvalidParameterValue, match="StartingPosition is required"):
        create(service, EventSourceArn=STREAM)
    with pytest.raises(InvalidParameterValue, match="StartingPositionTimestamp is required"):
        create(service, EventSourceArn=STREAM, StartingPosition="AT_TIMESTAMP")
    with pytest.raises(InvalidParameterValue, match="Unsupported ScalingConfig for Kinesis"):
        create(service, EventSourceArn=STREAM, StartingPosition="LATEST", ScalingConfig={"MaximumConcurrency": 2})
    with pytest.raises(InvalidParameterValue, match=r"-1 .* or between 60 and 604800"):
        create(service, EventSourceArn=STREAM, StartingPosition="LATEST", MaximumRecordAgeInSeconds=59)
    with pytest.raises(ValidationError, match="parallelizationFactor"):
        create(service, EventSourceArn=STREAM, StartingPosition="LATEST", ParallelizationFactor=11)
    with pytest.raises(ValidationError, match="maximumRetryAttempts"):
        create(service, EventSourceArn=STREAM, StartingPosition="LATEST", MaximumRetryAttempts=-2)
    with pytest.raises(InvalidParameterValue, match="sends the on-failure records of stream mappings to queues"):
        create(
            service,
            EventSourceArn=STREAM,
            StartingPosition="LATEST",
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:sns:us-east-1:000000000000:topic"}},
        )
    with pytest.raises(InvalidParameterValue, match="no such queue"):
        create(
            service,
            EventSourceArn=STREAM,
            StartingPosition="LATEST",
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:nope"}},
        )
    mapping = create(
        service,
        EventSourceArn=STREAM,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=1_700_000_000,
        BatchSize=10000,
        ParallelizationFactor=10,
        MaximumRetryAttempts=10000,
        MaximumRecordAgeInSeconds=604800,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": DLQ}},
    )
    assert mapping.source_kind is SourceKind.STREAM and mapping.batch_size == 10000
    assert (mapping.starting_position, mapping.starting_position_timestamp) == (
        StartingPosition.AT_TIMESTAMP,
        1_700_000_000.0,
    )
    assert (mapping.parallelization_factor, mapping.maximum_retry_attempts, mapping.maximum_record_age_s) == (
        10,
        10000,
        604800,
    )
    assert mapping.bisect_batch_on_function_error and mapping.on_failure_destination == DLQ
    assert (
        create(service, EventSourceArn=STREAM, StartingPosition="TRIM_HORIZON", FunctionName="other").batch_size == 100
    )


def test_one_mapping_per_source_and_function(service: EventSourceMappings) -> None:
    first = create(service)
    with pytest.raises(ResourceConflict) as caught:
        create(service, FunctionName="arn:aws:lambda:us-east-1:000000000000:function:fn")
    assert caught.value.message == (
        f'An event source mapping with SQS arn (" {QUEUE} ") and function (" fn ") already exists. Please update '
        f"or delete the existing mapping with UUID {first.uuid}"
    )
    second = create(service, FunctionName="other")
    with pytest.raises(ResourceConflict):
        service.update(second.uuid, {"FunctionName": "fn"})


def test_update_merges_and_reports_the_transition(service: EventSourceMappings) -> None:
    mapping = create(service, FilterCriteria={"Filters": [{"Pattern": "{}"}]}, ScalingConfig={"MaximumConcurrency": 3})
    stored, state = service.update(mapping.uuid, {"BatchSize": 50, "MaximumBatchingWindowInSeconds": 2})
    assert state is MappingState.UPDATING
    assert (stored.batch_size, stored.maximum_batching_window_s, stored.filter_patterns) == (50, 2, ("{}",))
    assert stored.maximum_concurrency == 3
    stored, state = service.update(mapping.uuid, {"Enabled": False})
    assert (state, stored.state, stored.enabled) == (MappingState.DISABLING, MappingState.DISABLED, False)
    stored, state = service.update(mapping.uuid, {"Enabled": True, "FilterCriteria": {}, "ScalingConfig": {}})
    assert (state, stored.state) == (MappingState.ENABLING, MappingState.ENABLED)
    assert stored.filter_patterns == () and stored.maximum_concurrency is None
    with pytest.raises(InvalidParameterValue, match="Maximum batch window"):
        service.update(mapping.uuid, {"MaximumBatchingWindowInSeconds": 0})  # BatchSize 50 needs a window
    with pytest.raises(InvalidParameterValue, match="cannot be changed"):
        service.update(mapping.uuid, {"EventSourceArn": FIFO})
    with pytest.raises(ResourceNotFound, match="The resource you requested does not exist"):
        service.update("missing", {"BatchSize": 1})


def test_list_and_delete(service: EventSourceMappings) -> None:
    made = sorted(
        [create(service).uuid, create(service, FunctionName="other").uuid, create(service, EventSourceArn=FIFO).uuid]
    )
    page, marker = service.list(None, None, None, 2)
    assert [m.uuid for m in page] == made[:2] and marker == made[1]
    assert [m.uuid for m in service.list(None, None, marker, 2)[0]] == made[2:]
    assert len(service.list("arn:aws:lambda:us-east-1:000000000000:function:fn", None, None, None)[0]) == 2
    assert len(service.list(None, FIFO, None, None)[0]) == 1
    with pytest.raises(ValidationError, match="maxItems"):
        service.list(None, None, None, 0)
    deleted = service.delete(made[0])
    assert deleted.uuid == made[0] and deleted.state is MappingState.DELETING
    with pytest.raises(ResourceNotFound):
        service.get(made[0])
    with pytest.raises(ResourceNotFound):
        service.delete(made[0])
    assert len(service.all()) == 2


def test_a_queue_must_hide_messages_as_long_as_the_function_may_run() -> None:
    visibility = {QUEUE: 29, FIFO: 30}
    service = EventSourceMappings(
        InMemoryStore(),
        Functions("fn"),  # type: ignore[arg-type]
        {SourceKind.QUEUE: visibility.__contains__},
        queue_visibility_s=visibility.__getitem__,
    )
    with pytest.raises(InvalidParameterValue) as caught:
        service.create({"FunctionName": "fn", "EventSourceArn": QUEUE})
    assert caught.value.message == "Queue visibility timeout: 29 seconds is less than Function timeout: 30 seconds"
    assert service.create({"FunctionName": "fn", "EventSourceArn": FIFO}).source_arn == FIFO
