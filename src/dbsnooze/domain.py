"""Domain types: what the middle of the program speaks; SDK dicts and ORM rows stop at the edges."""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit


class Provider(enum.StrEnum):
    AWS = "aws"
    GCP = "gcp"


class AuthMethod(enum.StrEnum):
    DEFAULT_CHAIN = "default"
    PROFILE = "profile"
    STATIC_KEYS = "static_keys"
    ASSUME_ROLE = "assume_role"
    GCP_SERVICE_ACCOUNT = "service_account"
    GCP_ADC = "adc"
    GCP_IMPERSONATE = "impersonate"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Decrypted secrets and auth parameters for one account. Never logged, never returned."""

    method: AuthMethod
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    role_arn: str | None = None
    external_id: str | None = field(default=None, repr=False)
    source_profile: str | None = None
    service_account_json: str | None = field(default=None, repr=False)
    # GCP impersonation: the service account whose short-lived tokens dbsnooze asks for
    target_service_account: str | None = None

    def __repr__(self) -> str:  # secrets never end up in a log line or traceback
        return f"Credentials(method={self.method.value!r})"


@dataclass(frozen=True, slots=True)
class CloudAccount:
    id: int
    provider: Provider
    name: str
    regions: tuple[str, ...]
    credentials: Credentials
    endpoint_url: str | None = None
    projects: tuple[str, ...] = ()  # GCP project ids to scan (AWS accounts scan regions)


ENDPOINT_URL_PATTERN = r"^https?://[\x21-\x7e]+$"  # http(s), printable ASCII, no spaces
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def endpoint_url_problem(url: str) -> str | None:
    """Why `url` cannot be a cloud endpoint, or None: http(s) to a host name or IP address, with
    an optional port and path; no user info (it would leak), query or fragment."""
    if not re.match(ENDPOINT_URL_PATTERN, url):
        return "must be an http:// or https:// URL in printable ASCII"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
    except ValueError:
        return "is not a valid URL"
    if "@" in parts.netloc:
        return "must not hold a user name or password"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    if not _valid_host(parts.hostname or ""):
        return "needs a valid host name or IP address"
    return None


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return "%" not in host  # no IPv6 zone ids
    except ValueError:
        pass
    name = host.removesuffix(".")
    return 0 < len(name) <= 253 and all(_HOST_LABEL.match(label) for label in name.split("."))


class Unit(enum.StrEnum):
    """What a stored row stands for: a database instance, or a DB cluster (an Aurora cluster is
    the unit schedules stop and start; it has no metric history of its own, its members do)."""

    INSTANCE = "instance"
    CLUSTER = "cluster"


@dataclass(frozen=True, slots=True)
class DiscoveredInstance:
    """One database instance as the cloud describes it, converted at the provider edge."""

    provider_id: str
    region: str
    engine: str
    engine_version: str
    instance_class: str
    status: str
    tags: dict[str, str]
    created_at: datetime | None
    arn: str | None = None
    replica: bool = False  # a read replica (it cannot be stopped on its own)
    replica_source: str | None = None  # the instance it replicates, when the cloud says
    read_replicas: tuple[str, ...] = ()  # its own read replicas
    multi_az: bool = False
    cluster_id: str | None = None  # Aurora or Multi-AZ DB cluster it belongs to
    unit: Unit = Unit.INSTANCE
    members: tuple[str, ...] = ()  # a cluster's member instances
    engine_mode: str | None = None  # a cluster's: provisioned, serverless (Aurora Serverless v1)...
    global_cluster: str | None = None  # the Aurora global database a cluster belongs to


@dataclass(frozen=True, slots=True)
class RegionResult:
    """Outcome of scanning one region of one account: the instances, or why it failed.

    A scan may succeed in part: `unlisted` are the units it could not list (e.g. clusters,
    without the permission to describe them), whose stored rows are neither updated nor marked
    deleted, and `warnings` say why, for people.
    """

    account_id: int
    region: str
    instances: tuple[DiscoveredInstance, ...] = ()
    error: str | None = None
    unlisted: frozenset[Unit] = frozenset()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


class ProviderError(Exception):
    """A cloud call failed in a way worth telling the user; the message holds no secret.
    `retryable`: trying the same call again later may succeed (throttled, 5xx, a conflicting
    state that will pass). `busy`: the cloud refused because another operation runs on the
    unit (a backup, maintenance, an earlier change): a state to wait out, not a failure."""

    def __init__(
        self, code: str, message: str, retryable: bool = False, *, busy: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable or busy
        self.busy = busy


class Power(enum.StrEnum):
    """An instance's (or an Aurora cluster's) power state, in the cloud's many words."""

    AWAKE = "awake"
    ASLEEP = "asleep"
    STOPPING = "stopping"
    STARTING = "starting"
    BUSY = "busy"  # another change is in progress (modifying, backing-up, upgrading...)
    GONE = "gone"  # the cloud no longer lists it


@dataclass(frozen=True, slots=True)
class PowerUnit:
    """What one stop or start acts on: an instance, or an Aurora cluster (the scheduled unit)."""

    scope: str  # an AWS region or a GCP project
    provider_id: str  # instance or cluster identifier
    cluster: bool = False


@dataclass(frozen=True, slots=True)
class PowerReading:
    state: Power
    status: str  # the cloud's own word for it ("stopped", "available", "RUNNABLE/NEVER"...)


HOUR = timedelta(hours=1)


# The cloud publishes an hour's last datapoints a few minutes after the hour ends.
FINAL_DELAY = timedelta(minutes=10)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def last_final_boundary(now: datetime) -> datetime:
    """Every hour ending at or before this boundary is final: it ended more than FINAL_DELAY
    before `now`, so its statistics will not change. An hour that ended exactly FINAL_DELAY ago
    is not final yet."""
    settled = in_utc(now) - FINAL_DELAY
    boundary = floor_hour(settled)
    return boundary - HOUR if boundary == settled else boundary


def in_utc(moment: datetime) -> datetime:
    # A naive moment is taken to be UTC already; an aware one is converted so hours are UTC hours.
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


@dataclass(frozen=True, slots=True, order=True)
class HourRange:
    """UTC hours [start, end), both on hour boundaries."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if floor_hour(self.start) != self.start or floor_hour(self.end) != self.end:
            raise ValueError("an HourRange starts and ends on hour boundaries")
        if self.end < self.start:
            raise ValueError("an HourRange ends after it starts")

    @property
    def hours(self) -> int:
        return int((self.end - self.start) / HOUR)

    def __iter__(self) -> Iterator[datetime]:
        return (self.start + i * HOUR for i in range(self.hours))

    def __contains__(self, hour: object) -> bool:
        return isinstance(hour, datetime) and self.start <= hour < self.end


class Source(enum.StrEnum):
    LIVE = "live"
    BACKFILL = "backfill"
    ASLEEP = "asleep"


class Coverage(enum.StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    PROVISIONAL = "provisional"  # stored before the hour was final: it will be fetched again
    EMPTY = "empty"
    ASLEEP = "asleep"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Target:
    """An instance as the collectors need it: where to ask, and under which identifier."""

    instance_id: int
    account_id: int
    region: str
    provider_id: str
    instance_class: str
    running: bool
    since: datetime | None = None  # when the cloud created it, if it says
    provider: Provider = Provider.AWS


@dataclass(frozen=True, slots=True)
class HourlyStat:
    """The cloud's statistics for one metric of one instance over one hour."""

    instance_id: int
    metric: str
    hour: datetime
    average: float
    maximum: float
    minimum: float
    sample_count: float
