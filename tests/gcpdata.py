"""Cloud SQL minute data the tests put in the fake, and the hourly statistics Google documents
for it: what every stored GCP hour is checked against."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from dbsnooze.context import Context
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.discovery import discover
from dbsnooze.domain import AuthMethod, Credentials, HourlyStat, Provider
from dbsnooze.providers.gcp.metrics import CLOUDSQL
from dbsnooze.store import accounts as account_store
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow
from gcphelp import PROJECT, in_hour, minute_points

Raw = dict[datetime, float]
GCP_METRICS = ("cpu", "connections", "memory_used_percent", "read_iops", "write_iops")


@dataclass(frozen=True)
class Held:
    """What the fake holds for one instance: raw minute points per metric."""

    cpu: Raw
    memory: Raw
    reads: Raw
    writes: Raw
    connections: Raw = field(default_factory=dict)  # MySQL
    backends: dict[str, Raw] = field(default_factory=dict)  # PostgreSQL, per database


def seed_instance(
    fake: GcpFake,
    project: str,
    name: str,
    start: datetime,
    hours: int,
    seed: int,
    databases: tuple[str, ...] = (),
    skip: Callable[[datetime], bool] = lambda _: False,
) -> Held:
    """Minute points of every metric over `hours` from `start`; PostgreSQL (given databases)
    reports connections per database, MySQL per instance."""

    def put(metric: str, value: Callable[[random.Random], float], n: int, **labels: str) -> Raw:
        points = minute_points(start, hours, value, seed + n, skip)
        fake.instance_series(project, name, CLOUDSQL + metric, labels).add(points)
        return points

    cpu = put("cpu/utilization", lambda r: r.random(), 1)
    memory = put("memory/utilization", lambda r: r.uniform(0.2, 0.9), 2)
    reads = put("disk/read_ops_count", lambda r: r.randint(0, 5000), 3)
    writes = put("disk/write_ops_count", lambda r: r.randint(0, 900), 4)
    if not databases:
        connections = put("network/connections", lambda r: r.randint(0, 40), 9)
        return Held(cpu, memory, reads, writes, connections=connections)
    backends = {
        db: put("postgresql/num_backends", lambda r: r.randint(0, 30), 5 + i, database=db)
        for i, db in enumerate(databases)
    }
    return Held(cpu, memory, reads, writes, backends=backends)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _gauge(
    instance_id: int, metric: str, points: Raw, hours: Iterable[datetime], scale: float = 1.0
) -> list[HourlyStat]:
    """Documented alignment of a GAUGE: mean, max, min and count of the hour's points."""
    expected = []
    for hour in hours:
        values = in_hour(points, hour)
        if values:
            expected.append(
                HourlyStat(
                    instance_id,
                    metric,
                    hour,
                    _mean(values) * scale,
                    max(values) * scale,
                    min(values) * scale,
                    len(values),
                )
            )
    return expected


def _rate(
    instance_id: int, metric: str, points: Raw, hours: Iterable[datetime]
) -> list[HourlyStat]:
    """DELTA counts: ALIGN_RATE = the hour's count / 3600 s; busiest minute = max count / 60."""
    expected = []
    for hour in hours:
        values = in_hour(points, hour)
        if values:
            per_second = 1.0 / 60
            expected.append(
                HourlyStat(
                    instance_id,
                    metric,
                    hour,
                    sum(values) / 3600,
                    max(values) * per_second,
                    min(values) * per_second,
                    len(values),
                )
            )
    return expected


def _summed(
    instance_id: int, databases: Mapping[str, Raw], hours: Iterable[datetime]
) -> list[HourlyStat]:
    """num_backends per database, summed per instance (REDUCE_SUM; count: REDUCE_MAX)."""
    expected = []
    for hour in hours:
        per_db = [in_hour(points, hour) for points in databases.values()]
        per_db = [values for values in per_db if values]
        if per_db:
            expected.append(
                HourlyStat(
                    instance_id,
                    "connections",
                    hour,
                    sum(_mean(values) for values in per_db),
                    sum(max(values) for values in per_db),
                    sum(min(values) for values in per_db),
                    max(len(values) for values in per_db),
                )
            )
    return expected


def expected(held: Mapping[int, Held], metric: str, hours: Iterable[datetime]) -> list[HourlyStat]:
    """Per instance id: the hourly statistics Google's documentation gives for its points."""
    wanted = list(hours)
    found: list[HourlyStat] = []
    for instance_id, data in held.items():
        if metric == "cpu":
            found += _gauge(instance_id, metric, data.cpu, wanted, 100.0)
        elif metric == "memory_used_percent":
            found += _gauge(instance_id, metric, data.memory, wanted, 100.0)
        elif metric == "read_iops":
            found += _rate(instance_id, metric, data.reads, wanted)
        elif metric == "write_iops":
            found += _rate(instance_id, metric, data.writes, wanted)
        elif data.backends:
            found += _summed(instance_id, data.backends, wanted)
        else:
            found += _gauge(instance_id, metric, data.connections, wanted)
    return sorted(found, key=lambda s: (s.instance_id, s.hour))


def connect(
    ctx: Context, fake: GcpFake, key: ServiceAccountKey, projects: tuple[str, ...] = (PROJECT,)
) -> dict[str, int]:
    """A GCP account on the fake (stored directly: credential tests live elsewhere), then
    discovery; the instance ids by provider id."""
    credentials = Credentials(
        AuthMethod.GCP_SERVICE_ACCOUNT, service_account_json=json.dumps(key.info)
    )
    new = NewAccount(Provider.GCP, "gcp", (), credentials, fake.url, None, projects=projects)
    with transaction(ctx.sessions) as session:
        account_store.add(session, ctx.box, new, ctx.clock())
    report = discover(ctx, "test")
    assert report.totals()["errors"] == [], report.totals()
    with ctx.sessions() as session:
        return {row.provider_id: row.id for row in session.scalars(select(InstanceRow))}
