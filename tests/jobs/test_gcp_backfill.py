"""GCP backfill and live collection end to end, against the fake over HTTP, on SQLite and
PostgreSQL: every stored hour exactly what Google documents for the minutes the fake holds,
paging over instances and points, 0 calls on a re-run, faults retried, and the seed's curl on a
Cloud SQL instance with the call count the plan promised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from dbsnooze.context import Context
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.domain import HourlyStat
from gcpdata import GCP_METRICS, Held, connect, expected, seed_instance
from gcphelp import PROJECT, Sleeps, add_instances, fake, fast_sessions, gcp_env, key
from metricshelp import HOUR, NOW, app, backfill, finished, marked_empty, stored, window

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name
WEEK = window(NOW, 7)
START = WEEK[0] - 2 * HOUR  # data from two hours before the window to its end
DATA_HOURS = len(WEEK) + 2
INSTANCES = {  # name -> (database version, region, databases of a PostgreSQL instance)
    "pg-a": ("POSTGRES_15", "us-central1", ("postgres", "app", "reports")),
    "pg-b": ("POSTGRES_14", "europe-west1", ("postgres", "app")),
    "my-c": ("MYSQL_8_0", "us-central1", ()),
    "quiet": ("MYSQL_8_0", "europe-west1", ()),  # running, publishes nothing
}
STOPPED = "sleepy"  # stopped three days before now; data until then
STOPPED_AT = WEEK[-1] + HOUR - timedelta(days=3)


def _gap(moment: datetime) -> bool:
    """pg-b published nothing for five hours, and a few scattered minutes."""
    return WEEK[20] < moment <= WEEK[25] or moment.minute in (7, 33)


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture()
def held(fake: GcpFake) -> dict[str, Held]:
    """The project's instances and the minute data the fake holds for them."""
    versions = {name: (v, region) for name, (v, region, _) in INSTANCES.items()}
    add_instances(fake, PROJECT, versions, created=START)
    add_instances(fake, PROJECT, {STOPPED: ("POSTGRES_16", "us-central1")},
                  activation_policy="NEVER", created=START)  # fmt: skip
    found = {}
    for seed, (name, (_, _, databases)) in enumerate(INSTANCES.items()):
        if name != "quiet":
            skip = _gap if name == "pg-b" else (lambda _: False)
            found[name] = seed_instance(
                fake, PROJECT, name, START, DATA_HOURS, 10 * seed, databases, skip
            )
    found[STOPPED] = seed_instance(
        fake, PROJECT, STOPPED, START, DATA_HOURS, 99, ("postgres",), lambda t: t > STOPPED_AT
    )
    return found


@pytest.fixture()
def api(
    ctx: Context, fake: GcpFake, key: ServiceAccountKey, sleeps: Sleeps
) -> Iterator[TestClient]:
    ctx.gcp = fast_sessions(sleeps)
    with app(ctx) as client:
        yield client


def ids_of(ctx: Context, fake: GcpFake, key: ServiceAccountKey) -> dict[str, int]:
    return {name.split(":")[1]: i for name, i in connect(ctx, fake, key).items()}


def as_stored(stats: list[HourlyStat]) -> dict[tuple[str, datetime], tuple[float, ...]]:
    return {(s.metric, s.hour): (s.average, s.maximum, s.minimum, s.sample_count) for s in stats}


def truth(held: dict[str, Held], name: str, instance_id: int) -> dict[Any, tuple[float, ...]]:
    """What Google's documented aggregation gives for every metric-hour of the week."""
    return as_stored([s for m in GCP_METRICS for s in expected({instance_id: held[name]}, m, WEEK)])


def values(ctx: Context, instance_id: int) -> dict[Any, tuple[Any, ...]]:
    return {key: row[:4] for key, row in stored(ctx, instance_id).items() if row[4] != "asleep"}


def test_the_seeds_curl_on_a_cloud_sql_instance_makes_the_calls_its_plan_promised(
    api: TestClient, ctx: Context, fake: GcpFake, key: ServiceAccountKey, held: dict[str, Held]
) -> None:
    ids = ids_of(ctx, fake, key)
    plan = api.post(
        "/api/v1/metrics/backfill", params={"q": "pg-a", "days": 7, "dry_run": "true"}
    ).json()
    before = len(fake.faults.served("/timeSeries"))

    job = backfill(api, ids["pg-a"], days=7, force="true")
    again = backfill(api, ids["pg-a"], days=7)

    assert (plan["instances"], plan["requests"], plan["monitoring_calls"]) == (1, 5, 5)
    assert plan["monitoring_requests"] == 24  # four aligners a metric; connections: two metrics
    assert job["success"] is True and job["instance_id"] == ids["pg-a"]
    assert (job["hours_backfilled"], job["days_requested"]) == (168, 7)
    assert job["api_calls"] == plan["monitoring_requests"]
    assert len(fake.faults.served("/timeSeries")) - before == job["api_calls"]
    assert values(ctx, ids["pg-a"]) == truth(held, "pg-a", ids["pg-a"])
    assert (again["api_calls"], again["hours_skipped"], again["hours_backfilled"]) == (0, 168, 0)


