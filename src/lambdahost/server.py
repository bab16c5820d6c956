"""The composition root: builds storage, code store, environments, engine and the HTTP app from one Settings.

``Platform`` is also the embedded Python API: ``with Platform(Settings(data_dir=...)) as p: p.invoker.invoke(...)``.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from lambdahost.code.store import CodeStore
from lambdahost.core.settings import Settings
from lambdahost.engine.admission import Admission
from lambdahost.engine.functions import FunctionService
from lambdahost.engine.invoker import Invoker
from lambdahost.engine.recorder import InvocationRecorder
from lambdahost.runtime.pool import EnvironmentPool, PoolOptions
from lambdahost.storage.base import Store, open_store

if TYPE_CHECKING:
    from lambdahost.api.app import LambdaHostApp


class Platform:
    def __init__(self, settings: Settings) -> None:
        settings = settings.replace(data_dir=Path(settings.data_dir).resolve())
        self.settings = settings
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store: Store = open_store(settings.resolved_store_url())
        self.store.migrate()
        self.code = CodeStore(data_dir / "code")
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
        self.functions = FunctionService(self.store, self.code, settings, self.admission, on_change=self.pool.retire)
        self.recorder = InvocationRecorder(self.store)
        self.invoker = Invoker(self.functions, self.pool, self.admission, self.recorder)
        self._started = False

    def start(self) -> Platform:
        if not self._started:
            self.pool.start()
            self._started = True
        return self

    def close(self) -> None:
        if self._started:
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

    def asgi_app(self) -> LambdaHostApp:
        from lambdahost.api.app import build_app

        return build_app(self)
