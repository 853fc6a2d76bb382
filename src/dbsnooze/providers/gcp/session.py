"""Authorized sessions per account, rebuilt when its credentials or endpoint change.

Every client is for endpoints the settings allow (DBSNOOZE_ALLOWED_ENDPOINTS): the account's
endpoint override and a service-account key's token_uri are checked before any session is built
or any request made, since the server would send its own credentials (ADC, impersonation) or a
signed assertion there.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from google.auth.transport.requests import AuthorizedSession

from dbsnooze.collect.throttle import TokenBucket
from dbsnooze.config import Settings
from dbsnooze.domain import CloudAccount, Credentials
from dbsnooze.endpoints import (
    DEFAULT_ALLOWED_ENDPOINTS,
    HostPattern,
    check_endpoint,
    parse_patterns,
)
from dbsnooze.providers.gcp.client import USER_AGENT, Endpoints, GcpClient, RetryPolicy
from dbsnooze.providers.gcp.credentials import google_credentials, key_secrets

DEFAULT_PATTERNS = parse_patterns(DEFAULT_ALLOWED_ENDPOINTS)


@dataclass(frozen=True, slots=True)
class _AccountSession:
    credentials: Credentials
    endpoint_url: str | None
    session: AuthorizedSession

    def matches(self, account: CloudAccount) -> bool:
        return (self.credentials, self.endpoint_url) == (account.credentials, account.endpoint_url)


class GcpSessions:
    """Clients for GCP accounts; one AuthorizedSession per account, safe to share."""

    def __init__(
        self,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        allowed_endpoints: Sequence[HostPattern] = DEFAULT_PATTERNS,
    ) -> None:
        self.policy = policy
        self.allowed_endpoints = tuple(allowed_endpoints)
        self._sleep = sleep
        self._jitter = jitter
        self._lock = threading.Lock()
        self._sessions: dict[int, _AccountSession] = {}

    @property
    def sleep(self) -> Callable[[float], None]:
        """How its clients pause between retries; a stop's operation polls pause the same way."""
        return self._sleep

    @classmethod
    def from_settings(cls, settings: Settings) -> GcpSessions:
        allowed = parse_patterns(settings.allowed_endpoints)
        return cls(RetryPolicy.from_settings(settings), allowed_endpoints=allowed)

    @classmethod
    def for_probe(cls, settings: Settings) -> GcpSessions:
        """A throwaway set for testing credentials quickly (e.g. before an account is saved)."""
        allowed = parse_patterns(settings.allowed_endpoints)
        return cls(RetryPolicy.from_settings(settings).for_probe(), allowed_endpoints=allowed)

    def client(self, account: CloudAccount, bucket: TokenBucket | None = None) -> GcpClient:
        """A client for the account; pass the project's bucket to throttle its requests.

        Raises ProviderError `endpoint_not_allowed` for an endpoint outside the allow-list.
        """
        check_endpoint(account.endpoint_url, self.allowed_endpoints)
        check_endpoint(_token_uri(account.credentials), self.allowed_endpoints)
        return GcpClient(
            self._session(account),
            Endpoints.for_override(account.endpoint_url),
            self.policy,
            bucket=bucket,
            secrets=key_secrets(account.credentials),
            sleep=self._sleep,
            jitter=self._jitter,
        )

    def forget(self, account_id: int) -> None:
        with self._lock:
            found = self._sessions.pop(account_id, None)
        if found is not None:
            found.session.close()  # type: ignore[no-untyped-call]

    def _session(self, account: CloudAccount) -> AuthorizedSession:
        with self._lock:
            cached = self._sessions.get(account.id)
            if cached is not None and cached.matches(account):
                return cached.session
            endpoints = Endpoints.for_override(account.endpoint_url)
            credentials = google_credentials(account.credentials, endpoints.iamcredentials)
            session = AuthorizedSession(  # type: ignore[no-untyped-call]
                credentials, refresh_timeout=self.policy.timeout_seconds
            )
            session.headers["User-Agent"] = USER_AGENT
            self._sessions[account.id] = _AccountSession(
                account.credentials, account.endpoint_url, session
            )
            return session


def _token_uri(credentials: Credentials) -> str | None:
    """Where a service-account key sends its signed token requests, if the key says."""
    try:
        info = json.loads(credentials.service_account_json or "{}")
    except ValueError:
        return None  # an unreadable key fails later, with the credentials' own message
    uri = info.get("token_uri") if isinstance(info, dict) else None
    return uri if isinstance(uri, str) else None
