"""Managing functions: create, update code and configuration, delete, concurrency, with AWS's validation.

Requests arrive in AWS's shape (the JSON of CreateFunction and friends), so the HTTP API, the CLI and the Python
client share one path. Every check runs before anything is stored: a rejected request changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from lambdahost.code.store import CodeStore
from lambdahost.core.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from lambdahost.core.ids import Clock, new_revision_id, wall_clock
from lambdahost.core.model import LATEST, CodePackage, FunctionConfig
from lambdahost.core.names import ROLE_RE, function_arn, parse_function_ref
from lambdahost.core.secrets import mentioned
from lambdahost.core.settings import Settings
from lambdahost.engine.admission import Admission
from lambdahost.engine.function_env import function_environment, validate_variables
from lambdahost.engine.secrets import Secrets
from lambdahost.runtime.interpreters import Interpreter, Interpreters
from lambdahost.runtime.spec import EnvironmentSpec
from lambdahost.storage.base import Store

log = logging.getLogger(__name__)

SUPPORTED_RUNTIMES = tuple(f"python3.{minor}" for minor in range(8, 15))
DEFAULT_ROLE = "arn:aws:iam::000000000000:role/lambdahost"
HANDLER_RE = re.compile(r"^[^\s]{1,128}$")
_MAX_DESCRIPTION = 256
_MAX_TARGETS = 4096
MAX_LANES = 64


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved Invoke target."""

    config: FunctionConfig
    spec: EnvironmentSpec
    invoked_arn: str


@dataclass(frozen=True, slots=True)
class Limits:
    """What one edit sets besides the configuration: reserved concurrency (None: unreserved) and the lanes' maxima
    (None: one lane, limited only by concurrency)."""

    reserved: int | None = None
    lanes: list[int] | None = None


def _int_in(request: dict[str, Any], key: str, low: int, high: int, default: int) -> int:
    value = request.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{value}' at '{key[0].lower() + key[1:]}' failed to satisfy "
            f"constraint: Member must have value {'greater than or equal to ' + str(low)} and less than or "
            f"equal to {high}"
        )
    return value


def decode_zip(code: Any) -> bytes:
    """The zip bytes of a ``Code``/UpdateFunctionCode request (base64 ``ZipFile``)."""
    if not isinstance(code, dict):
        raise InvalidParameterValue("Code must be an object with a ZipFile.")
    if code.get("S3Bucket") or code.get("S3Key") or code.get("ImageUri"):
        raise InvalidParameterValue(
            "lambdahost takes code as a ZipFile (base64 in the request); S3 locations and container images are "
            "not supported."
        )
    raw = code.get("ZipFile")
    if not raw:
        raise InvalidParameterValue("Please provide a source for function code.")
    if isinstance(raw, bytes):
        return raw
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None


