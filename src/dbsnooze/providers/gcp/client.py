"""One small REST client for every Google API call: AuthorizedSession, retries, outcomes.

Requests go through google-auth's AuthorizedSession (it fetches and refreshes the access token).
429, 5xx, timeouts and refused connections are retried with capped exponential backoff and
jitter (Retry-After wins when Google sends it); every attempt takes a token from the project's
bucket first. Whatever still fails becomes a ProviderError that names the permission and
project, and holds no secret.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from google.auth.exceptions import GoogleAuthError, TransportError
from google.auth.transport.requests import AuthorizedSession

from dbsnooze.collect.throttle import TokenBucket
from dbsnooze.config import Settings
from dbsnooze.domain import ProviderError
from dbsnooze.observability import count_request
from dbsnooze.providers.gcp import errors
from dbsnooze.providers.gcp.permissions import CALL_SITES

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "dbsnooze"
# Testing credentials before saving an account should answer in seconds, not minutes of retries.
PROBE_MAX_ATTEMPTS = 2
PROBE_TIMEOUT_SECONDS = 5.0
_SERVICES: dict[str, str] = {site.method: site.service for site in CALL_SITES}
_PERMISSIONS: dict[str, str] = {site.method: site.permission for site in CALL_SITES}
# TransportError: the token endpoint could not be reached (google-auth retries answers, not this)
_RETRYABLE_ERRORS = (requests.ConnectionError, requests.Timeout, TransportError)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where each Google API lives; one override points them all at one server (the fake)."""

    sqladmin: str = "https://sqladmin.googleapis.com"
    monitoring: str = "https://monitoring.googleapis.com"
    iamcredentials: str = "https://iamcredentials.googleapis.com"

    @classmethod
    def for_override(cls, endpoint_url: str | None) -> Endpoints:
        if not endpoint_url:
            return cls()
        base = endpoint_url.rstrip("/")
        return cls(base, base, base)

    def base(self, service: str) -> str:
        found: str = getattr(self, service)
        return found


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    timeout_seconds: float = 20.0
    base_delay: float = 0.25
    max_delay: float = 8.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.cloud_max_attempts, settings.cloud_timeout_seconds)

    def for_probe(self) -> RetryPolicy:
        """Few attempts and short timeouts, for testing credentials quickly."""
        return RetryPolicy(
            min(self.max_attempts, PROBE_MAX_ATTEMPTS),
            min(self.timeout_seconds, PROBE_TIMEOUT_SECONDS),
            self.base_delay,
            self.max_delay,
        )

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """Seconds before attempt `attempt + 1`: Retry-After if given, else backoff x jitter."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1)) * (0.5 + jitter / 2)


class GcpClient:
    """REST calls for one account (and, through its bucket, one project's request budget)."""

    def __init__(
        self,
        session: AuthorizedSession,
        endpoints: Endpoints,
        policy: RetryPolicy,
        *,
        bucket: TokenBucket | None = None,
        secrets: tuple[str | None, ...] = (),
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._session = session
        self._endpoints = endpoints
        self._policy = policy
        self._bucket = bucket
        self._secrets = secrets
        self._sleep = sleep
        self._jitter = jitter
        self._lock = threading.Lock()
        self._api_calls = 0
        self._retries = 0

    @property
    def api_calls(self) -> int:
        """Requests made (each page counts once; retries of one request do not)."""
        with self._lock:
            return self._api_calls

    @property
    def retries(self) -> int:
        with self._lock:
            return self._retries

    def get(
        self, method: str, project: str | None, path: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._call("GET", method, project, path, params=params)

    def patch(
        self, method: str, project: str | None, path: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._call("PATCH", method, project, path, body=body)

    def pages(
        self, method: str, project: str | None, path: str, params: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Every page of a list method, following nextPageToken until it is empty."""
        token: str | None = None
        while True:
            page = self.get(
                method, project, path, {**params, "pageToken": token} if token else params
            )
            yield page
            following = page.get("nextPageToken") or None
            if following is None:
                return
            if following == token:
                where = errors.Where(_PERMISSIONS[method], project)
                raise ProviderError(
                    "cloud_error", f"{method} on {where.describe()} repeated its page token"
                )
            token = following

    def _call(
        self,
        verb: str,
        method: str,
        project: str | None,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        where = errors.Where(_PERMISSIONS[method], project)
        url = self._endpoints.base(_SERVICES[method]) + path
        with self._lock:
            self._api_calls += 1
        for attempt in range(1, self._policy.max_attempts + 1):
            last = attempt == self._policy.max_attempts
            try:
                response = self._send(verb, url, params, body)
                count_request(_SERVICES[method], method, response.status_code == 429)
            except _RETRYABLE_ERRORS as exc:
                if last:
                    raise errors.from_exception(exc, where, self._secrets) from None
                self._pause(attempt, None)
                continue
            except (GoogleAuthError, ValueError) as exc:
                raise errors.from_exception(exc, where, self._secrets) from None
            if response.status_code in RETRYABLE_STATUS and not last:
                self._pause(attempt, _retry_after(response))
                continue
            return _json(response, where)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send(
        self,
        verb: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
    ) -> requests.Response:
        if self._bucket is not None:
            self._bucket.acquire()
        response: requests.Response = self._session.request(  # type: ignore[no-untyped-call]
            verb, url, params=params, json=body, timeout=self._policy.timeout_seconds
        )
        return response

    def _pause(self, attempt: int, retry_after: float | None) -> None:
        with self._lock:
            self._retries += 1
        self._sleep(self._policy.delay(attempt, retry_after, self._jitter()))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _json(response: requests.Response, where: errors.Where) -> dict[str, Any]:
    if not response.ok:
        raise errors.from_response(response, where)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise ProviderError(
            "cloud_error",
            f"{where.permission} on {where.describe()}: the endpoint did not answer a JSON object",
        )
    return payload
