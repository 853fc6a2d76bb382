"""API schemas, separate from tables: Create / Public models and list wrappers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from dbsnooze.domain import AuthMethod, Credentials, Provider

T = TypeVar("T")
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$"
PROJECT_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"  # a GCP project id
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
KEY_JSON_MAX_CHARS = 16_384  # a service-account key is about 2,400 characters


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DefaultChainAuth(Strict):
    method: Literal["default"]


class ProfileAuth(Strict):
    method: Literal["profile"]
    profile: str = Field(min_length=1, max_length=128)


class StaticKeysAuth(Strict):
    method: Literal["static_keys"]
    access_key_id: SecretStr = Field(min_length=16, max_length=128)
    secret_access_key: SecretStr = Field(min_length=1, max_length=256)
    session_token: SecretStr | None = None


class AssumeRoleAuth(Strict):
    method: Literal["assume_role"]
    role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$", max_length=2048)
    external_id: SecretStr | None = Field(default=None, max_length=1224)
    source_profile: str | None = Field(default=None, max_length=128)


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
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$", max_length=512)

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
    instance_count: int = 0
    created_at: datetime
    last_tested_at: datetime | None
    last_test_error: str | None


class AccountTestResult(BaseModel):
    ok: bool
    error: str | None = None


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


class EventPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str | None
    subject_id: str | None
    detail: dict[str, Any]


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
