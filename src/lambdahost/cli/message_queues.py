"""``lambdahost queues create|list|send|receive|purge|delete|redrive``: named message queues, over the SQS API."""

from __future__ import annotations

import json
import sys

import click

from lambdahost.cli.options import connect, endpoint_option

ARN_PREFIX_HELP = "The dead-letter queue (a name) that messages move to after --max-receive-count receives."


@click.command("create")
@click.argument("name")
@click.option("--fifo", is_flag=True, help="A FIFO queue (its name must end in .fifo).")
@click.option("--content-based-deduplication", is_flag=True, help="FIFO: deduplicate by the body's SHA-256.")
@click.option("--visibility-timeout", type=click.IntRange(0, 43_200), help="Seconds a received message stays hidden.")
@click.option("--delay", type=click.IntRange(0, 900), help="Seconds before a sent message can be received.")
@click.option("--retention", type=click.IntRange(60, 1_209_600), help="Seconds a message is kept.")
@click.option("--dlq", metavar="NAME", help=ARN_PREFIX_HELP)
@click.option("--max-receive-count", type=click.IntRange(1, 1000), default=5, show_default=True)
@endpoint_option
def create_queue(
    name: str,
    fifo: bool,
    content_based_deduplication: bool,
    visibility_timeout: int | None,
    delay: int | None,
    retention: int | None,
    dlq: str | None,
    max_receive_count: int,
    endpoint: str,
) -> None:
    """Create queue NAME (idempotent with the same settings); prints its URL."""
    attributes: dict[str, str] = {}
    if fifo:
        attributes["FifoQueue"] = "true"
    if content_based_deduplication:
        attributes["ContentBasedDeduplication"] = "true"
    for key, value in (("VisibilityTimeout", visibility_timeout), ("DelaySeconds", delay)):
        if value is not None:
            attributes[key] = str(value)
    if retention is not None:
        attributes["MessageRetentionPeriod"] = str(retention)
    with connect(endpoint) as client:
        if dlq is not None:
            arn = client.queue_attributes(dlq, ["QueueArn"])["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": max_receive_count})
        click.echo(client.create_queue(name, attributes))


@click.command("list")
@click.option("--prefix", help="Only queues whose names start with this.")
@endpoint_option
def list_queues(prefix: str | None, endpoint: str) -> None:
    """Named queues with their exact counts: visible, in flight, delayed."""
    with connect(endpoint) as client:
        urls = client.list_queues(prefix)
        rows = [["NAME", "VISIBLE", "IN FLIGHT", "DELAYED", "DEAD-LETTER QUEUE"]]
        for url in urls:
            name = url.rsplit("/", 1)[-1]
            found = client.queue_attributes(name)
            policy = json.loads(found["RedrivePolicy"]) if "RedrivePolicy" in found else None
            rows.append(
                [
                    name,
                    found["ApproximateNumberOfMessages"],
                    found["ApproximateNumberOfMessagesNotVisible"],
                    found["ApproximateNumberOfMessagesDelayed"],
                    ""
                    if policy is None
                    else f"{policy['deadLetterTargetArn'].rsplit(':', 1)[-1]} (after {policy['maxReceiveCount']})",
                ]
            )
    if len(rows) == 1:
        click.echo("no queues")
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@click.command("send")
@click.argument("name")
@click.argument("body")
@click.option("--group", "group_id", metavar="ID", help="FIFO: the message group.")
@click.option("--dedup-id", metavar="ID", help="FIFO: the deduplication id.")
@click.option("--delay", type=click.IntRange(0, 900), help="Seconds before it can be received.")
@endpoint_option
def send_message(
    name: str, body: str, group_id: str | None, dedup_id: str | None, delay: int | None, endpoint: str
) -> None:
    """Send BODY to queue NAME (BODY '-' reads standard input); prints the message id."""
    if body == "-":
        body = sys.stdin.read()
    fields: dict[str, object] = {}
    if group_id is not None:
        fields["MessageGroupId"] = group_id
    if dedup_id is not None:
        fields["MessageDeduplicationId"] = dedup_id
    if delay is not None:
        fields["DelaySeconds"] = delay
    with connect(endpoint) as client:
        click.echo(client.send_message(name, body, **fields)["MessageId"])


@click.command("receive")
@click.argument("name")
@click.option("--max", "max_messages", type=click.IntRange(1, 10), default=1, show_default=True)
@click.option("--wait", type=click.IntRange(0, 20), default=0, show_default=True, help="Long polling, in seconds.")
@click.option("--visibility-timeout", type=click.IntRange(0, 43_200), help="Instead of the queue's.")
@click.option("--delete", is_flag=True, help="Delete each message once printed.")
@endpoint_option
def receive_messages(
    name: str, max_messages: int, wait: int, visibility_timeout: int | None, delete: bool, endpoint: str
) -> None:
    """Receive up to --max messages from queue NAME: one JSON object per line (id, body, receive count, attributes,
    receipt handle)."""
    with connect(endpoint) as client:
        for message in client.receive_messages(name, max_messages, wait, visibility_timeout):
            system = message.get("Attributes", {})
            line = {
                "MessageId": message["MessageId"],
                "Body": message["Body"],
                "ReceiveCount": int(system.get("ApproximateReceiveCount", "1")),
                "MessageAttributes": message.get("MessageAttributes", {}),
                "ReceiptHandle": message["ReceiptHandle"],
            }
            click.echo(json.dumps(line, ensure_ascii=False))
            if delete:
                client.delete_message(name, message["ReceiptHandle"])


@click.command("purge")
@click.argument("name")
@endpoint_option
def purge_queue(name: str, endpoint: str) -> None:
    """Delete every message of queue NAME."""
    with connect(endpoint) as client:
        client.purge_queue(name)
    click.echo(f"purged {name}")


@click.command("delete")
@click.argument("name")
@endpoint_option
def delete_queue(name: str, endpoint: str) -> None:
    """Delete queue NAME and its messages."""
    with connect(endpoint) as client:
        client.delete_queue(name)
    click.echo(f"deleted {name}")


@click.command("redrive")
@click.argument("dlq")
@click.option("--to", "destination", metavar="NAME", help="Move every message here instead of back to its source.")
@endpoint_option
def redrive_queue(dlq: str, destination: str | None, endpoint: str) -> None:
    """Move the messages of dead-letter queue DLQ back to the queues they came from (SQS's StartMessageMoveTask)."""
    with connect(endpoint) as client:
        source_arn = client.queue_attributes(dlq, ["QueueArn"])["QueueArn"]
        destination_arn = client.queue_attributes(destination, ["QueueArn"])["QueueArn"] if destination else None
        handle = client.start_message_move_task(source_arn, destination_arn)
        task = next(t for t in client.list_message_move_tasks(source_arn) if t["TaskHandle"] == handle)
    click.echo(f"moved {task['ApproximateNumberOfMessagesMoved']} messages from {dlq}")


COMMANDS = (create_queue, list_queues, send_message, receive_messages, purge_queue, delete_queue, redrive_queue)
