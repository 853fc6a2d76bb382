"""Shared GCP test parts: the fake on loopback, throwaway keys, accounts and fast clients."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from google.auth import crypt, jwt
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.domain import AuthMethod, CloudAccount, Credentials, Provider
from dbsnooze.providers.gcp.client import GcpClient, RetryPolicy
from dbsnooze.providers.gcp.session import GcpSessions

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
AUDIENCE = "https://oauth2.googleapis.com/token"
PROJECT = "snooze-dev"
OTHER_PROJECT = "snooze-prod"
EMAIL = f"dbsnooze@{PROJECT}.iam.gserviceaccount.com"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# No real waiting in tests: backoff delays are recorded, not slept.
FAST = RetryPolicy(max_attempts=4, timeout_seconds=5.0, base_delay=0.1, max_delay=1.0)
_GOOGLE_VARIABLES = (
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "GOOGLE_CLOUD_QUOTA_PROJECT",
    "CLOUDSDK_CORE_PROJECT",
    "GOOGLE_API_USE_CLIENT_CERTIFICATE",
)


@pytest.fixture
def gcp_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No developer's gcloud login or key is ever read, and ADC never asks a metadata server:
    GOOGLE_APPLICATION_CREDENTIALS names a missing file, which ends ADC's search at once."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-adc.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    for name in _GOOGLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def fake(gcp_env: Path) -> Iterator[GcpFake]:
    with GcpFake() as running:
        yield running


@pytest.fixture
def key(fake: GcpFake) -> ServiceAccountKey:
    """A service account with every permission on PROJECT (none on OTHER_PROJECT)."""
    return fake.service_account(EMAIL, [PROJECT])


def account(
    endpoint: str,
    key: ServiceAccountKey | None = None,
    projects: tuple[str, ...] = (PROJECT,),
    method: AuthMethod = AuthMethod.GCP_SERVICE_ACCOUNT,
    target: str | None = None,
) -> CloudAccount:
    credentials = Credentials(
        method,
        service_account_json=json.dumps(key.info) if key else None,
        target_service_account=target,
    )
    return CloudAccount(
        id=1,
        provider=Provider.GCP,
        name="gcp",
        regions=(),
        credentials=credentials,
        endpoint_url=endpoint,
        projects=projects,
    )


class Sleeps(list[float]):
    """A sleep that records the delays it was asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(
    gcp_account: CloudAccount, policy: RetryPolicy = FAST, sleeps: Sleeps | None = None
) -> GcpClient:
    """A client through the real session code, with backoff recorded instead of slept."""
    sleep = sleeps if sleeps is not None else Sleeps()
    return GcpSessions(policy, sleep=sleep, jitter=lambda: 1.0).client(gcp_account)


def minute_points(
    start: datetime,
    hours: int,
    value: Callable[[random.Random], float],
    seed: int,
    skip: Callable[[datetime], bool] = lambda _: False,
) -> dict[datetime, float]:
    """One point a minute, stamped at the end of its minute as Cloud SQL stamps samples."""
    rng = random.Random(seed)
    points = {}
    for i in range(1, hours * 60 + 1):
        moment = start + i * MINUTE
        sample = value(rng)
        if not skip(moment):
            points[moment] = sample
    return points


def in_hour(points: Mapping[datetime, float], hour: datetime) -> list[float]:
    """The raw values an hour's statistics come from: end times in (hour, hour + 1 h]."""
    return [points[t] for t in sorted(points) if hour < t <= hour + HOUR]


def assertion(key: ServiceAccountKey, **claims: object) -> str:
    """A token-request JWT signed with the key, as google-auth makes it; claims override."""
    now = int(time.time())
    payload = {"iss": key.email, "scope": SCOPE, "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    signer = crypt.RSASigner.from_service_account_info(key.info)
    encoded: bytes = jwt.encode(signer, {**payload, **claims})
    return encoded.decode()


def google_session(key: ServiceAccountKey) -> AuthorizedSession:
    """google-auth's own session for the key: raw REST calls with real token handling."""
    credentials = service_account.Credentials.from_service_account_info(key.info, scopes=[SCOPE])
    return AuthorizedSession(credentials)


# --- the app with GCP accounts ----------------------------------------------------------------


def account_body(
    fake: GcpFake,
    key: ServiceAccountKey | None,
    name: str = "gcp",
    projects: tuple[str, ...] = (PROJECT,),
    **auth: str,
) -> dict[str, object]:
    """POST /api/v1/cloud-accounts for a GCP account on the fake (a key, or `auth` fields)."""
    method = auth.pop("method", "service_account")
    given = {"method": method, **auth}
    if key is not None:
        given["service_account_json"] = json.dumps(key.info)
    return {
        "name": name,
        "provider": "gcp",
        "projects": list(projects),
        "endpoint_url": fake.url,
        "auth": given,
    }


def fast_sessions(sleeps: Sleeps | None = None) -> GcpSessions:
    """Sessions whose backoff is recorded, not slept (tests put them in ctx.gcp)."""
    return GcpSessions(FAST, sleep=sleeps if sleeps is not None else Sleeps(), jitter=lambda: 1.0)


def add_instances(
    fake: GcpFake, project: str, instances: Mapping[str, tuple[str, str]], **settings: object
) -> None:
    """Cloud SQL instances by name: (database version, region)."""
    for name, (version, region) in instances.items():
        fake.sql.add_instance(
            project,
            name,
            database_version=version,
            region=region,
            tier="db-custom-2-7680",
            **settings,  # type: ignore[arg-type]
        )
