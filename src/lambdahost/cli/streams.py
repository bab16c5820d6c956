"""``lambdahost streams``: named streams (the Kinesis subset): create, list, describe, put records, delete."""

from __future__ import annotations

import click

from lambdahost.cli.options import connect, endpoint_option
from lambdahost.cli.output import local_time, table


@click.group("streams")
def streams() -> None:
    """Named streams (the Kinesis subset): shards, records ordered per partition key, retention.

    boto3's `kinesis` client works against the same endpoint (`endpoint_url=`).
    """


@streams.command("create")
@click.argument("name")
@click.option("--shards", type=click.IntRange(1, 500), default=1, show_default=True, help="How many shards.")
@endpoint_option
def create_stream(name: str, shards: int, endpoint: str) -> None:
    """Create a stream with SHARDS shards (the hash key space split evenly, as Kinesis does)."""
    with connect(endpoint) as client:
        client.create_stream(name, shards)
        arn = client.describe_stream(name)["StreamARN"]
    click.echo(arn)


@streams.command("list")
@endpoint_option
def list_streams(endpoint: str) -> None:
    """Streams with their status and creation time."""
    with connect(endpoint) as client:
        found = client.list_streams()
    if not found:
        click.echo("no streams")
        return
    rows = [[s["StreamName"], s["StreamStatus"], local_time(s.get("StreamCreationTimestamp"))] for s in found]
    click.echo(table(["NAME", "STATUS", "CREATED"], rows))


@streams.command("describe")
@click.argument("name")
@endpoint_option
def describe_stream(name: str, endpoint: str) -> None:
    """A stream's ARN, retention and shards (hash key ranges)."""
    with connect(endpoint) as client:
        found = client.describe_stream(name)
    click.echo(f"arn:        {found['StreamARN']}")
    click.echo(f"status:     {found['StreamStatus']}")
    click.echo(f"retention:  {found['RetentionPeriodHours']} hours")
    click.echo(f"created:    {local_time(found.get('StreamCreationTimestamp'))}")
    rows = [
        [s["ShardId"], s["HashKeyRange"]["StartingHashKey"], s["HashKeyRange"]["EndingHashKey"]]
        for s in found["Shards"]
    ]
    click.echo(table(["SHARD", "STARTING HASH KEY", "ENDING HASH KEY"], rows))


@streams.command("put")
@click.argument("name")
@click.argument("data", nargs=-1, required=True)
@click.option("--partition-key", "-k", required=True, help="Records with one key go to one shard, in order.")
@endpoint_option
def put_records(name: str, data: tuple[str, ...], partition_key: str, endpoint: str) -> None:
    """Put one record per DATA argument (UTF-8 text), in order; prints each record's shard and sequence number."""
    with connect(endpoint) as client:
        results = client.put_stream_records(name, [(partition_key, item.encode()) for item in data])
    for result in results:
        if "ErrorCode" in result:
            click.echo(f"failed  {result['ErrorCode']}: {result.get('ErrorMessage', '')}")
        else:
            click.echo(f"{result['ShardId']}  {result['SequenceNumber']}")


@streams.command("delete")
@click.argument("name")
@endpoint_option
def delete_stream(name: str, endpoint: str) -> None:
    """Delete a stream with its records (and the progress of mappings reading it)."""
    with connect(endpoint) as client:
        client.delete_stream(name)
    click.echo(f"deleted {name}")
