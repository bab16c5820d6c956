"""The invocation lifecycle state machine.

``created -> pending -> ready -> running -> succeeded | failed``; ``running -> orphaned -> pending | failed``;
any unfinished state ``-> terminated``. A synchronous invocation passes through every state in order (it is
pending and ready only for as long as admission and environment acquisition take).
"""

from __future__ import annotations

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.model import InvocationStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.CREATED: frozenset({S.PENDING, S.TERMINATED}),
    S.PENDING: frozenset({S.READY, S.FAILED, S.TERMINATED}),
    S.READY: frozenset({S.RUNNING, S.PENDING, S.TERMINATED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.ORPHANED, S.TERMINATED, S.PENDING}),
    S.ORPHANED: frozenset({S.PENDING, S.FAILED, S.TERMINATED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.TERMINATED: frozenset(),
}

SYNC_PATH: tuple[S, ...] = (S.CREATED, S.PENDING, S.READY, S.RUNNING)


class IllegalTransition(InvalidParameterValue):
    """A requested lifecycle transition is not allowed from the current state."""


def can_transition(current: S, target: S) -> bool:
    return target in ALLOWED[current]


def check_transition(current: S, target: S) -> None:
    if not can_transition(current, target):
        raise IllegalTransition(f"Invocation cannot go from {current.value} to {target.value}.")
