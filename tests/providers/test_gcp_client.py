"""The REST client: faults retried with backoff, failures classified, secrets scrubbed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.domain import HourRange, ProviderError, Target
from dbsnooze.providers.gcp.client import RetryPolicy
from dbsnooze.providers.gcp.errors import scrub
from dbsnooze.providers.gcp.inventory import instances_path, list_instances
from dbsnooze.providers.gcp.metrics import CLOUDSQL
from dbsnooze.providers.gcp.monitoring import HistoryCall, MonitoringSource
from dbsnooze.providers.gcp.permissions import INSTANCES_LIST
from gcphelp import PROJECT, Sleeps, account, client, fake, gcp_env, key, minute_points

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name

START = datetime(2026, 11, 16, tzinfo=UTC)
SPAN = HourRange(START, START.replace(hour=6))


def _instance(fake: GcpFake, name: str = "db-1") -> Target:
    fake.sql.add_instance(
        PROJECT, name, database_version="POSTGRES_15", region="us-central1", tier="db-f1-micro"
    )
    series = fake.instance_series(PROJECT, name, CLOUDSQL + "cpu/utilization")
    series.add(minute_points(START, 6, lambda r: r.random(), seed=3))
    return Target(1, 1, "us-central1", f"{PROJECT}:{name}", "db-f1-micro", True)


def test_throttling_and_unavailable_answers_are_retried_and_nothing_is_lost(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    target = _instance(fake)
    sleeps = Sleeps()
    gcp = client(account(fake.url, key), sleeps=sleeps)
    expected = MonitoringSource(client(account(fake.url, key))).fetch(
        HistoryCall(PROJECT, "cpu", SPAN, (target,))
    )
    fake.faults.inject("429", path="/timeSeries", count=2)
    fake.faults.inject("503", path="/timeSeries", count=1)

    stats = MonitoringSource(gcp).fetch(HistoryCall(PROJECT, "cpu", SPAN, (target,)))

    assert stats == expected and len(stats) == 6
    faults = [r.fault for r in fake.faults.requests("/timeSeries") if r.fault]
    assert faults == ["429", "429", "503"]
    assert (gcp.retries, gcp.api_calls) == (3, 4)  # retries do not count as calls
    assert sleeps == [0.1, 0.2, 0.4]  # the first request met all three: backoff doubles


def test_a_request_held_past_the_timeout_is_retried(fake: GcpFake, key: ServiceAccountKey) -> None:
    _instance(fake)
    policy = RetryPolicy(max_attempts=3, timeout_seconds=0.5, base_delay=0.0, max_delay=0.0)
    gcp = client(account(fake.url, key), policy)
    list_instances(gcp, PROJECT)  # the token is fetched before the hold starts
    fake.faults.inject("hold", path="/instances", count=1)

    found = list_instances(gcp, PROJECT)

    assert [i.provider_id for i in found] == [f"{PROJECT}:db-1"]
    assert [r.fault for r in fake.faults.requests("/instances")] == [None, "hold", None]
    assert gcp.retries == 1


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        ("503", "cloud_error", "UNAVAILABLE"),
        ("500", "cloud_error", "INTERNAL"),
        ("429", "throttled", "RESOURCE_EXHAUSTED"),
    ],
)
def test_a_fault_that_outlasts_every_attempt_is_an_outcome_naming_what_failed(
    fake: GcpFake, key: ServiceAccountKey, fault: str, code: str, words: str
) -> None:
    gcp = client(account(fake.url, key))
    fake.faults.inject(fault, path="/instances", count=4)

    with pytest.raises(ProviderError) as failure:
        list_instances(gcp, PROJECT)

    assert failure.value.code == code
    assert words in failure.value.message
    assert "cloudsql.instances.list" in failure.value.message
    assert PROJECT in failure.value.message
    assert len(fake.faults.requests("/instances")) == 4


def test_a_missing_instance_is_not_found(fake: GcpFake, key: ServiceAccountKey) -> None:
    gcp = client(account(fake.url, key))

    with pytest.raises(ProviderError) as failure:
        gcp.get("sql.instances.get", PROJECT, instances_path(PROJECT) + "/nope")

    assert failure.value.code == "not_found"
    assert "nope" in failure.value.message
    assert gcp.retries == 0  # a 404 is an answer, not a fault


def test_an_endpoint_that_is_not_a_google_api_is_said_so(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    gcp = client(account(fake.url, key))

    with pytest.raises(ProviderError) as failure:
        gcp.get(INSTANCES_LIST, PROJECT, "/not/an/api")

    assert failure.value.code == "not_found"


def test_an_unreachable_endpoint_is_retried_then_reported(
    fake: GcpFake, key: ServiceAccountKey, closed_endpoint: str
) -> None:
    sleeps = Sleeps()
    gcp = client(account(closed_endpoint, key), sleeps=sleeps)

    with pytest.raises(ProviderError) as failure:
        list_instances(gcp, PROJECT)

    assert failure.value.code == "endpoint_unreachable"
    assert "cloudsql.instances.list" in failure.value.message
    assert len(sleeps) == 3  # four attempts


def test_messages_never_carry_keys_tokens_or_jwts(key: ServiceAccountKey) -> None:
    pem = key.info["private_key"]
    text = json.dumps(
        {
            "key": pem,
            "key_id": key.key_id,
            "token": "ya29.a0AfH6SMBx-secret_token.value",
            "assertion": "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl",
        }
    )

    cleaned = scrub(text, [key.info["private_key_id"]])

    for secret in (pem, pem.splitlines()[1], key.key_id, "ya29.", "eyJhbGci", "secret_token"):
        assert secret not in cleaned
    assert "key_id" in cleaned  # the words around a secret stay
