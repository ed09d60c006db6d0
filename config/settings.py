"""Every setting of Journeys in one class, read once from the environment (prefix ``JOURNEYS_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_API_KEY = "dev-key-change-me"
DEV_UNSUBSCRIBE_SECRET = "dev-unsubscribe-secret-change-me"
DEV_WEBHOOK_SECRET = "dev-webhook-secret-change-me"
DEV_SESSION_SECRET = "dev-session-secret-change-me"

Role = Literal["viewer", "editor"]


class ApiKey(BaseModel):
    """A key with a name (shown in the UI and logs) and a role: viewers read, editors also change."""

    key: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=100)
    role: Role = "editor"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEYS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="where the embedded stack keeps its files")
    journeys_dir: Path = Field(Path("journeys"), description="journey YAML files deployed on start")
    database_url: str = Field(
        "",
        validation_alias=AliasChoices("DATABASE_URL", "JOURNEYS_DATABASE_URL"),
        description="SQLAlchemy async URL; empty means SQLite at data/journeys.db",
    )
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "journeys"
    temporal_ui_port: int = 8233
    temporal_ui_url: str = Field(
        "",
        description="the Temporal web UI the customer page links runs to; empty means "
        "http://127.0.0.1:<temporal_ui_port>",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(30.0, gt=0, description="per SMTP attempt; Temporal retries")
    mail_from: str = "Journeys <hello@journeys.local>"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_http: Literal["auto", "httptools", "h11"] = Field(
        "auto",
        description="journeys api's HTTP/1.1 parser: httptools (C; what auto picks where it is installed) "
        "or h11 (pure Python, the fallback)",
    )
    worker_metrics_host: str = Field("127.0.0.1", description="where the worker serves Prometheus metrics")
    worker_metrics_port: int = Field(9464, ge=0, le=65535, description="its port; 0 serves no metrics")
    worker_cache: int = Field(
        1000, ge=0, le=1_000_000, description="runs a worker keeps in memory between workflow tasks"
    )
    worker_workflow_tasks: int = Field(
        100, ge=2, le=10_000, description="workflow tasks a worker runs at once"
    )
    worker_workflow_pollers: int = Field(
        5, ge=2, le=100, description="workflow task polls a worker keeps open at once (sticky and normal)"
    )
    worker_gc_threshold: int = Field(
        700,
        ge=0,
        le=10_000_000,
        description="allocations between the worker's young garbage collections (Python's threshold0;"
        " 0 turns the collector off)",
    )
    worker_gc_freeze: bool = Field(
        False,
        description="leave what the worker holds once started (its imports, the plans) out of every"
        " later garbage collection (gc.freeze)",
    )
    worker_sandbox: bool = Field(
        False,
        description="run workflows in Temporal's sandbox, which catches non-deterministic workflow code"
        " (the test suite runs them in it); in it a worker spent 1.7x the CPU per event (bench.scale,"
        " README Sizing)",
    )
    worker_sticky_timeout_seconds: float = Field(
        10.0, gt=0, le=3600, description="how long a run's task waits for the worker caching it"
    )
    api_keys: list[str | ApiKey] = Field(
        default_factory=lambda: list[str | ApiKey]([DEV_API_KEY]),
        description='bearer keys: plain strings (editors) or {"key", "name", "role": viewer|editor}',
    )
    session_secret: str = Field(
        DEV_SESSION_SECRET, min_length=16, description="signs the browser's session cookie (/ui)"
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="how long a sign-in lasts")
    uncertain_send_policy: Literal["resend", "skip"] = Field(
        "resend",
        description="an email whose earlier attempt stopped after it may have reached the SMTP server: "
        "resend it with the same Message-ID (at least once) or record it as uncertain (at most once)",
    )
    max_body_bytes: int = 1_000_000
    event_timestamp_window_days: float = Field(
        365,
        gt=0,
        description="an event's timestamp may be this far before the server's clock (and 1 day after)",
    )
    batch_seconds: float = Field(
        20,
        gt=0,
        description="a batch of events delivers for at most this long; then it answers 503 and its "
        "sender resends it (the events delivered come back as duplicates)",
    )
    unsubscribe_secret: str = Field(DEV_UNSUBSCRIBE_SECRET, min_length=16)
    track_engagement: bool = Field(
        True,
        description="emails carry an open pixel and signed click links (a journey can say tracking: false)",
    )
    public_base_url: str = "http://127.0.0.1:8000"
    webhook_url: str | None = Field(None, description="where webhook sends are POSTed")
    webhook_secret: str = DEV_WEBHOOK_SECRET
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="per webhook attempt")
    unsubscribe_mailto: str | None = Field(
        None, description="address for List-Unsubscribe mailto:; empty means unsubscribe@<mail_from domain>"
    )
    outbox_page: bool = Field(
        False, description="serve the local Outbox page at /outbox (journeys up turns it on)"
    )
    stop_grace_seconds: float = Field(
        30.0, gt=0, description="journeys up: how long each part may take to stop before it is killed"
    )
    journeys_save_dir: Path | None = Field(
        None,
        validation_alias=AliasChoices("JOURNEYS_SAVE_DIR", "journeys_save_dir"),
        description="a deploy through the API also writes the journey's YAML to <dir>/<name>.yaml "
        "(atomically), so git diff shows it; unset writes nothing; journeys up sets the journeys folder",
    )
    ui_edit: bool = Field(
        True,
        description="the browser editor may save (and roll back); false makes the UI read-only, for "
        "teams that deploy only from git (the API's PUT and rollback answer as before)",
    )

    @field_validator("journeys_save_dir", mode="before")
    @classmethod
    def _empty_save_dir_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _temporal_ui_default(self) -> Self:
        self.temporal_ui_url = (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip(
            "/"
        )
        return self

    def keys(self) -> list[ApiKey]:
        """Every API key with its name and role; a plain key is an editor named after its first
        characters (never the whole key)."""
        return [
            key if isinstance(key, ApiKey) else ApiKey(key=key, name=f"key {key[:4]}…", role="editor")
            for key in self.api_keys
        ]

    def store_url(self) -> str:
        if self.database_url:
            url = self.database_url
            for plain, driver in (
                ("postgresql://", "postgresql+asyncpg://"),
                ("postgres://", "postgresql+asyncpg://"),
            ):
                if url.startswith(plain):
                    url = driver + url[len(plain) :]
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'journeys.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
