"""Start-up configuration from the environment (SUBTITLER_*), validated once.

Runtime settings that the UI edits live in the database (see `subtitler.settings`); this is only
what the daemon needs before it can open that database.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SUBTITLER_"


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Field(default=Path("./data"), description="Holds the DB, models, spool, logs")
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: SQLite file in the data dir"
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    node_id: str = Field(default_factory=socket.gethostname, min_length=1)
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    start_workers: bool = Field(
        default=True, description="Start the worker pool from settings at start-up"
    )
    allowed_hosts: str = Field(
        default="",
        description="Comma-separated extra Host names (e.g. the Docker service name), besides "
        "the allowed_hosts setting",
    )
    path_mappings: str = Field(
        default="",
        description=(
            "This node's view of the queue's paths: '/media=/mnt/nas/media' (queue path = local "
            "path), several comma-separated; a node with mappings only claims library jobs under "
            "their queue-side prefixes"
        ),
    )
    cpu_workers: int | None = Field(
        default=None,
        ge=-1,
        le=64,
        description="This node's CPU workers (-1 auto); default: the worker_cpu_count setting",
    )
    gpu_workers: int | None = Field(
        default=None,
        ge=-1,
        le=64,
        description="This node's GPU workers (-1 one per GPU); default: worker_gpu_count",
    )
    advertise_url: str | None = Field(
        default=None,
        description="How other nodes reach this one (http://host:port); default from host/port",
    )

    @field_validator("path_mappings")
    @classmethod
    def _check_mappings(cls, value: str) -> str:
        from subtitler.cluster.paths import parse_mappings

        parse_mappings(value)  # ValueError names the bad entry
        return value

    @field_validator("advertise_url")
    @classmethod
    def _check_advertise(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        allowed = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
        if not value.startswith(allowed):
            raise ValueError(f"must start with one of {', '.join(allowed)}")
        return value

    @property
    def extra_hosts(self) -> list[str]:
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def db_path(self) -> Path | None:
        """The SQLite file when the database is the default one, else None."""
        return None if self.database_url else self.data_dir / "subtitler.db"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'subtitler.db'}"

    @property
    def is_postgres(self) -> bool:
        return self.effective_database_url.startswith("postgresql")

    @property
    def node_url(self) -> str:
        if self.advertise_url:
            return self.advertise_url.rstrip("/")
        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.models_dir, self.spool_dir, self.logs_dir):
            path.mkdir(parents=True, exist_ok=True)


class ConfigError(Exception):
    """Start-up configuration that cannot be used; the message names the variable and value."""


def load_config(**overrides: object) -> Config:
    """Read the environment (plus explicit overrides, e.g. CLI flags) into a Config."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Config(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            value = err.get("input")
            problems.append(f"{ENV_PREFIX}{field.upper()}={value!r}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from exc
