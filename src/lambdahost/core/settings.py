"""The one typed settings object. Built by the CLI (flags with ``LAMBDAHOST_*`` fallbacks) or by code;
nothing reads the environment at import time."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(".lambdahost")
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    store_url: str | None = None  # None: SQLite file in data_dir
    host: str = "127.0.0.1"
    port: int = 9000
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT
    # Concurrency
    max_concurrency: int = 1000
    unreserved_minimum: int = 100
    # Environments
    idle_timeout_s: float = 300.0
    snapshot: bool = False
    sandbox: bool = True
    log_limit_bytes: int = 256 * 1024
    # Credentials handed to functions so boto3 inside them reaches this platform.
    access_key_id: str = "lambdahost"
    secret_access_key: str = "lambdahost"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "lambdahost.db"

    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.sqlite_path}"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)
