"""Shared by the metrics-history tests: a clock the test moves, CloudWatch data the test wrote,
the truth asked of moto one hour at a time (SPEC §11), the app on the test store, stored rows."""

from __future__ import annotations

import functools
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import select

from dbsnooze.api.app import create_app
from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator, make_client
from dbsnooze.demo.fleet import StatSet, put_hourly_stats
from dbsnooze.discovery import discover
from dbsnooze.domain import AuthMethod, Credentials, DiscoveredInstance, Provider, Unit
from dbsnooze.metrics import DIMENSION, METRICS, NAMESPACE, STATISTICS
from dbsnooze.providers.aws.session import ClientCache
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import EmptyHourRow, InstanceRow, JobRow, SampleRow

HOUR = timedelta(hours=1)
NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)  # 23 minutes past: 13:00-14:00 is final
REGION = "us-east-1"
ALL_METRICS = tuple(METRICS)
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

Values = tuple[float, float, float, float]  # average, maximum, minimum, sample count
T = TypeVar("T")


class Clock:
    """The injected clock: fixed until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def hours(start: datetime, count: int) -> list[datetime]:
    return [start + i * HOUR for i in range(count)]


def window(now: datetime, days: int) -> list[datetime]:
    """The days*24 final hours before the current hour, as SPEC §3 defines them."""
    end = (now - timedelta(minutes=10)).replace(minute=0, second=0, microsecond=0)
    return hours(end - days * 24 * HOUR, days * 24)


# --- what the cloud holds ---------------------------------------------------------------------


def stat_set(identifier: str, metric: str, hour: datetime) -> StatSet:
    """Distinct, not exactly representable statistics for every (instance, metric, hour)."""
    seed = zlib.crc32(f"{identifier}|{metric}|{hour:%Y%m%d%H}".encode())
    count = float(30 + seed % 31)
    average = 0.1 + (seed % 9973) / 7.0
    return StatSet(count, average * count, average - (seed % 11) / 3.0, average + (seed % 13) / 9.0)


def values(stats: StatSet) -> Values:
    """What CloudWatch reports for one stat set: average is sum / sample count."""
    return (stats.sum / stats.sample_count, stats.maximum, stats.minimum, stats.sample_count)


@functools.cache
def _client(endpoint_url: str, service: str, region: str) -> Any:
    return make_client(endpoint_url, service, region)


def client(moto: Emulator, service: str, region: str = REGION) -> Any:
    """A client straight to moto (not through any proxy), made once per test session."""
    return _client(moto.endpoint_url, service, region)


def put(
    moto: Emulator,
    identifier: str,
    at: Iterable[datetime],
    metrics: Iterable[str] = ALL_METRICS,
    region: str = REGION,
    offset: timedelta = timedelta(0),
    seed: str = "",
) -> dict[tuple[str, datetime], StatSet]:
    """Stat sets for these hours, timestamped `offset` after each hour; keyed (metric, hour).

    Another `seed` gives other numbers for the same hours (more data for an hour).
    """
    cloudwatch = client(moto, "cloudwatch", region)
    written: dict[tuple[str, datetime], StatSet] = {}
    wanted = list(at)
    for metric in metrics:
        spec = METRICS[metric]
        series = {hour + offset: stat_set(identifier + seed, metric, hour) for hour in wanted}
        put_hourly_stats(cloudwatch, identifier, spec.cloudwatch_name, spec.unit, series)
        written.update({(metric, hour): series[hour + offset] for hour in wanted})
    return written


def truth(
    moto: Emulator, identifier: str, metric: str, hour: datetime, region: str = REGION
) -> Values | None:
    """CloudWatch's own statistics for one clock hour, asked for that hour alone."""
    answer = client(moto, "cloudwatch", region).get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=METRICS[metric].cloudwatch_name,
        Dimensions=[{"Name": DIMENSION, "Value": identifier}],
        StartTime=hour,
        EndTime=hour + HOUR,
        Period=3600,
        Statistics=list(STATISTICS),
    )
    points = answer["Datapoints"]
    if not points:
        return None
    (point,) = points
    return (point["Average"], point["Maximum"], point["Minimum"], point["SampleCount"])


def create_db(
    moto: Emulator,
    name: str,
    region: str = REGION,
    engine: str = "postgres",
    instance_class: str = "db.t3.micro",
) -> None:
    client(moto, "rds", region).create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass=instance_class,
        Engine=engine,
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="password123",
    )


# --- the app and the store --------------------------------------------------------------------


def prepare(ctx: Context, now: datetime = NOW, **settings: Any) -> Clock:
    """Settings for these tests (no auto-backfill unless asked) and a fixed clock."""
    ctx.settings = ctx.settings.model_copy(update={"auto_backfill": False, **settings})
    ctx.clients = ClientCache(ctx.settings)  # retries and timeouts as these settings say
    clock = Clock(now)
    ctx.clock = clock
    return clock


