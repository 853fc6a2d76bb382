"""API schemas, separate from tables: Create / Public models and list wrappers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from dbsnooze.analysis.zones import valid_zone
from dbsnooze.api.params import PRINTABLE
from dbsnooze.domain import (
    ENDPOINT_URL_PATTERN,
    AuthMethod,
    Credentials,
    Provider,
    endpoint_url_problem,
)

T = TypeVar("T")
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$"
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]+$"
# Secrets, session tokens and external ids go into HTTP headers and signatures; key ids are
# what AWS issues (and a `/` in one would break the signature's credential scope).
ASCII_TOKEN = r"^[\x21-\x7e]+$"
KEY_ID = r"^[A-Za-z0-9_]+$"
_RULES = {ASCII_TOKEN: "printable ASCII without spaces", KEY_ID: "letters, digits or _"}


def _matches(pattern: str) -> AfterValidator:
    def check(value: SecretStr) -> SecretStr:
        if not re.match(pattern, value.get_secret_value()):
            raise ValueError(f"must be {_RULES[pattern]}")  # never echo the value
        return value

    return AfterValidator(check)


Token = Annotated[SecretStr, _matches(ASCII_TOKEN)]
KeyId = Annotated[SecretStr, _matches(KEY_ID)]


def _secret_field(min_length: int, max_length: int, pattern: str, default: Any = ...) -> Any:
    """A secret's bounds, with the pattern its type checks shown in the OpenAPI document."""
    return Field(
        default,
        min_length=min_length,
        max_length=max_length,
        json_schema_extra={"pattern": pattern},
    )


PROJECT_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"  # a GCP project id
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
KEY_JSON_MAX_CHARS = 16_384  # a service-account key is about 2,400 characters


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DefaultChainAuth(Strict):
    method: Literal["default"]


class ProfileAuth(Strict):
    method: Literal["profile"]
    profile: str = Field(min_length=1, max_length=128, pattern=PRINTABLE)


class StaticKeysAuth(Strict):
    method: Literal["static_keys"]
    access_key_id: KeyId = _secret_field(16, 128, KEY_ID)
    secret_access_key: Token = _secret_field(1, 256, ASCII_TOKEN)
    session_token: Token | None = _secret_field(1, 8192, ASCII_TOKEN, default=None)


class AssumeRoleAuth(Strict):
    method: Literal["assume_role"]
    role_arn: str = Field(pattern=ROLE_ARN_PATTERN, max_length=2048)
    external_id: Token | None = _secret_field(2, 1224, ASCII_TOKEN, default=None)
    source_profile: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=PRINTABLE
    )


class ServiceAccountAuth(Strict):
    """GCP: a service-account key (its JSON), stored encrypted, never shown again."""

    method: Literal["service_account"]
    service_account_json: SecretStr = Field(min_length=2, max_length=KEY_JSON_MAX_CHARS)


class ApplicationDefaultAuth(Strict):
    """GCP: the server's application default credentials."""

    method: Literal["adc"]


class ImpersonateAuth(Strict):
    """GCP: short-lived tokens of `target_service_account`, asked for by the server's ADC or
    by the given key."""

    method: Literal["impersonate"]
    target_service_account: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    service_account_json: SecretStr | None = Field(default=None, max_length=KEY_JSON_MAX_CHARS)


AwsAuth = DefaultChainAuth | ProfileAuth | StaticKeysAuth | AssumeRoleAuth
GcpAuth = ServiceAccountAuth | ApplicationDefaultAuth | ImpersonateAuth
AuthIn = Annotated[AwsAuth | GcpAuth, Field(discriminator="method")]
GCP_METHODS = frozenset({"service_account", "adc", "impersonate"})


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def to_credentials(auth: AwsAuth | GcpAuth) -> Credentials:
    fields: dict[str, Any] = {}
    for name, value in auth:
        if name != "method":
            fields[name] = _secret(value) if isinstance(value, SecretStr) else value
    return Credentials(method=AuthMethod(auth.method), **fields)


