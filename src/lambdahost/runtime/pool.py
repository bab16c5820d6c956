"""Warm pools of execution environments, keyed by function version and revision.

``acquire`` hands out the most recently used idle environment of a key (LIFO keeps the hottest one warm and lets
the others reach the idle timeout) or forks a new one; ``release`` puts it back. Environments are forked by the
base fork server of their spec's interpreter: the platform's own is started with the pool, another one when it is
first needed (and again if it died). A monitor thread enforces the memory limit of busy environments (sampling
their resident memory) and reaps idle ones. In snapshot mode a template per key runs init once (forked by its
interpreter's base server) and new environments are forked from it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdahost.core.artifacts import OUTPUT_DIR_ENV
from lambdahost.core.errors import RuntimeFailure
from lambdahost.runtime.environment import Environment, EnvState
from lambdahost.runtime.outputs import output_dir
from lambdahost.runtime.spawner import ForkServer
from lambdahost.runtime.spec import EnvironmentSpec

log = logging.getLogger(__name__)

Key = tuple[str, str, str]


@dataclass(frozen=True)
class PoolOptions:
    idle_timeout_s: float = 300.0
    log_limit_bytes: int = 256 * 1024
    sandbox: bool = True
    preload: tuple[str, ...] = ()
    memory_poll_s: float = 0.02  # also the resolution of timeouts on blocking invokes
    nofile: int = 1024
    spin_s: float = 0.0001  # poll a reply this long before sleeping, when one invocation is all that runs


class EnvironmentPool:
    def __init__(
        self, root: Path, options: PoolOptions = PoolOptions(), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.root = root
        self.options = options
        self._clock = clock
        self._lock = threading.Lock()
        self._idle: dict[Key, list[Environment]] = defaultdict(list)
        self._busy: set[Environment] = set()
        self._templates: dict[Key, tuple[Environment, ForkServer]] = {}
        self._template_locks: dict[Key, threading.Lock] = defaultdict(threading.Lock)
        self._generations: dict[str, int] = defaultdict(int)  # per function, bumped by retire
        self._servers: dict[str | None, ForkServer] = {}  # base fork servers by interpreter (None: the own)
        self._server_locks: dict[str | None, threading.Lock] = defaultdict(threading.Lock)
        self._started = False
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self.cold_starts = 0

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        (self.root / "envs").mkdir(parents=True, exist_ok=True)
        self._servers[None] = ForkServer.start(self.options.preload)
        self._started = True
        self._monitor = threading.Thread(target=self._monitor_loop, name="env-monitor", daemon=True)
        self._monitor.start()

    def close(self) -> None:
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=2)
        with self._lock:
            envs = [env for idle in self._idle.values() for env in idle] + list(self._busy)
            templates = list(self._templates.values())
            servers = list(self._servers.values())
            self._idle.clear()
            self._busy.clear()
            self._templates.clear()
            self._servers.clear()
        for env in envs:
            env.destroy()
        for template, server in templates:
            server.close()
            template.destroy()
        for server in servers:
            server.close()

    # -- acquire / release -------------------------------------------------------------------------------------
    def try_acquire_warm(self, spec: EnvironmentSpec) -> Environment | None:
        """The most recently used idle environment of ``spec``'s key, marked busy; None if there is none."""
        doomed: list[Environment] = []
        found: Environment | None = None
        with self._lock:
            idle = self._idle.get(spec.key)
            while idle:
                env = idle.pop()
                if env.alive:
                    env.state = EnvState.BUSY
                    self._busy.add(env)
                    found = env
                    break
                doomed.append(env)
        for env in doomed:
            env.destroy()
        return found

    def acquire(self, spec: EnvironmentSpec) -> Environment:
        """A warm environment for ``spec`` if one is idle, else a new (cold) one; marked busy either way."""
        env = self.try_acquire_warm(spec)
        if env is not None:
            return env
        env = self._spawn(spec)
        with self._lock:
            env.state = EnvState.BUSY if env.state is not EnvState.DEAD else env.state
            self._busy.add(env)
            self.cold_starts += 1
        return env

    def spin_window(self) -> float:
        """How long the caller of one invocation should poll for its reply before sleeping: ``spin_s`` while that
        invocation is the only one running in this process, otherwise 0 (concurrent callers would only take CPU
        and the GIL from each other)."""
        return self.options.spin_s if len(self._busy) <= 1 else 0.0

    def release(self, env: Environment) -> None:
        """Return an environment after an invocation; dead or retired ones are destroyed."""
        with self._lock:
            self._busy.discard(env)
            keep = env.alive and not env.retired and not self._stop.is_set()
            if keep:
                env.state = EnvState.IDLE
                env.last_used = self._clock()
                self._idle[env.spec.key].append(env)
        if not keep:
            env.destroy()

    def discard_idle(self, function_name: str) -> int:
        """Stop a function's idle environments now, keeping its snapshot template (scale to zero, not forget)."""
        with self._lock:
            doomed = [env for key in [k for k in self._idle if k[0] == function_name] for env in self._idle.pop(key)]
        for env in doomed:
            env.destroy()
        return len(doomed)

    def retire(self, function_name: str) -> int:
        """Retire every environment (and template) of a function: idle ones now, busy ones on release."""
        with self._lock:
            self._generations[function_name] += 1
            doomed: list[Environment] = []
            for key in [k for k in self._idle if k[0] == function_name]:
                doomed.extend(self._idle.pop(key))
            for env in self._busy:
                if env.spec.function_name == function_name:
                    env.retired = True
            templates = [self._templates.pop(k) for k in list(self._templates) if k[0] == function_name]
        for env in doomed:
            env.destroy()
        for template, server in templates:
            server.close()
            template.destroy()
        return len(doomed)

    # -- spawning ----------------------------------------------------------------------------------------------
    # -- provisioned concurrency -------------------------------------------------------------------------------
    def provision(self, spec: EnvironmentSpec, count: int) -> int:
        """Keep ``count`` environments of ``spec`` initialised and warm (``AWS_LAMBDA_INITIALIZATION_TYPE`` is
        ``provisioned-concurrency``), never reaped for being idle; invocations use them like any warm environment.
        Starts the missing ones (blocking until their init ends), hands extra ones back to the ordinary idle
        reaping, and returns how many are provisioned now (fewer than ``count`` when an init fails)."""
        with self._lock:
            mine = [
                env
                for env in [*self._idle.get(spec.key, ()), *self._busy]
                if env.provisioned and env.alive and env.spec.key == spec.key
            ]
            for env in mine[count:]:
                env.provisioned = False
            generation = self._generations[spec.function_name]
        have = min(len(mine), count)
        while have < count and not self._stop.is_set():
            env = self._fork(
                spec, self._server_for(spec), self.root / "envs", template=False, init_type="provisioned-concurrency"
            )
            if not env.prewarm():
                env.destroy()
                log.warning("provisioned environment failed its init", extra={"action": "provision_failed"})
                break
            with self._lock:
                current = generation == self._generations[spec.function_name] and not self._stop.is_set()
                if current:
                    env.provisioned = True
                    env.state = EnvState.IDLE
                    env.last_used = self._clock()
                    self._idle[spec.key].insert(0, env)  # the hottest stay on top; these wait below them
            if not current:
                env.destroy()
                break
            have += 1
        return have

    def unprovision(self, function_name: str) -> int:
        """Hand every provisioned environment of a function back to the ordinary idle reaping."""
        with self._lock:
            envs = [env for env in [*(e for idle in self._idle.values() for e in idle), *self._busy] if env.provisioned]
            mine = [env for env in envs if env.spec.function_name == function_name]
            for env in mine:
                env.provisioned = False
        return len(mine)

    def provisioned(self) -> dict[str, int]:
        """Live provisioned environments per function."""
        counts: dict[str, int] = defaultdict(int)
        with self._lock:
            for env in [*(e for idle in self._idle.values() for e in idle), *self._busy]:
                if env.provisioned and env.alive:
                    counts[env.spec.function_name] += 1
        return dict(counts)

    def _child_spec(
        self, spec: EnvironmentSpec, tmp_dir: Path, template: bool, init_type: str | None = None
    ) -> dict[str, Any]:
        env = dict(spec.env)
        env.update({"TMPDIR": str(tmp_dir), "TMP": str(tmp_dir), "TEMP": str(tmp_dir)})
        outputs = env[OUTPUT_DIR_ENV] = output_dir(str(tmp_dir))
        if init_type is not None:
            env["AWS_LAMBDA_INITIALIZATION_TYPE"] = init_type
        elif spec.snapshot:
            env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
        return {
            "code_dir": spec.code_dir,
            "handler": spec.handler,
            "env": env,
            "tmp_dir": str(tmp_dir),
            "output_dir": outputs,
            "sandbox": self.options.sandbox,
            "nofile": self.options.nofile,
            "fsize": spec.ephemeral_mb * 1024 * 1024,
            "template": template,
        }

    def _spawn(self, spec: EnvironmentSpec) -> Environment:
        if spec.refused is not None:  # e.g. a missing secret: nothing may start from this spec
            raise spec.refused
        if spec.snapshot:
            template, failed = self._template_for(spec)
            if failed is not None:
                return failed  # its init error (or failed before-snapshot hook) surfaces on this invocation
            if template is not None:
                env_template, server = template
                env_template.last_used = self._clock()
                return self._fork(spec, server, Path(env_template.env_dir), template=False)
        return self._fork(spec, self._server_for(spec), self.root / "envs", template=False)

    def _server_for(self, spec: EnvironmentSpec) -> ForkServer:
        """The base fork server of ``spec``'s interpreter, started (or started again, if it died) here."""
        interpreter = spec.interpreter
        server = self._servers.get(interpreter)
        if server is not None and server.alive:
            return server
        if not self._started or self._stop.is_set():
            raise RuntimeFailure("The environment pool is not started.")
        with self._server_locks[interpreter]:
            server = self._servers.get(interpreter)
            if server is not None and server.alive:
                return server
            started = ForkServer.start(self.options.preload, interpreter)
            with self._lock:
                stopped = self._stop.is_set()
                if not stopped:
                    self._servers[interpreter] = started
            if stopped:
                started.close()
                raise RuntimeFailure("The environment pool is closing.")
        if server is not None:
            server.close()
        log.info(
            "fork server started on %s",
            interpreter or "the platform's interpreter",
            extra={"action": "fork_server_started", "interpreter": interpreter, "pid": started.pid},
        )
        if started.skipped:
            log.warning(
                "preloaded modules skipped on %s: %s",
                interpreter,
                ", ".join(started.skipped),
                extra={"action": "preload_skipped", "interpreter": interpreter},
            )
        return started

    def _fork(
        self,
        spec: EnvironmentSpec,
        server: ForkServer,
        parent_dir: Path,
        template: bool,
        init_type: str | None = None,
    ) -> Environment:
        """Start an environment. Its temporary directory (``env_dir``) is created by the child itself, off the
        critical path; its log is an in-memory file (memfd) in append mode that both sides hold."""
        env_id = uuid.uuid4().hex[:16]
        env_dir = parent_dir / env_id
        log_fd = os.memfd_create(f"lambdahost-log-{env_id}", os.MFD_CLOEXEC)
        fcntl.fcntl(log_fd, fcntl.F_SETFL, fcntl.fcntl(log_fd, fcntl.F_GETFL) | os.O_APPEND)
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = server.spawn(self._child_spec(spec, env_dir, template, init_type), child_sock.fileno(), log_fd)
        except BaseException:
            parent_sock.close()
            os.close(log_fd)
            raise
        finally:
            child_sock.close()
        return Environment(env_id, spec, server, pid, parent_sock, str(env_dir), log_fd, self.options.log_limit_bytes)

    def _template_for(self, spec: EnvironmentSpec) -> tuple[tuple[Environment, ForkServer] | None, Environment | None]:
        """The snapshot template of a key, started (init and before-snapshot hooks) on first use: ``(template,
        None)``; ``(None, failed)`` when its init failed (the failed environment carries the error); ``(None,
        None)`` when the function changed while the template started (this invocation then starts normally)."""
        with self._template_locks[spec.key]:
            existing = self._templates.get(spec.key)
            if existing is not None and existing[1].alive:
                return existing, None
            generation = self._generations[spec.function_name]
            template = self._fork(spec, self._server_for(spec), self.root / "envs", template=True)
            if not template.wait_init():
                return None, template
            server = ForkServer.adopt(template.channel(), template.pid)
            template.last_used = self._clock()
            with self._lock:
                current = generation == self._generations[spec.function_name] and not self._stop.is_set()
                if current:
                    self._templates[spec.key] = (template, server)
            if not current:
                server.close()
                template.destroy()
                return None, None
            return (template, server), None

    def prepare_snapshot(self, spec: EnvironmentSpec) -> bool:
        """Start the snapshot template of ``spec`` ahead of its first invocation (as SnapStart takes its snapshot
        when a version is published); False when its init failed (the error surfaces on the first invoke)."""
        template, failed = self._template_for(spec)
        if failed is not None:
            failed.destroy()
        return template is not None

    # -- monitor: memory limit and idle reaping ----------------------------------------------------------------
    def _monitor_loop(self) -> None:
        last_reap = self._clock()
        while not self._stop.wait(self.options.memory_poll_s):
            with self._lock:
                busy = list(self._busy)
            now_mono = time.monotonic()
            for env in busy:
                if env.state is not EnvState.BUSY:
                    continue
                if env.deadline is not None and now_mono >= env.deadline:
                    env.kill("timeout")
                    continue
                rss = env.rss_kb()
                env.peak_rss_kb = max(env.peak_rss_kb, rss)
                if rss > env.spec.memory_mb * 1024:
                    log.info("environment over its memory limit", extra={"action": "env_oom", "env": env.id})
                    env.kill("oom")
            with self._lock:
                servers = list(self._servers.values())
            for server in servers:
                server.drain()
            now = self._clock()
            if now - last_reap >= min(1.0, self.options.idle_timeout_s / 2):
                last_reap = now
                self.reap_idle(now)

    def reap_idle(self, now: float | None = None) -> int:
        """Destroy environments idle for longer than the idle timeout, and snapshot templates unused for as long
        that have no environment left; returns how many environments."""
        now = self._clock() if now is None else now
        cutoff = now - self.options.idle_timeout_s
        doomed: list[Environment] = []
        templates: list[tuple[Environment, ForkServer]] = []
        with self._lock:
            for key, idle in list(self._idle.items()):
                keep = [env for env in idle if (env.provisioned or env.last_used > cutoff) and env.alive]
                doomed.extend(env for env in idle if env not in keep)
                if keep:
                    self._idle[key] = keep
                else:
                    del self._idle[key]
            in_use = {env.spec.key for env in self._busy} | set(self._idle)
            for key, (template, _server) in list(self._templates.items()):
                if key not in in_use and template.last_used <= cutoff:
                    templates.append(self._templates.pop(key))
        for env in doomed:
            env.destroy()
        for template, server in templates:
            server.close()
            template.destroy()
        return len(doomed)

    # -- introspection -----------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        with self._lock:
            per_function: dict[str, dict[str, int]] = defaultdict(lambda: {"idle": 0, "busy": 0})
            for key, idle in self._idle.items():
                per_function[key[0]]["idle"] += len(idle)
            for env in self._busy:
                per_function[env.spec.function_name]["busy"] += 1
            return {
                "idle": sum(len(v) for v in self._idle.values()),
                "busy": len(self._busy),
                "templates": len(self._templates),
                "cold_starts": self.cold_starts,
                "functions": dict(per_function),
            }

    def fork_servers(self) -> dict[str | None, int]:
        """The pid of each live base fork server, by interpreter (None: the platform's own)."""
        with self._lock:
            return {interpreter: server.pid for interpreter, server in self._servers.items() if server.alive}

    def template_keys(self) -> list[Key]:
        with self._lock:
            return list(self._templates)

    def environments(self) -> list[Environment]:
        with self._lock:
            return [env for idle in self._idle.values() for env in idle] + list(self._busy)


@contextlib.contextmanager
def borrowed(pool: EnvironmentPool, spec: EnvironmentSpec) -> Any:
    env = pool.acquire(spec)
    try:
        yield env
    finally:
        pool.release(env)
