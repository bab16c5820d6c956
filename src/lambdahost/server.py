"""The composition root: builds storage, code store, environments, engine and the HTTP app from one Settings.

``Platform`` is also the embedded Python API: ``with Platform(Settings(data_dir=...)) as p: p.invoker.invoke(...)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from lambdahost.code.store import CodeStore
from lambdahost.core.credentials import PLACEHOLDER, Credentials
from lambdahost.core.errors import ResourceNotFound
from lambdahost.core.event_source_mappings import SourceKind
from lambdahost.core.scheduling import Place
from lambdahost.core.settings import Settings
from lambdahost.core.sigv4 import Verifier
from lambdahost.engine.admission import Admission
from lambdahost.engine.artifacts import Artifacts
from lambdahost.engine.destinations import Router
from lambdahost.engine.enqueue import Enqueuer
from lambdahost.engine.event_config import EventInvokeConfigs
from lambdahost.engine.event_source_mappings import EventSourceMappings
from lambdahost.engine.function_urls import FunctionUrls
from lambdahost.engine.functions import SUPPORTED_RUNTIMES, FunctionService
from lambdahost.engine.http_routes import HttpRoutes
from lambdahost.engine.invoker import Invoker
from lambdahost.engine.message_moves import MessageMoves
from lambdahost.engine.message_queues import MessageQueues
from lambdahost.engine.metrics import Metrics
from lambdahost.engine.parameters import Parameters
from lambdahost.engine.provisioning import Provisioning
from lambdahost.engine.recorder import InvocationRecorder
from lambdahost.engine.schedules import ScheduleService
from lambdahost.engine.secret_key import load_key
from lambdahost.engine.secrets import Secrets
from lambdahost.engine.streams import Streams
from lambdahost.engine.watcher import ConfigWatcher
from lambdahost.engine.worker import QueueWorker
from lambdahost.engine.worker_options import WorkerOptions
from lambdahost.runtime.interpreters import Interpreter, Interpreters
from lambdahost.runtime.pool import EnvironmentPool, PoolOptions
from lambdahost.storage.base import Store, open_store
from lambdahost.triggers.overview import TriggerOverview
from lambdahost.triggers.queue_poller import PollerOptions, QueuePoller
from lambdahost.triggers.scheduler import Scheduler
from lambdahost.triggers.stream_poller import StreamPoller, StreamPollerOptions

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from lambdahost.api.auth import ASGIApp


class Platform:
    def __init__(self, settings: Settings) -> None:
        settings = settings.replace(data_dir=Path(settings.data_dir).resolve())
        self.verifier: Verifier | None = None
        credentials = settings.credentials
        if credentials is not None:
            if settings.function_credentials == PLACEHOLDER:
                # Functions get their own random key pair, valid for this Platform's lifetime (the whole API).
                settings = settings.replace(function_credentials=Credentials.generate("LHFN"))
            self.verifier = Verifier(
                (credentials, settings.function_credentials), other_services=("sqs", "scheduler", "kinesis")
            )
        self.settings = settings
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store: Store = open_store(settings.resolved_store_url())
        self.store.migrate()
        self.code = CodeStore(data_dir / "code")
        self.message_queues = MessageQueues(self.store, settings)
        self.message_moves = MessageMoves(self.message_queues)
        self.streams = Streams(self.store, settings)
        self.pool = EnvironmentPool(
            data_dir / "runtime",
            PoolOptions(
                idle_timeout_s=settings.idle_timeout_s,
                log_limit_bytes=settings.log_limit_bytes,
                sandbox=settings.sandbox,
                preload=tuple(settings.extra.get("preload", ())),
            ),
        )
        self.admission = Admission(settings.max_concurrency)
        self.secrets = Secrets(self.store, load_key(data_dir, settings.secret_key))
        self.interpreters = Interpreters(SUPPORTED_RUNTIMES, settings.interpreters)
        self.functions = FunctionService(
            self.store,
            self.code,
            settings,
            self.admission,
            on_change=self._function_changed,
            secrets=self.secrets,
            interpreters=self.interpreters,
        )
        self.secrets.on_change = self.functions.secrets_changed
        self.metrics = Metrics(
            self.store,
            self.pool,
            self.admission,
            store_kind=settings.resolved_store_url().split(":", 1)[0],
            worker_lease_s=settings.lease_s,
        )
        self.artifacts = Artifacts(self.store, data_dir, settings.artifact_retention_s)
        self.recorder = InvocationRecorder(self.store, observe=self.metrics.observe)
        self.invoker = Invoker(
            self.functions,
            self.pool,
            self.admission,
            self.recorder,
            on_throttle=self.metrics.throttled,
            artifacts=self.artifacts,
        )
        self.watcher = ConfigWatcher(self.functions, settings.config_recheck_s, also=(self.secrets.refresh,))
        self.event_configs = EventInvokeConfigs(
            self.store, self.functions, self._queue_exists, recheck_s=settings.config_recheck_s
        )
        self.router = Router(self.functions.arn, self._send_to_function, self._send_to_queue)
        self.provisioning = Provisioning(self.store, self.functions, self.pool, interval_s=settings.config_recheck_s)
        self.worker = QueueWorker(
            self.store,
            self.functions,
            self.pool,
            self.admission,
            self.invoker.worker_id,
            self.event_configs,
            self.router,
            WorkerOptions(
                slots=settings.worker_slots,
                retry_delays_s=settings.retry_delays_s,
                lease_s=settings.lease_s,
                heartbeat_s=settings.heartbeat_s,
            ),
            on_finished=self.metrics.observe,
            artifacts=self.artifacts,
        )
        self.enqueuer = Enqueuer(self.functions, self.store, self.invoker.worker_id, wake=self.worker.wake)
        self.parameters = Parameters(
            self.store, self.functions, self.secrets, self.artifacts, self.invoker, self.enqueuer
        )
        self.http_routes = HttpRoutes(self.store, self.functions, recheck_s=settings.config_recheck_s)
        self.function_urls = FunctionUrls(self.store, self.functions, settings, recheck_s=settings.config_recheck_s)
        self.event_source_mappings = EventSourceMappings(
            self.store,
            self.functions,
            {SourceKind.QUEUE: self._queue_exists, SourceKind.STREAM: self._stream_exists},
            queue_visibility_s=lambda arn: self.message_queues.get(arn).visibility_timeout_s,
        )
        self.queue_poller = QueuePoller(
            self.event_source_mappings,
            self.message_queues,
            self.invoker,
            PollerOptions(recheck_s=settings.config_recheck_s, slot_lease_s=settings.lease_s),
        )
        place = Place(settings.region, settings.account_id)
        self.schedules = ScheduleService(self.store, self.functions, self._queue_exists, place)
        self.scheduler = Scheduler(
            self.store,
            self.enqueuer,
            place,
            self._send_to_queue,
            wake=self.worker.wake,
            tick_s=settings.schedule_tick_s,
        )
        self.stream_poller = StreamPoller(
            self.store,
            self.event_source_mappings.all,
            self.invoker,
            self._send_to_queue,
            self.event_source_mappings.function_arn,
            lambda mapping: self.functions.get(mapping.function_name).role,
            self.invoker.worker_id,
            StreamPollerOptions(lease_s=settings.lease_s, heartbeat_s=settings.heartbeat_s, region=settings.region),
        )
        self.event_source_mappings.on_change = self._mappings_changed
        self.triggers = TriggerOverview(
            self.store,
            self.functions,
            self.schedules,
            self.event_source_mappings,
            self.message_queues,
            self.stream_poller.lag,
            self.http_routes,
            self.function_urls,
            settings.gateway_url,
        )
        self._started = False

    # -- where destinations and dead-letter queues deliver ---------------------------------------------------------
    def _send_to_function(self, function_arn: str, payload: bytes, trace: str | None) -> str:
        return self.enqueuer.enqueue(function_arn, payload, trace=trace)

    def _send_to_queue(self, queue_arn: str, body: str, attributes: Mapping[str, tuple[str, str]]) -> str:
        return self.message_queues.send_record(queue_arn, body, attributes)

    def _queue_exists(self, queue_arn: str) -> bool:
        return self.message_queues.exists(queue_arn)

    def _stream_exists(self, stream_arn: str) -> bool:
        return self.streams.exists(stream_arn)

    def _mappings_changed(self) -> None:
        """An event source mapping was created, changed or deleted here: both pollers look at once."""
        self.queue_poller.refresh()
        self.stream_poller.refresh()

    def _function_changed(self, name: str) -> None:
        """A function was created, changed or deleted: retire its environments; in snapshot mode, take the new
        snapshot right away, in the background (as SnapStart does when a version is published)."""
        self.pool.retire(name)
        if self.settings.snapshot and self._started:
            threading.Thread(target=self._prepare_snapshot, args=(name,), name="snapshot", daemon=True).start()

    def _prepare_snapshot(self, name: str) -> None:
        try:
            _config, spec = self.functions.resolve(name)
            self.pool.prepare_snapshot(spec)
        except ResourceNotFound:  # deleted meanwhile
            pass
        except Exception:
            log.exception("could not take a snapshot", extra={"action": "snapshot_failed", "function": name})

    def available_runtimes(self) -> list[Interpreter]:
        """The runtimes this machine really runs, in order (``python3.9`` first), each with the interpreter that
        runs it: ``runtime``, its exact ``version`` (``3.12.1``), ``path``, ``source``. A supported runtime missing
        here is accepted all the same and runs on the platform's own interpreter (``functions.runs_on``). The first
        call probes the candidates (up to about a second; blocking, so not on an event loop); later ones are cached."""
        return self.interpreters.available()

    def start(self) -> Platform:
        if not self._started:
            self.pool.start()
            self.watcher.start()
            self.provisioning.start()
            if self.settings.worker_slots > 0:
                self.worker.start()
                self.scheduler.start()
                self.queue_poller.start()
                self.stream_poller.start()
            self._started = True
        return self

    def close(self) -> None:
        if self._started:
            self.watcher.close()
            self.provisioning.close()
            self.scheduler.close()
            self.queue_poller.close()
            self.stream_poller.close()
            self.worker.close()
            self.pool.close()
            self._started = False
        self.recorder.close()
        self.store.close()

    def __enter__(self) -> Platform:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def asgi_app(self) -> ASGIApp:
        from lambdahost.api.app import build_app

        return build_app(self)

    def gateway_app(self) -> ASGIApp:
        """The ASGI application of HTTP routes and function URLs (their own listener: ``api/gateway.py``)."""
        from lambdahost.api.gateway import build_gateway

        return build_gateway(self)
