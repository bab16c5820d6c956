"""``lambdahost queues ...``: named message queues from the real CLI against a running server."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable

Cli = Callable[..., subprocess.CompletedProcess[str]]


def ok(cli: Cli, *args: str, stdin: str | None = None) -> str:
    done = cli(*args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_queue_commands_create_send_receive_purge_and_delete(cli: Cli) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    dlq = f"{name}-dlq"
    assert ok(cli, "queues", "create", dlq).strip().endswith(f"/000000000000/{dlq}")
    ok(cli, "queues", "create", name, "--visibility-timeout", "0", "--dlq", dlq, "--max-receive-count", "1")
    message_id = ok(cli, "queues", "send", name, "hello").strip()
    ok(cli, "queues", "send", name, "-", stdin="from stdin")

    listing = ok(cli, "queues", "list", "--prefix", name)
    row = next(line.split() for line in listing.splitlines() if line.startswith(name + " "))
    assert row[:4] == [name, "2", "0", "0"] and row[4] == dlq

    received = [json.loads(line) for line in ok(cli, "queues", "receive", name, "--max", "10").splitlines()]
    assert sorted(m["Body"] for m in received) == ["from stdin", "hello"]
    assert message_id in {m["MessageId"] for m in received}
    # received once with visibility 0 and maxReceiveCount 1: the next receive moves both to the dead-letter queue
    assert ok(cli, "queues", "receive", name, "--wait", "1") == ""
    dead = ok(cli, "queues", "receive", dlq, "--max", "10", "--delete").splitlines()
    assert sorted(json.loads(line)["Body"] for line in dead) == ["from stdin", "hello"]

    ok(cli, "queues", "send", name, "again")
    assert ok(cli, "queues", "purge", name).strip() == f"purged {name}"
    assert ok(cli, "queues", "receive", name) == ""
    assert ok(cli, "queues", "delete", name).strip() == f"deleted {name}"
    missing = cli("queues", "send", name, "x")
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: QueueDoesNotExist: The specified queue does not exist.")
    assert ok(cli, "queues").strip()  # the depth of asynchronous invocations, as before


def test_queues_redrive_moves_dead_letters_back_to_their_source(cli: Cli) -> None:
    name = f"cli-rd-{uuid.uuid4().hex[:8]}"
    dlq = f"{name}-dlq"
    ok(cli, "queues", "create", dlq)
    ok(cli, "queues", "create", name, "--visibility-timeout", "0", "--dlq", dlq, "--max-receive-count", "1")
    ok(cli, "queues", "send", name, "poison")
    ok(cli, "queues", "receive", name)
    assert ok(cli, "queues", "receive", name) == ""  # moved to the dead-letter queue by this receive
    assert ok(cli, "queues", "redrive", dlq).strip() == f"moved 1 messages from {dlq}"
    back = [json.loads(line)["Body"] for line in ok(cli, "queues", "receive", name).splitlines()]
    assert back == ["poison"]
    assert ok(cli, "queues", "receive", dlq) == ""
    not_dlq = cli("queues", "redrive", name)
    assert not_dlq.returncode != 0 and "Dead Letter Queue" in not_dlq.stderr
