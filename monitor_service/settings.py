"""Service settings, read from `MONITOR_*` environment variables and validated once at start.

Only the entry points (`monitor serve`, `monitor scheduler`, `monitor apikey`, `monitor db`)
call `load_settings()`; everything below them receives the `Settings` object as a value, so
tests build their own settings and nothing reads the environment at import.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor_service.errors import ConfigError
from monitor_service.security.addresses import AddressPolicy
from monitor_service.security.paths import DEFAULT_URL_SCHEMES, PathPolicy, split_list

# local, local[4], local[*], local[4,2], spark://host:7077[,host2:7077], yarn, k8s://https://host:443
_MASTER = re.compile(r"^(local(\[(\*|\d+)(,\d+)?\])?|spark://[^\s/]+(:\d+)?(,[^\s/]+(:\d+)?)*|yarn|k8s://\S+)$")
_GATEWAY_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


class Settings(BaseSettings):
    """Everything the API and the scheduler need to know about their surroundings."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///monitor-data/monitor.db",
        description="sqlite:///path (embedded, the default) or postgresql://user@host:port/db",
    )
    artifact_root: str = Field(
        default="monitor-data/artifacts",
        description="Folder or fsspec URL (s3://bucket/prefix, ...) under which reports are written",
    )
    spark_master: str = Field(default="local[*]", description="local[*], spark://host:7077, yarn, k8s://...")
    engine: Literal["spark", "duckdb"] = Field(
        default="spark", description="Engine of runs whose schedule or baseline job names none: spark "
                                     "(local or any cluster) or duckdb (data quality on this machine, no JVM)")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    auto_migrate: bool = Field(default=True, description="Upgrade the database schema when a process starts")
    max_request_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="Largest accepted request body")
    page_size_max: int = Field(default=1000, ge=1)
    # Dashboard (/ui): how long a sign-in lasts; Secure cookies (None: when the request came over https).
    ui_session_minutes: int = Field(default=480, ge=1, le=30 * 24 * 60,
                                    description="Lifetime of a dashboard sign-in (the session cookie)")
    ui_cookie_secure: bool | None = Field(default=None, description="Mark the session cookie Secure; "
                                          "unset: when the request came over https")
    ui_history_windows: int = Field(default=200, ge=10, le=5000,
                                    description="Windows a dashboard chart draws by default")
    # Scheduler and worker.
    poll_seconds: float = Field(default=10.0, gt=0, description="How often the scheduler looks for due work")
    worker_concurrency: int = Field(default=2, ge=1, le=64, description="Executions run at once on the session")
    lease_seconds: int = Field(default=120, ge=5, description="A run not renewed for this long is presumed dead")
    max_attempts: int = Field(default=3, ge=1, description="Runs of one execution before it is marked Failed")
    max_runtime_seconds: int = Field(default=6 * 3600, ge=1, description="Longer executions are Stopped")
    catchup_max_windows: int = Field(
        default=24, ge=0, description="After downtime, at most this many missed windows per schedule are run"
    )
    backfill_max_windows: int = Field(default=2000, ge=1, description="Largest backfill accepted in one request")
    # Webhook alerts.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=5, ge=1)
    webhook_backoff_seconds: float = Field(default=30.0, ge=0, description="First retry delay; doubles each time")
    webhook_allowed_hosts: str = Field(
        default="", description="Comma-separated host names, addresses or networks (10.0.0.0/8) that webhooks "
                                "may reach although they are not public (loopback, private, link-local)")
    # What jobs may read (docs/security.md).
    data_root: str = Field(default="monitor-data/data", description="The folder of input data the service reads")
    input_roots: str = Field(
        default="", description="Comma-separated folders and URL prefixes (s3://bucket/capture) that inputs must "
                                "lie under; default MONITOR_DATA_ROOT. The artifact root is always allowed")
    input_url_schemes: str = Field(default=",".join(DEFAULT_URL_SCHEMES),
                                   description="URL schemes inputs may use (comma-separated)")
    # The dashboard's endpoint pages read live counters from these gateways' /metrics.
    gateway_urls: str = Field(
        default="", description="Comma-separated base URLs of `monitor gateway` processes "
                                "(http://127.0.0.1:8081) whose metrics the dashboard shows")
    gateway_timeout_seconds: float = Field(default=2.0, gt=0, le=60,
                                           description="How long the dashboard waits for one gateway's metrics")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme not in {"sqlite", "postgresql", "postgres", "postgresql+psycopg"}:
            raise ValueError(
                f"unsupported database URL scheme {scheme!r}; use sqlite:///path/monitor.db "
                "or postgresql://user@host:5432/dbname"
            )
        if scheme == "sqlite" and not value.startswith("sqlite:///"):
            raise ValueError("a SQLite URL needs three slashes: sqlite:///relative/path.db or sqlite:////abs/path.db")
        return value

    @field_validator("gateway_urls")
    @classmethod
    def _gateway_urls(cls, value: str) -> str:
        for url in split_list(value):
            if not _GATEWAY_URL.match(url):
                raise ValueError(f"{url!r} is not a gateway base URL; use http://host:port (comma-separated)")
        return value

    def gateway_url_list(self) -> list[str]:
        return [url.rstrip("/") for url in split_list(self.gateway_urls)]

    @field_validator("spark_master")
    @classmethod
    def _spark_master(cls, value: str) -> str:
        if not _MASTER.match(value):
            raise ValueError(
                f"{value!r} is not a Spark master URL; use local[*], local[N], spark://host:7077, yarn or k8s://https://host"
            )
        return value

    @field_validator("artifact_root")
    @classmethod
    def _artifact_root(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the artifact root must not be empty")
        return value.rstrip("/") or "/"

    @model_validator(mode="after")
    def _policies(self) -> Settings:
        self.path_policy()  # a bad root, scheme or allow-list entry is a settings error at start
        self.address_policy()
        return self

    def path_policy(self) -> PathPolicy:
        """Inputs under MONITOR_INPUT_ROOTS (default MONITOR_DATA_ROOT) or the artifact root."""
        roots = split_list(self.input_roots) or [self.data_root]
        schemes = split_list(self.input_url_schemes)
        if "://" in self.artifact_root:  # the operator's own choice of store is always readable
            schemes.append(self.artifact_root.split("://", 1)[0])
        return PathPolicy.of([*roots, self.artifact_root], schemes)

    def address_policy(self) -> AddressPolicy:
        return AddressPolicy.of(split_list(self.webhook_allowed_hosts))

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with our driver: plain postgresql:// URLs use psycopg 3."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite URL (None for in-memory or other databases)."""
        if not self.is_sqlite:
            return None
        path = self.database_url[len("sqlite:///"):]
        return None if path in ("", ":memory:") else Path(path)


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment once; a bad variable becomes one clear ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"MONITOR_{field.upper()}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from exc
