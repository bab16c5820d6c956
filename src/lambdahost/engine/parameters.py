"""``Parameters``: functions' declared parameters and runs with parameter values.

A declaration is validated by ``core/parameters.py`` and stored with the function (``ParameterStore``, migration
0015). A run builds the event from the defaults and the given values (every value checked against its type, an
error naming the parameter before anything is stored or invoked), then resolves ``{{secret.NAME}}`` references
through ``Secrets.resolve_text`` (a missing secret: ``SecretNotFound`` naming it, nothing runs) and runs the event
with a ``Masker`` of the values it was given, so the outcome, the log and the recorded payload show ``***``.
A ``file`` parameter's upload is stored last (``Artifacts.put_input``, once every check passed) and the event
gets its readable path on this node (``Artifacts.input_path``).

A synchronous run goes through ``Invoker.invoke_async``. An asynchronous one is queued like any Event invoke
(``Enqueuer``: durable, retried, any worker). One whose event holds secret values is refused
(``AsyncRunWithSecrets``): the queue keeps events as they are, a secret's value must never be stored, and running it
outside the queue could lose an acknowledged run. A secret an asynchronous run needs goes in an environment variable
(``{{secret.NAME}}`` there is resolved when the environment starts, on whichever node runs it).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.parameters import FileUpload, Parameter, build_event, parse_declarations, resolve_event
from lambdahost.core.secrets import Masker
from lambdahost.engine.artifacts import Artifacts
from lambdahost.engine.enqueue import Enqueuer
from lambdahost.engine.functions import FunctionService
from lambdahost.engine.invoker import Invoker, InvokeResult
from lambdahost.engine.secrets import Secrets
from lambdahost.storage.base import Store


class AsyncRunWithSecrets(InvalidParameterValue):
    code = "AsyncRunWithSecretsException"


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A run's event, resolved, and the masker of the secret values in it (None: there are none)."""

    function_name: str
    payload: bytes
    masker: Masker | None


class Parameters:
    def __init__(
        self,
        store: Store,
        functions: FunctionService,
        secrets: Secrets,
        artifacts: Artifacts,
        invoker: Invoker,
        enqueuer: Enqueuer,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.functions = functions
        self.secrets = secrets
        self.invoker = invoker
        self.enqueuer = enqueuer

    def declare(self, function_name: str, items: object) -> tuple[Parameter, ...]:
        """Replace the function's declaration with ``items`` (the wire list); the stored declaration."""
        config = self.functions.get(function_name)
        declared = parse_declarations(items)
        self.store.put_function_parameters(config.name, declared, time.time())
        return declared

    def declared(self, function_name: str) -> tuple[Parameter, ...]:
        config = self.functions.get(function_name)
        return self.store.get_function_parameters(config.name)

    def prepare(self, function_name: str, given: object, *, queued: bool = False) -> PreparedRun:
        """The event of a run with the ``given`` values, checked and resolved; nothing stored or invoked. ``queued``:
        for an asynchronous run, which may not carry secret values (refused before anything is stored)."""
        if given is None:
            given = {}
        if not isinstance(given, Mapping):
            raise InvalidParameterValue('Parameters must be an object: {"name": value, ...}.')
        config = self.functions.get(function_name)
        declared = self.store.get_function_parameters(config.name)
        event = build_event(declared, given)

        def resolve(text: str) -> tuple[str, tuple[str, ...]]:
            resolved = self.secrets.resolve_text(text)
            return resolved.text, resolved.values

        resolved_event, values = resolve_event(declared, event, resolve)
        if queued and values:
            raise AsyncRunWithSecrets(
                "An asynchronous run cannot carry secret values: queued events are stored as they are, and a "
                "secret's value is never stored. Run it synchronously, or give the function the secret through an "
                "environment variable ({{secret.NAME}} there is resolved on the node that runs it)."
            )
        for name, value in resolved_event.items():  # last: every check passed, so a refused run stores nothing
            if isinstance(value, FileUpload):
                resolved_event[name] = self.artifacts.input_path(self.artifacts.put_input(value.data, value.filename))
        payload = json.dumps(resolved_event, separators=(",", ":"), ensure_ascii=False).encode()
        return PreparedRun(config.name, payload, Masker.of(values))

    async def run(self, function_name: str, given: object) -> InvokeResult:
        """A synchronous run: the invocation's result, as Invoke's."""
        prepared = await asyncio.to_thread(self.prepare, function_name, given)
        return await self.invoker.invoke_async(prepared.function_name, prepared.payload, masker=prepared.masker)

    async def start(self, function_name: str, given: object) -> str:
        """An asynchronous run, queued; its request id. One whose event holds secret values is refused."""
        prepared = await asyncio.to_thread(lambda: self.prepare(function_name, given, queued=True))
        return await asyncio.to_thread(self.enqueuer.enqueue, prepared.function_name, prepared.payload)
