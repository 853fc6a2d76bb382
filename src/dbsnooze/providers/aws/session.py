"""Sessions and clients: one session per account, clients cached per account, region, service."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialResolver, DeferredRefreshableCredentials

from dbsnooze.config import Settings
from dbsnooze.domain import AuthMethod, CloudAccount, Credentials, ProviderError
from dbsnooze.endpoints import check_endpoint, parse_patterns
from dbsnooze.observability import instrument
from dbsnooze.providers.aws import parsing
from dbsnooze.providers.aws.errors import AWS_ERRORS, credential_secrets, to_provider_error
from dbsnooze.providers.aws.permissions import action_for

USER_AGENT_EXTRA = "dbsnooze"
RETRY_MODE = "standard"
ROLE_SESSION_NAME = "dbsnooze"
ROLE_DURATION_SECONDS = 3600
DEFAULT_STS_REGION = "us-east-1"
# Testing credentials before saving an account should answer in seconds, not minutes of retries.
PROBE_MAX_ATTEMPTS = 2
PROBE_TIMEOUT_SECONDS = 5.0

RefreshMetadata = dict[str, str]


def client_config(settings: Settings) -> Config:
    """Retries, timeouts and user agent shared by every dbsnooze client."""
    return Config(
        retries={"mode": RETRY_MODE, "total_max_attempts": settings.cloud_max_attempts},
        connect_timeout=settings.cloud_timeout_seconds,
        read_timeout=settings.cloud_timeout_seconds,
        user_agent_extra=USER_AGENT_EXTRA,
    )


def probe_settings(settings: Settings) -> Settings:
    """Settings for a quick credentials test: few attempts, short timeouts."""
    return settings.model_copy(
        update={
            "cloud_max_attempts": min(settings.cloud_max_attempts, PROBE_MAX_ATTEMPTS),
            "cloud_timeout_seconds": min(settings.cloud_timeout_seconds, PROBE_TIMEOUT_SECONDS),
        }
    )


def make_session(
    credentials: Credentials,
    *,
    endpoint_url: str | None = None,
    config: Config | None = None,
    sts_region: str = DEFAULT_STS_REGION,
) -> boto3.Session:
    """A boto3 session for one account; assume-role sessions refresh themselves before expiry."""
    if credentials.method is AuthMethod.ASSUME_ROLE:
        session = _assume_role_session(credentials, endpoint_url, config, sts_region)
    else:
        session = _base_session(credentials)
    parsing.install(session)
    return session


def _base_session(credentials: Credentials) -> boto3.Session:
    """The session for every non-role method, and the source identity of a role."""
    if credentials.method is AuthMethod.PROFILE:
        return boto3.Session(profile_name=_required(credentials.profile, "a profile name"))
    if credentials.method is AuthMethod.STATIC_KEYS:
        return _static_session(credentials)
    if credentials.method is AuthMethod.DEFAULT_CHAIN:
        return boto3.Session()
    if credentials.method is AuthMethod.ASSUME_ROLE:
        return _role_source_session(credentials)
    raise ProviderError(
        "credentials_invalid", f"auth method {credentials.method.value!r} is not an AWS method"
    )


def _static_session(credentials: Credentials) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=_required(credentials.access_key_id, "an access key id"),
        aws_secret_access_key=_required(credentials.secret_access_key, "a secret access key"),
        aws_session_token=credentials.session_token or None,
    )


def _role_source_session(credentials: Credentials) -> boto3.Session:
    if credentials.source_profile:
        return boto3.Session(profile_name=credentials.source_profile)
    if credentials.access_key_id and credentials.secret_access_key:
        return _static_session(credentials)
    return boto3.Session()


def _required(value: str | None, what: str) -> str:
    if not value:
        raise ProviderError("credentials_invalid", f"the account's credentials need {what}")
    return value


def _assume_role_session(
    credentials: Credentials, endpoint_url: str | None, config: Config | None, sts_region: str
) -> boto3.Session:
    _required(credentials.role_arn, "a role ARN")
    refresh = _assume_role_refresher(credentials, endpoint_url, config, sts_region)
    deferred = DeferredRefreshableCredentials(refresh_using=refresh, method="assume-role")
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([_Fixed(deferred)]))
    return boto3.Session(botocore_session=core)


@dataclass(frozen=True, slots=True)
class _Fixed:
    """A botocore credential provider that always answers the same (refreshable) credentials."""

    credentials: DeferredRefreshableCredentials
    METHOD = "dbsnooze-assume-role"

    def load(self) -> DeferredRefreshableCredentials:
        return self.credentials


def _assume_role_refresher(
    credentials: Credentials, endpoint_url: str | None, config: Config | None, sts_region: str
) -> Callable[[], RefreshMetadata]:
    params = _assume_role_params(credentials)

    def refresh() -> RefreshMetadata:
        try:
            sts = _role_source_session(credentials).client(
                "sts", region_name=sts_region, endpoint_url=endpoint_url, config=config
            )
            answer = sts.assume_role(**params)["Credentials"]
        except AWS_ERRORS as exc:
            raise _assume_role_error(exc, credentials, sts_region) from None
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": answer["Expiration"].isoformat(),
        }

    return refresh


def _assume_role_params(credentials: Credentials) -> dict[str, Any]:
    params: dict[str, Any] = {
        "RoleArn": credentials.role_arn,
        "RoleSessionName": ROLE_SESSION_NAME,
        "DurationSeconds": ROLE_DURATION_SECONDS,
    }
    if credentials.external_id:
        params["ExternalId"] = credentials.external_id
    return params


def _assume_role_error(exc: Exception, credentials: Credentials, region: str) -> ProviderError:
    error = to_provider_error(
        exc,
        action=action_for("sts", "AssumeRole"),
        region=region,
        secrets=credential_secrets(credentials),
    )
    return ProviderError(
        "assume_role_failed", f"could not assume role {credentials.role_arn}: {error.message}"
    )


_ClientKey = tuple[int, str, str]


@dataclass(frozen=True, slots=True)
class _AccountSession:
    """A session and what it was built from, so an edited account gets a fresh one."""

    credentials: Credentials
    endpoint_url: str | None
    sts_region: str
    session: boto3.Session

    def matches(self, account: CloudAccount) -> bool:
        return (self.credentials, self.endpoint_url, self.sts_region) == (
            account.credentials,
            account.endpoint_url,
            _sts_region(account),
        )


class ClientCache:
    """boto3 clients reused per (account id, region, service); safe to share between threads.

    Every client is for an endpoint the settings allow: an account naming another one gets a
    ProviderError before any session, credential lookup or request is made.
    """

    def __init__(self, settings: Settings) -> None:
        self._config = client_config(settings)
        self._allowed_endpoints = parse_patterns(settings.allowed_endpoints)
        self._lock = threading.Lock()
        self._sessions: dict[int, _AccountSession] = {}
        self._clients: dict[_ClientKey, Any] = {}

    @classmethod
    def for_probe(cls, settings: Settings) -> ClientCache:
        """A throwaway cache for testing credentials quickly (e.g. before an account is saved)."""
        return cls(probe_settings(settings))

    def client(self, account: CloudAccount, region: str, service: str) -> Any:
        check_endpoint(account.endpoint_url, self._allowed_endpoints)
        key = (account.id, region, service)
        with self._lock:
            client = self._clients.get(key)
            if client is None or not self._sessions[account.id].matches(account):
                client = self._new_client(account, region, service)
                self._clients[key] = client
            return client

    def forget(self, account_id: int) -> None:
        with self._lock:
            self._forget(account_id)

    def _forget(self, account_id: int) -> None:
        self._sessions.pop(account_id, None)
        for key in [key for key in self._clients if key[0] == account_id]:
            del self._clients[key]

    def _new_client(self, account: CloudAccount, region: str, service: str) -> Any:
        session = self._session(account)
        client = session.client(
            service, region_name=region, endpoint_url=account.endpoint_url, config=self._config
        )
        instrument(client)
        return client

    def _session(self, account: CloudAccount) -> boto3.Session:
        cached = self._sessions.get(account.id)
        if cached is not None and cached.matches(account):
            return cached.session
        self._forget(account.id)
        session = make_session(
            account.credentials,
            endpoint_url=account.endpoint_url,
            config=self._config,
            sts_region=_sts_region(account),
        )
        self._sessions[account.id] = _AccountSession(
            account.credentials, account.endpoint_url, _sts_region(account), session
        )
        return session


def _sts_region(account: CloudAccount) -> str:
    # The account's first region keeps STS traffic regional, as AWS recommends.
    return account.regions[0] if account.regions else DEFAULT_STS_REGION