def test_a_fleet_backfill_pages_through_points_and_stores_every_hour_exactly(
    api: TestClient, ctx: Context, fake: GcpFake, key: ServiceAccountKey, held: dict[str, Held]
) -> None:
    fake.sql.page_cap = 2
    fake.monitoring.page_cap = 97  # points a page: every query needs many, series split
    ids = ids_of(ctx, fake, key)
    plan = api.post("/api/v1/metrics/backfill", params={"days": 7, "dry_run": "true"}).json()
    before = len(fake.faults.served("/timeSeries"))

    job = finished(api, api.post("/api/v1/metrics/backfill", params={"days": 7}).json()["id"])
    requests = len(fake.faults.served("/timeSeries")) - before
    rerun = finished(api, api.post("/api/v1/metrics/backfill", params={"days": 7}).json()["id"])

    assert len(ids) == 5 and job["state"] == "succeeded", job
    assert (plan["monitoring_calls"], plan["monitoring_requests"]) == (5, 24)  # one part
    assert job["api_calls"] == requests > 5 * plan["monitoring_requests"]  # paged, every page
    for name in ("pg-a", "pg-b", "my-c"):
        assert values(ctx, ids[name]) == truth(held, name, ids[name]), name
    assert len(truth(held, "pg-b", ids["pg-b"])) == 5 * (168 - 5)  # its silent hours: none
    assert marked_empty(ctx, ids["quiet"]) == {(m, h) for m in GCP_METRICS for h in WEEK}
    sleepy = stored(ctx, ids[STOPPED])
    asleep = {key for key, row in sleepy.items() if row[4] == "asleep"}
    assert asleep == {(m, h) for m in GCP_METRICS for h in WEEK if h >= STOPPED_AT}
    awake = {key: row[:4] for key, row in sleepy.items() if key not in asleep}
    assert awake == truth(held, STOPPED, ids[STOPPED])
    assert (rerun["api_calls"], rerun["hours_backfilled"], rerun["state"]) == (0, 0, "succeeded")


def _counted() -> tuple[float, float]:
    """dbsnooze_cloud_requests_total and _throttles_total of timeSeries.list so far."""
    labels = {"service": "monitoring", "operation": "monitoring.projects.timeSeries.list"}
    found = [
        REGISTRY.get_sample_value(f"dbsnooze_cloud_{name}_total", labels) or 0.0
        for name in ("requests", "throttles")
    ]
    return found[0], found[1]


def test_throttling_and_unavailability_are_retried_without_losing_an_hour(
    api: TestClient,
    ctx: Context,
    fake: GcpFake,
    key: ServiceAccountKey,
    held: dict[str, Held],
    sleeps: Sleeps,
) -> None:
    ids = ids_of(ctx, fake, key)
    fake.faults.inject("429", "/timeSeries", count=2)
    fake.faults.inject("503", "/timeSeries", count=1)
    sent, throttled = _counted()

    job = backfill(api, ids["my-c"], days=7)

    assert job["success"] is True, job["errors"]
    assert job["api_calls"] == 20  # retries are not calls; MySQL reads one connections metric
    assert len(fake.faults.requests("/timeSeries")) == 20 + 3
    assert len(sleeps) == 3
    assert (_counted()[0] - sent, _counted()[1] - throttled) == (23, 2)  # Prometheus
    assert values(ctx, ids["my-c"]) == truth(held, "my-c", ids["my-c"])


def test_a_failure_that_outlasts_the_retries_is_the_jobs_error_not_silence(
    api: TestClient, ctx: Context, fake: GcpFake, key: ServiceAccountKey, held: dict[str, Held]
) -> None:
    ids = ids_of(ctx, fake, key)
    fake.faults.inject("503", "/timeSeries", count=4)  # every attempt of the first request

    job = backfill(api, ids["my-c"], days=7)

    assert job["state"] == "failed" and job["success"] is False
    assert len(job["errors"]) == 1
    assert "timeSeries.list" in job["errors"][0]["error"] and PROJECT in job["errors"][0]["error"]
    assert marked_empty(ctx, ids["my-c"]) == set()  # a failed call marks nothing empty


def test_live_collection_reads_cloud_sql_and_records_stopped_instances_asleep(
    api: TestClient, ctx: Context, fake: GcpFake, key: ServiceAccountKey, held: dict[str, Held]
) -> None:
    ids = ids_of(ctx, fake, key)
    current = WEEK[-1] + HOUR
    for name in ("pg-a", "my-c"):
        held[name] = seed_instance(fake, PROJECT, name, current, 1, 500, INSTANCES[name][2])

    report = api.post(f"/api/v1/instances/{ids['pg-a']}/collect-metrics").json()
    asleep = api.post(f"/api/v1/instances/{ids[STOPPED]}/collect-metrics").json()

    assert report["errors"] == [] and report["instances"] == 1
    assert report["api_calls"] == 24
    got = {k: v[:4] for k, v in stored(ctx, ids["pg-a"]).items() if k[1] == current}
    want = as_stored(
        [s for m in GCP_METRICS for s in expected({ids["pg-a"]: held["pg-a"]}, m, [current])]
    )
    assert got == want and len(got) == 5
    assert {row[4] for row in stored(ctx, ids["pg-a"]).values()} == {"live"}
    assert (asleep["asleep"], asleep["api_calls"]) == (1, 0)
    assert {(k[0], row[4]) for k, row in stored(ctx, ids[STOPPED]).items()} == {
        (m, "asleep") for m in GCP_METRICS
    }