class AccountCreate(Strict):
    """An AWS account scans `regions`; a GCP account scans `projects`."""

    name: str = Field(pattern=NAME_PATTERN)
    provider: Provider = Provider.AWS
    regions: list[Annotated[str, Field(pattern=REGION_PATTERN)]] = Field(
        default_factory=list, max_length=40
    )
    projects: list[Annotated[str, Field(pattern=PROJECT_PATTERN)]] = Field(
        default_factory=list, max_length=40
    )
    auth: AuthIn
    endpoint_url: str | None = Field(default=None, pattern=ENDPOINT_URL_PATTERN, max_length=512)
    # the owners' zone for sleep windows of instances without a timezone tag (SPEC §10)
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None and not valid_zone(zone):
            raise ValueError("not an IANA time zone, e.g. Europe/Berlin")
        return zone

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, url: str | None) -> str | None:
        if url is not None and (problem := endpoint_url_problem(url)):
            raise ValueError(problem)
        return url

    @field_validator("regions", "projects")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))

    @model_validator(mode="after")
    def _fits_provider(self) -> AccountCreate:
        problem = _provider_problem(self.provider, self.regions, self.projects, self.auth.method)
        if problem:
            raise ValueError(problem)
        return self


def _provider_problem(
    provider: Provider, regions: list[str], projects: list[str], method: str
) -> str | None:
    gcp = provider is Provider.GCP
    if gcp and not projects:
        return "a GCP account needs at least one project id in projects"
    if gcp and regions:
        return "a GCP account scans projects, not regions: leave regions out"
    if not gcp and not regions:
        return "an AWS account needs at least one region in regions"
    if not gcp and projects:
        return "an AWS account scans regions, not projects: leave projects out"
    if gcp != (method in GCP_METHODS):
        allowed = (
            "service_account, adc or impersonate"
            if gcp
            else "default, profile, static_keys or assume_role"
        )
        return f"auth method {method} is not for {provider.value} accounts (use {allowed})"
    return None


class AccountPublic(BaseModel):
    id: int
    provider: str
    name: str
    auth_method: str
    profile: str | None = None
    role_arn: str | None = None
    secret_hint: str | None = None
    regions: list[str]
    projects: list[str] = []
    target_service_account: str | None = None
    endpoint_url: str | None
    timezone: str | None = None
    instance_count: int = 0
    created_at: datetime
    last_tested_at: datetime | None
    last_test_error: str | None


class AccountCreated(AccountPublic):
    """The new account; `warnings`: its credentials were accepted, but allow only part."""

    warnings: list[str] = []


class AccountTestResult(BaseModel):
    ok: bool
    error: str | None = None
    warnings: list[str] = []  # it works in part: e.g. AWS clusters refused, instances listed


class MemberPublic(BaseModel):
    """One member instance of a cluster; `id` is null until discovery has stored it."""

    name: str
    id: int | None = None
    status: str | None = None
    instance_class: str | None = None


class InstancePublic(BaseModel):
    id: int
    account_id: int
    provider: str
    region: str
    name: str
    arn: str | None
    engine: str
    engine_version: str
    instance_class: str
    status: str
    replica: bool = False
    tags: dict[str, Any]
    cloud_created_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    deleted: bool
    deleted_at: datetime | None
    last_active_at: datetime | None = None  # the latest active hour stored (see activity.py)
    idle_share: float | None = None  # 0..1 of the awake hours in its last 7 stored days
    unit: Literal["instance", "cluster"] = Field(
        "instance", description="a database instance, or a DB cluster (Aurora's scheduled unit)"
    )
    cluster_id: str | None = Field(None, description="the cluster an instance belongs to")
    engine_mode: str | None = Field(None, description="a cluster's: provisioned, serverless...")
    members: list[MemberPublic] = Field(
        default_factory=list, description="a cluster's member instances, as the cloud lists them"
    )
    cannot_stop: str | None = Field(None, description="why it can never be stopped, if so")


class EventPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str | None
    subject_id: str | None
    detail: dict[str, Any]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # e.g. `fields` of a 422, `job_id` of a 409

    code: str = Field(description="stable, machine-readable, e.g. `instance_not_found`")
    message: str = Field(description="for people; never holds a secret")


class ErrorResponse(BaseModel):
    """Every error answer: `{"error": {"code", "message"}}`."""

    error: ErrorDetail


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int
    limit: int
    offset: int


class JobPublic(BaseModel):
    id: int
    url: str
    kind: str
    instance_id: int | None
    instance_ids: list[int]
    parent_id: int | None
    state: str
    days_requested: int
    days: int
    capped: bool
    force: bool
    hours_total: int
    hours_skipped: int
    hours_backfilled: int
    hours_empty: int
    hours_refetched: int  # stored hours asked again: provisional ones, or all with force
    api_calls: int
    progress: float  # share of the planned work answered; below 1 when a job failed or stopped
    errors: list[dict[str, Any]]
    parts: dict[str, int] | None = None
    cancel_requested: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BackfillResult(JobPublic):
    """`wait=true`: the seed's answer, together with the job's fields."""

    success: bool
    hours_backfilled: int