@contextmanager
def app(ctx: Context, now: datetime = NOW, **settings: Any) -> Iterator[TestClient]:
    """The API (and its worker, unless run_worker=False) on the test store."""
    prepare(ctx, now, **settings)
    with TestClient(create_app(ctx.settings, ctx), raise_server_exceptions=False) as api:
        yield api


def connect(ctx: Context, endpoint_url: str, regions: Iterable[str] = (REGION,)) -> dict[str, int]:
    """An account on `endpoint_url` (stored directly: credential tests live elsewhere), then
    discovery; the instance ids by name."""
    with transaction(ctx.sessions) as session:
        account_store.add(session, ctx.box, _new_account(endpoint_url, regions), ctx.clock())
    report = discover(ctx, "test")
    assert report.totals()["errors"] == [], report.totals()
    with ctx.sessions() as session:
        return {row.provider_id: row.id for row in session.scalars(select(InstanceRow))}


def register(
    ctx: Context,
    endpoint_url: str,
    names: Iterable[str],
    region: str = REGION,
    **described: Any,
) -> dict[str, int]:
    """Instances stored as discovery stores them, without asking the emulator's RDS (which is
    slow to create instances); then the ids of every instance by name.

    `described` overrides what DescribeDBInstances would have said (engine, status, ...).
    """
    with transaction(ctx.sessions) as session:
        account = account_store.by_name(session, "main")
        if account is None:
            account = account_store.add(session, ctx.box, _new_account(endpoint_url), ctx.clock())
        found = [_described(name, region, described) for name in names]
        key = (account.id, "aws")
        known = session.scalars(
            select(InstanceRow).where(
                InstanceRow.account_id == account.id, InstanceRow.region == region
            )
        )
        keep = [_described(row.provider_id, region, _as_described(row)) for row in known]
        instance_store.sync_region(session, key, region, [*keep, *found], ctx.clock())
        return {row.provider_id: row.id for row in session.scalars(select(InstanceRow))}


def _described(name: str, region: str, overrides: dict[str, Any]) -> DiscoveredInstance:
    fields: dict[str, Any] = {
        "engine": "postgres",
        "engine_version": "16.3",
        "instance_class": "db.t3.micro",
        "status": "available",
        "tags": {},
        "created_at": None,
    }
    fields.update(overrides)
    return DiscoveredInstance(provider_id=name, region=region, **fields)


def _as_described(row: InstanceRow) -> dict[str, Any]:
    return {
        "engine": row.engine,
        "engine_version": row.engine_version,
        "instance_class": row.instance_class,
        "status": row.status,
        "tags": row.tags,
        "created_at": row.cloud_created_at,
        "multi_az": row.multi_az,
        "cluster_id": row.cluster_id,
        "unit": Unit(row.unit),
        "members": tuple(row.members or ()),
        "engine_mode": row.engine_mode,
        "global_cluster": row.global_cluster,
    }


def _new_account(endpoint_url: str, regions: Iterable[str] = (REGION,)) -> NewAccount:
    keys = Credentials(AuthMethod.STATIC_KEYS, access_key_id=KEY_ID, secret_access_key=SECRET)
    return NewAccount(Provider.AWS, "main", tuple(regions), keys, endpoint_url, None)


def until(condition: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Poll until the condition holds and return its value: a bounded wait, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return found


def finished(api: TestClient, job_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """The job as the API shows it once it has ended."""

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = api.get(f"/api/v1/jobs/{job_id}").json()
        return job if job["finished_at"] is not None else None

    return until(ended, f"job {job_id} to end", timeout)


def backfill(api: TestClient, instance_id: int, **params: Any) -> dict[str, Any]:
    """The seed's backfill of one instance with `wait=true`, once it has ended."""
    answer = api.post(
        f"/api/v1/instances/{instance_id}/metrics/backfill", params={"wait": "true", **params}
    )
    assert answer.status_code == 200, answer.text
    job: dict[str, Any] = answer.json()
    return job


def stored(ctx: Context, instance_id: int) -> dict[tuple[str, datetime], tuple[Any, ...]]:
    """(metric, hour) -> (average, maximum, minimum, sample count, source) as stored."""
    with ctx.sessions() as session:
        rows = session.scalars(select(SampleRow).where(SampleRow.instance_id == instance_id))
        return {
            (r.metric, r.hour): (r.average, r.maximum, r.minimum, r.sample_count, r.source)
            for r in rows
        }


def marked_empty(ctx: Context, instance_id: int) -> set[tuple[str, datetime]]:
    with ctx.sessions() as session:
        rows = session.scalars(select(EmptyHourRow).where(EmptyHourRow.instance_id == instance_id))
        return {(r.metric, r.hour) for r in rows}


def job_row(ctx: Context, job_id: int) -> JobRow:
    with ctx.sessions() as session:
        job = session.get(JobRow, job_id)
        assert job is not None
        return job


def cloudwatch_name(metric: str) -> str:
    return METRICS[metric].cloudwatch_name
