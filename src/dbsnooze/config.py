"""Settings: one pydantic-settings class, read from DBSNOOZE_* variables and an optional file."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dbsnooze.analysis.zones import valid_zone
from dbsnooze.endpoints import DEFAULT_ALLOWED_ENDPOINTS, parse_patterns

HARD_MAX_BACKFILL_DAYS = 455  # CloudWatch keeps 1-hour statistics for 455 days.
DEFAULT_METRICS = ("cpu", "connections", "freeable_memory", "read_iops", "write_iops")
MIN_API_TOKEN_LENGTH = 16  # a guessable token is no token: refuse shorter ones at start
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_ADDRESSES = ("0.0.0.0", "::")
ANY_HOST = "*"


class Settings(BaseSettings):
    """Everything dbsnooze can be told. Built once at the edge and passed in, never imported."""

    model_config = SettingsConfigDict(
        env_prefix="DBSNOOZE_",
        env_file=None,
        extra="ignore",
        validate_default=True,
        hide_input_in_errors=True,  # a rejected value may be a secret
    )

    database_url: str = "sqlite:///./dbsnooze.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    api_token: SecretStr | None = None
    # Host headers answered; empty: see `allowed_host_names` (DNS rebinding on the open server)
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path("./dbsnooze.key")
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|text)$")

    discovery_interval_seconds: int = Field(default=900, ge=10)
    collect_interval_seconds: int = Field(default=300, ge=10)
    metrics: Annotated[tuple[str, ...], NoDecode] = DEFAULT_METRICS
    retention_days: int = Field(default=90, ge=1)
    backfill_max_days: int = Field(default=7, ge=1, le=HARD_MAX_BACKFILL_DAYS)
    backfill_default_days: int = Field(default=7, ge=1, le=HARD_MAX_BACKFILL_DAYS)
    # how long `wait=true` waits for a backfill before answering 202 with the job to poll
    backfill_wait_seconds: float = Field(default=300.0, ge=0, le=3600)
    auto_backfill: bool = True
    auto_backfill_days: int = Field(default=7, ge=1, le=HARD_MAX_BACKFILL_DAYS)
    cloud_requests_per_second: float = Field(default=10.0, gt=0)
    # one second's worth at once: a single backfill's few calls need not queue behind each other
    cloud_requests_burst: int = Field(default=10, ge=1)
    cloud_max_attempts: int = Field(default=8, ge=1)
    cloud_timeout_seconds: float = Field(default=20.0, gt=0)
    worker_lease_seconds: int = Field(default=60, ge=5)
    # instances per part of a fleet job: 100 x 5 metrics x 4 statistics = 2,000 queries, 4 calls
    fleet_chunk_size: int = Field(default=100, ge=1)
    run_worker: bool = True
    run_collector: bool = True
    run_scheduler: bool = True
    # hosts (globs, optional :port) an account's endpoint_url may name; see endpoints.py
    allowed_endpoints: Annotated[tuple[str, ...], NoDecode] = DEFAULT_ALLOWED_ENDPOINTS

    # the idle rule and sleep windows (SPEC §10; analysis/)
    idle_cpu_percent: float = Field(default=5.0, ge=0, le=100)
    idle_iops: float = Field(default=20.0, ge=0)  # average read + write IOPS
    idle_floor_percentile: float = Field(default=10.0, ge=0, le=100)
    idle_connections_margin: float = Field(default=1.0, ge=0)
    timezone_tag: str = Field(default="dbsnooze:timezone", min_length=1, max_length=128)
    default_timezone: str = "UTC"
    analysis_weeks: int = Field(default=4, ge=2, le=52)
    sleep_confidence: float = Field(default=0.9, gt=0, le=1)
    sleep_min_hours: float = Field(default=4.0, ge=1, le=168)
    wake_lead_minutes: int = Field(default=20, ge=0, le=240)
    always_idle_share: float = Field(default=0.95, gt=0, le=1)
    always_idle_days: int = Field(default=14, ge=1, le=90)
    max_interrupted_hours: int = Field(default=0, ge=0)
    backtest_recent_days: int = Field(default=14, ge=1, le=365)
    recommend_interval_hours: float = Field(default=24.0, gt=0)
    recommend_check_seconds: int = Field(default=300, ge=10)

    # the reconciler (SPEC §11; schedules/reconcile.py)
    reconcile_interval_seconds: int = Field(default=60, ge=10)
    dry_run: bool = False  # every schedule and override: record what would be done, call nothing
    stop_guard_minutes: int = Field(default=15, ge=1, le=180)
    action_max_attempts: int = Field(default=6, ge=1, le=50)

    # webhooks told of every stop and start (notify.py); secrets: they may hold a token
    webhook_urls: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=5, ge=1, le=20)

    @field_validator("metrics", "allowed_hosts", "allowed_endpoints", "webhook_urls", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not valid_zone(value):
            raise ValueError(f"not an IANA time zone: {value!r}")
        return value

    @field_validator("api_token")
    @classmethod
    def _usable_token(cls, value: SecretStr | None) -> SecretStr | None:
        problem = token_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("allowed_endpoints")
    @classmethod
    def _valid_endpoint_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        parse_patterns(value)  # a bad pattern stops the start with a clear message
        return value

    @field_validator("webhook_urls")
    @classmethod
    def _valid_webhooks(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        from dbsnooze.notify import webhook_url_problem

        for number, url in enumerate(value, start=1):
            problem = webhook_url_problem(url.get_secret_value())
            if problem:  # the URL itself is never repeated: it may hold a token
                raise ValueError(f"DBSNOOZE_WEBHOOK_URLS: webhook {number} {problem}")
        return value

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def allowed_host_names(self) -> frozenset[str] | None:
        """Host names requests may be addressed to; None: any.

        The open server (no token) answers only its loopback names, its configured host and
        DBSNOOZE_ALLOWED_HOSTS, so a page that rebinds its own DNS name to 127.0.0.1 cannot
        reach it. With a token and no list, any name is answered: nothing works without it.
        """
        listed = {normal_host(name) for name in self.allowed_hosts}
        if ANY_HOST in listed or (not listed and self.api_token is not None):
            return None
        own = () if self.host in WILDCARD_ADDRESSES else (normal_host(self.host),)
        return frozenset((*LOOPBACK_NAMES, *own, *listed))


def token_problem(token: SecretStr | None) -> str | None:
    """Why DBSNOOZE_API_TOKEN cannot be used, in words that never repeat it; None if it can."""
    if token is None:
        return None
    value = token.get_secret_value()
    if not value.strip():
        return "DBSNOOZE_API_TOKEN is set but empty: set a real token or unset it (loopback only)"
    if any(not ("!" <= char <= "~") for char in value):
        return "DBSNOOZE_API_TOKEN must be printable ASCII without spaces (it is sent in a header)"
    if len(value) < MIN_API_TOKEN_LENGTH:
        return (
            f"DBSNOOZE_API_TOKEN is too short: use at least {MIN_API_TOKEN_LENGTH} characters"
            " (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return None


def normal_host(name: str) -> str:
    """`[::1]`, `LocalHost.` and `localhost` name the same host."""
    return name.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, an optional KEY=VALUE file, then explicit overrides."""
    if config_file is not None:
        if not config_file.is_file():
            raise FileNotFoundError(f"config file not found: {config_file}")
        return Settings(_env_file=config_file, **overrides)
    return Settings(**overrides)