class FunctionService:
    def __init__(
        self,
        store: Store,
        code: CodeStore,
        settings: Settings,
        admission: Admission,
        on_change: Callable[[str], object] = lambda name: None,
        clock: Clock = wall_clock,
        secrets: Secrets | None = None,
        interpreters: Interpreters | None = None,
    ) -> None:
        self._secrets = secrets  # resolves {{secret.NAME}} in the variables of each spec built (engine/secrets.py)
        # which Python runs each runtime here (runtime/interpreters.py)
        self.interpreters = interpreters or Interpreters(SUPPORTED_RUNTIMES, settings.interpreters)
        self.store = store
        self.code = code
        self.settings = settings
        self.admission = admission
        self._on_change = on_change
        self._clock = clock
        self._specs: dict[str, tuple[FunctionConfig, EnvironmentSpec]] = {}
        self._targets: dict[tuple[str, str | None], Target] = {}
        self._generation = 0  # bumped by every change: a resolution read before a change is not cached
        self._lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------------------------------
    def arn(self, name: str, qualifier: str | None = None) -> str:
        return function_arn(self.settings.region, self.settings.account_id, name, qualifier)

    def not_found(self, name: str) -> ResourceNotFound:
        return ResourceNotFound(f"Function not found: {self.arn(name)}")

    def get(self, function_name: str, qualifier: str | None = None) -> FunctionConfig:
        ref = parse_function_ref(function_name, qualifier)
        if ref.qualifier not in (None, LATEST):
            raise ResourceNotFound(f"Function not found: {self.arn(ref.name, ref.qualifier)}")
        config = self.store.get_function(ref.name)
        if config is None:
            raise self.not_found(ref.name)
        return config

    def list(self, marker: str | None, max_items: int | None) -> tuple[list[FunctionConfig], str | None]:
        limit = 50 if max_items is None else max_items
        if not 1 <= limit <= 10000:
            raise InvalidParameterValue("MaxItems must be between 1 and 10000.")
        return self.store.list_functions(marker or None, min(limit, 50))

    def runs_on(self, runtime: str) -> Interpreter:
        """The interpreter that runs functions of ``runtime`` here: the runtime's own, or the platform's when this
        machine has none (then ``runs_on(runtime).runtime != runtime``). Probes on the first call for a runtime."""
        return self.interpreters.for_runtime(runtime)

    def resolve(self, name: str) -> tuple[FunctionConfig, EnvironmentSpec]:
        """The function and the environment spec to run it with (cached per revision)."""
        cached = self._specs.get(name)
        if cached is not None:
            return cached
        generation = self._generation
        config = self.store.get_function(name)
        if config is None:
            raise self.not_found(name)
        code_dir = str(
            self.code.ensure(config.code_sha256_hex, lambda: self.store.get_package_data(config.code_sha256_hex))
        )
        interpreter = self.runs_on(config.runtime)
        spec = EnvironmentSpec(
            function_name=config.name,
            version=config.version,
            revision_id=config.revision_id,
            handler=config.handler,
            code_dir=code_dir,
            memory_mb=config.memory_mb,
            timeout_s=float(config.timeout_s),
            ephemeral_mb=config.ephemeral_storage_mb,
            env=function_environment(config, self.settings, code_dir, interpreter.path),
            snapshot=self.settings.snapshot,
            interpreter=None if interpreter.own else interpreter.path,
        )
        if self._secrets is not None:
            spec = self._secrets.apply(spec)
        with self._lock:
            if generation == self._generation:
                self._specs[name] = (config, spec)
                self.admission.set_reserved(name, config.reserved_concurrency)
        return config, spec

    def target(self, function_name: str, qualifier: str | None = None) -> Target:
        """What an Invoke of ``function_name`` (any of AWS's forms) with ``qualifier`` runs: the function, its
        environment spec and the ARN the function sees as invoked. Cached until the function changes."""
        key = (function_name, qualifier)
        found = self._targets.get(key)
        if found is not None:
            return found
        generation = self._generation
        ref = parse_function_ref(function_name, qualifier)
        if ref.qualifier not in (None, LATEST):
            raise ResourceNotFound(f"Function not found: {self.arn(ref.name, ref.qualifier)}")
        config, spec = self.resolve(ref.name)
        found = Target(config, spec, self.arn(config.name, ref.qualifier))
        with self._lock:
            if generation == self._generation:
                if len(self._targets) >= _MAX_TARGETS:
                    self._targets.clear()
                self._targets[key] = found
        return found

    def refresh(self) -> int:
        """Compare every cached function with the store and apply what another process changed (a new revision,
        reserved concurrency, a deletion) as if it happened here; returns how many changed. Called periodically by
        ``ConfigWatcher``, off the invoke path."""
        changed = 0
        for name, (cached, _spec) in list(self._specs.items()):
            fresh = self.store.get_function(name)
            if fresh != cached:
                self._changed(name, fresh)
                changed += 1
        return changed

    def secrets_changed(self, names: Collection[str]) -> None:
        """Secrets were set or deleted: the cached specs of functions whose variables reference one are dropped
        and their environments retired (as for a change of configuration), so the next run resolves them anew."""
        wanted = set(names)
        for name, (cached, _spec) in list(self._specs.items()):
            if not any(wanted & mentioned(value) for value in cached.environment.values()):
                continue
            with self._lock:
                self._generation += 1
                self._specs.pop(name, None)
                self._targets.clear()
            self._on_change(name)

    def _changed(self, name: str, config: FunctionConfig | None) -> None:
        with self._lock:
            self._generation += 1
            cached = self._specs.pop(name, None)
            self._targets.clear()
            if config is None:
                self.admission.forget(name)
            else:
                self.admission.set_reserved(name, config.reserved_concurrency)
        if cached is not None and config is not None and cached[0].revision_id == config.revision_id:
            return  # concurrency or lanes: what runs is the same, the environments stay
        self._on_change(name)

    # -- validation --------------------------------------------------------------------------------------------
    def _settings_from(self, request: dict[str, Any], base: FunctionConfig | None) -> dict[str, Any]:
        """Validated configuration fields present in ``request`` (defaults from ``base`` or AWS's)."""
        out: dict[str, Any] = {}
        if "Runtime" in request or base is None:
            runtime = request.get("Runtime")
            if runtime not in SUPPORTED_RUNTIMES:
                raise InvalidParameterValue(
                    f"The runtime parameter of {runtime} is not supported by lambdahost. Supported runtimes: "
                    f"{', '.join(SUPPORTED_RUNTIMES)}."
                )
            out["runtime"] = runtime
        if "Handler" in request or base is None:
            handler = request.get("Handler")
            if not isinstance(handler, str) or not HANDLER_RE.match(handler):
                raise InvalidParameterValue(
                    f"1 validation error detected: Value '{handler}' at 'handler' failed to satisfy constraint: "
                    "Member must satisfy regular expression pattern: [^\\s]+ and length <= 128"
                )
            out["handler"] = handler
        if "Role" in request or base is None:
            role = request.get("Role") or DEFAULT_ROLE
            if not isinstance(role, str) or not ROLE_RE.match(role):
                raise InvalidParameterValue(
                    f"1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member "
                    "must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?"
                    "[a-zA-Z_0-9+=,.@\\-_/]+"
                )
            out["role"] = role
        if "Description" in request:
            description = request["Description"]
            if not isinstance(description, str) or len(description) > _MAX_DESCRIPTION:
                raise InvalidParameterValue("Description must be a string of at most 256 characters.")
            out["description"] = description
        if "Timeout" in request:
            out["timeout_s"] = _int_in(request, "Timeout", 1, 900, 3)
        if "MemorySize" in request:
            out["memory_mb"] = _int_in(request, "MemorySize", 128, 10240, 128)
        if "EphemeralStorage" in request:
            out["ephemeral_storage_mb"] = _int_in(request["EphemeralStorage"] or {}, "Size", 512, 10240, 512)
        if "Environment" in request:
            out["environment"] = validate_variables((request["Environment"] or {}).get("Variables"))
        if "DeadLetterConfig" in request:
            out["dead_letter_target"] = (request["DeadLetterConfig"] or {}).get("TargetArn") or None
        if "LoggingConfig" in request:
            logging_config = request["LoggingConfig"] or {}
            log_format = logging_config.get("LogFormat", "Text")
            if log_format not in ("Text", "JSON"):
                raise InvalidParameterValue("LoggingConfig.LogFormat must be Text or JSON.")
            out["log_format"] = log_format
            out["log_group"] = logging_config.get("LogGroup")
        if request.get("Layers"):
            raise InvalidParameterValue(
                "Layers are not supported by lambdahost yet: include the libraries in the function's zip."
            )
        if request.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValue("Only PackageType Zip is supported by lambdahost.")
        if "Architectures" in request:
            archs = request["Architectures"]
            if archs not in (["x86_64"], ["arm64"]):
                raise InvalidParameterValue('Architectures must be ["x86_64"] or ["arm64"].')
            out["architectures"] = tuple(archs)
        return out

    def _store_code(self, data: bytes) -> CodePackage:
        package = self.code.add(data)
        return self.store.put_package(package, data)

    # -- writing -----------------------------------------------------------------------------------------------
    def create(self, request: dict[str, Any], limits: Limits | None = None) -> FunctionConfig:
        """CreateFunction; with ``limits``, created with them (the web UI's form: one write, all checked first)."""
        raw_name = request.get("FunctionName")
        if not isinstance(raw_name, str):
            raise InvalidParameterValue("FunctionName is required.")
        ref = parse_function_ref(raw_name)
        if ref.qualifier:
            raise InvalidParameterValue("FunctionName cannot carry a qualifier when creating a function.")
        fields = self._settings_from(request, None)
        if limits is not None:
            fields.update(self._limit_fields(ref.name, limits))
        tags = request.get("Tags") or {}
        if not isinstance(tags, dict):
            raise InvalidParameterValue("Tags must be a map of strings.")
        data = decode_zip(request.get("Code"))
        if self.store.get_function(ref.name) is not None:
            raise ResourceConflict(f"Function already exist: {ref.name}")
        package = self._store_code(data)
        config = FunctionConfig(
            name=ref.name,
            code_sha256_hex=package.sha256_hex,
            code_size=package.size,
            revision_id=new_revision_id(),
            last_modified=self._clock(),
            tags={str(k): str(v) for k, v in tags.items()},
            **fields,
        )
        try:
            created = self.store.create_function(config)
        except ResourceConflict:
            self._drop_package_if_unused(package.sha256_hex)
            raise
        self._changed(created.name, created)
        self._check_runtime(created)
        return created

    def update_code(self, function_name: str, request: dict[str, Any]) -> FunctionConfig:
        current = self.get(function_name)
        data = decode_zip(request)
        self._check_revision(current, request.get("RevisionId"))
        if request.get("DryRun"):
            self.code.validate(data)
            return current
        package = self._store_code(data)
        updated = self.store.update_function(
            current.replace(
                code_sha256_hex=package.sha256_hex,
                code_size=package.size,
                revision_id=new_revision_id(),
                last_modified=self._clock(),
            ),
            expected_revision=current.revision_id,
        )
        if current.code_sha256_hex != package.sha256_hex:
            self._drop_package_if_unused(current.code_sha256_hex)
        self._changed(updated.name, updated)
        return updated

    def update_configuration(self, function_name: str, request: dict[str, Any]) -> FunctionConfig:
        return self.update(function_name, request)

    def update(
        self, function_name: str, request: dict[str, Any], *, code: bytes | None = None, limits: Limits | None = None
    ) -> FunctionConfig:
        """UpdateFunctionConfiguration, and with ``code`` and ``limits`` a new zip and new limits, as one change
        (the web UI's edit form): every part is checked before anything is written, and the function is written
        once, so a refused part leaves all of it as it was."""
        current = self.get(function_name)
        self._check_revision(current, request.get("RevisionId"))
        fields = self._settings_from(request, current)
        if limits is not None:
            fields.update(self._limit_fields(current.name, limits))
        if code is not None:
            package = self._store_code(code)  # validated first; the same bytes are the same package
            fields.update(code_sha256_hex=package.sha256_hex, code_size=package.size)
        updated = self.store.update_function(
            current.replace(revision_id=new_revision_id(), last_modified=self._clock(), **fields),
            expected_revision=current.revision_id,
        )
        if updated.code_sha256_hex != current.code_sha256_hex:
            self._drop_package_if_unused(current.code_sha256_hex)
        self._changed(updated.name, updated)
        if "runtime" in fields:
            self._check_runtime(updated)
        return updated

    def _check_runtime(self, config: FunctionConfig) -> None:
        """Say so when the function's runtime is not on this machine (it is accepted all the same, and runs on the
        platform's own interpreter)."""
        interpreter = self.runs_on(config.runtime)
        if interpreter.runtime != config.runtime:
            log.warning(
                "function %s: %s is not on this machine, it runs on the platform's Python %s",
                config.name,
                config.runtime,
                interpreter.version,
                extra={
                    "action": "runtime_unavailable",
                    "function": config.name,
                    "runtime": config.runtime,
                    "python": interpreter.version,
                },
            )

    def delete(self, function_name: str, qualifier: str | None = None) -> None:
        ref = parse_function_ref(function_name, qualifier)
        if ref.qualifier not in (None, LATEST):
            raise ResourceNotFound(f"Function not found: {self.arn(ref.name, ref.qualifier)}")
        current = self.store.get_function(ref.name)
        if current is None or not self.store.delete_function(ref.name):
            raise self.not_found(ref.name)
        self._drop_package_if_unused(current.code_sha256_hex)
        self._changed(ref.name, None)

    def _check_revision(self, current: FunctionConfig, revision: Any) -> None:
        if revision is not None and revision != current.revision_id:
            from lambdahost.core.errors import PreconditionFailed

            raise PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
                "API to retrieve the latest Revision Id"
            )

    def _drop_package_if_unused(self, sha256_hex: str) -> None:
        if not self.store.package_in_use(sha256_hex):
            self.store.delete_package(sha256_hex)
            self.code.remove(sha256_hex)

    # -- concurrency -------------------------------------------------------------------------------------------
    @property
    def unreserved_minimum(self) -> int:
        return min(self.settings.unreserved_minimum, self.settings.max_concurrency // 10)

    def _checked_reserved(self, function_name: str, reserved: Any) -> int:
        if isinstance(reserved, bool) or not isinstance(reserved, int) or reserved < 0:
            raise InvalidParameterValue(
                f"1 validation error detected: Value '{reserved}' at 'reservedConcurrentExecutions' failed to "
                "satisfy constraint: Member must have value greater than or equal to 0"
            )
        others = self.store.total_reserved_concurrency(excluding=function_name)
        if self.settings.max_concurrency - others - reserved < self.unreserved_minimum:
            raise InvalidParameterValue(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{self.unreserved_minimum}]."
            )
        return reserved

    def put_concurrency(self, function_name: str, reserved: Any) -> FunctionConfig:
        current = self.get(function_name)
        checked = self._checked_reserved(current.name, reserved)
        updated = self.store.update_function(current.replace(reserved_concurrency=checked))
        self._changed(updated.name, updated)
        return updated

    def delete_concurrency(self, function_name: str) -> FunctionConfig:
        current = self.get(function_name)
        updated = self.store.update_function(current.replace(reserved_concurrency=None))
        self._changed(updated.name, updated)
        return updated

    # -- lanes -------------------------------------------------------------------------------------------------
    def _checked_lanes(self, lanes: Any) -> tuple[int, ...] | None:
        if lanes is not None and not isinstance(lanes, list):
            raise InvalidParameterValue("Lanes must be a list of maximum concurrencies, one per lane.")
        if not lanes:
            return None
        if len(lanes) > MAX_LANES:
            raise InvalidParameterValue(f"A function has at most {MAX_LANES} lanes, not {len(lanes)}.")
        for lane, maximum in enumerate(lanes):
            if isinstance(maximum, bool) or not isinstance(maximum, int) or maximum < 1:
                raise InvalidParameterValue(
                    f"The maximum concurrency of lane {lane} must be a whole number of at least 1, not {maximum!r}."
                )
            if maximum > self.settings.max_concurrency:
                raise InvalidParameterValue(
                    f"The maximum concurrency of lane {lane} ({maximum}) exceeds the account's concurrency "
                    f"limit of {self.settings.max_concurrency}."
                )
        return tuple(lanes)

    def set_lanes(self, function_name: str, lanes: Any) -> FunctionConfig:
        """Give the function's asynchronous queue ``len(lanes)`` lanes, lane ``i`` running at most ``lanes[i]``
        invocations at once (across all workers); None or ``[]``: one lane, limited only by concurrency."""
        current = self.get(function_name)
        updated = self.store.update_function(current.replace(lanes=self._checked_lanes(lanes)))
        self._changed(updated.name, updated)
        return updated

    def _limit_fields(self, function_name: str, limits: Limits) -> dict[str, Any]:
        reserved = None if limits.reserved is None else self._checked_reserved(function_name, limits.reserved)
        return {"reserved_concurrency": reserved, "lanes": self._checked_lanes(limits.lanes)}

    def account_settings(self) -> dict[str, Any]:
        functions: list[FunctionConfig] = []
        marker: str | None = None
        while True:
            page, marker = self.store.list_functions(marker, 50)
            functions.extend(page)
            if not marker:
                break
        reserved = sum(f.reserved_concurrency or 0 for f in functions)
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": self.settings.max_concurrency,
                "UnreservedConcurrentExecutions": self.settings.max_concurrency - reserved,
            },
            "AccountUsage": {
                "TotalCodeSize": sum(f.code_size for f in {f.code_sha256_hex: f for f in functions}.values()),
                "FunctionCount": len(functions),
            },
        }
