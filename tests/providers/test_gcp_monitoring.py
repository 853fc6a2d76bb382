"""Hourly history through the real client over HTTP against the fake: every value exact."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.domain import HourlyStat, HourRange, Target
from dbsnooze.providers.gcp.metrics import CLOUDSQL
from dbsnooze.providers.gcp.monitoring import (
    HistoryCall,
    MonitoringSource,
    project_of,
    requests_per_call,
    targets_by_project,
)
from gcphelp import HOUR, PROJECT, account, client, fake, gcp_env, in_hour, key, minute_points

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name

START = datetime(2026, 11, 16, tzinfo=UTC)
SPAN = HourRange(START + HOUR, START + 49 * HOUR)  # 48 hours; data reaches one hour further
PAGE = 29  # points per page: every query needs several pages, series split across them
INSTANCES = {  # name -> (database version, region, instance id in the store)
    "pg-a": ("POSTGRES_15", "us-central1", 11),
    "pg-b": ("POSTGRES_14", "europe-west1", 12),
    "my-c": ("MYSQL_8_0", "us-central1", 13),
    "idle-d": ("MYSQL_8_0", "europe-west1", 14),  # no metric data at all
}
DATABASES = {"pg-a": ("postgres", "app", "reports"), "pg-b": ("postgres", "app")}
Raw = dict[datetime, float]


def _gap(moment: datetime) -> bool:
    """pg-b published nothing for five hours, and a few scattered minutes."""
    return START + 10 * HOUR < moment <= START + 15 * HOUR or moment.minute in (7, 33)


def _targets() -> tuple[Target, ...]:
    return tuple(
        Target(instance_id, 1, region, f"{PROJECT}:{name}", "db-custom-2-7680", True)
        for name, (_, region, instance_id) in INSTANCES.items()
    )


@dataclass(frozen=True)
class Held:
    """What the fake holds for one instance: raw minute points per metric."""

    cpu: Raw
    memory: Raw
    reads: Raw
    writes: Raw
    connections: Raw = field(default_factory=dict)  # MySQL
    backends: dict[str, Raw] = field(default_factory=dict)  # PostgreSQL, per database


def _seed(fake: GcpFake) -> dict[str, Held]:
    """Instances and 50 hours of minute data; returns what the fake holds, for the checks."""
    held: dict[str, Held] = {}
    for seed, (name, (version, region, _)) in enumerate(INSTANCES.items()):
        fake.sql.add_instance(
            PROJECT, name, database_version=version, region=region, tier="db-custom-2-7680"
        )
        if name != "idle-d":
            skip = _gap if name == "pg-b" else (lambda _: False)
            held[name] = _seed_instance(fake, name, seed * 10, skip)
    return held


def _seed_instance(fake: GcpFake, name: str, seed: int, skip: Callable[[datetime], bool]) -> Held:
    def put(metric: str, value: Callable[[random.Random], float], n: int, **labels: str) -> Raw:
        points = minute_points(START, 50, value, seed + n, skip)
        fake.instance_series(PROJECT, name, CLOUDSQL + metric, labels).add(points)
        return points

    cpu = put("cpu/utilization", lambda r: r.random(), 1)
    memory = put("memory/utilization", lambda r: r.uniform(0.2, 0.9), 2)
    reads = put("disk/read_ops_count", lambda r: r.randint(0, 5000), 3)
    writes = put("disk/write_ops_count", lambda r: r.randint(0, 900), 4)
    if name not in DATABASES:
        connections = put("network/connections", lambda r: r.randint(0, 40), 9)
        return Held(cpu, memory, reads, writes, connections=connections)
    backends = {
        db: put("postgresql/num_backends", lambda r: r.randint(0, 30), 5 + i, database=db)
        for i, db in enumerate(DATABASES[name])
    }
    return Held(cpu, memory, reads, writes, backends=backends)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _gauge(instance_id: int, metric: str, points: Raw, scale: float = 1.0) -> list[HourlyStat]:
    """Documented alignment of a GAUGE: mean, max, min and count of the hour's points."""
    expected = []
    for hour in SPAN:
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


def _rate(instance_id: int, metric: str, points: Raw) -> list[HourlyStat]:
    """DELTA counts: ALIGN_RATE = the hour's count / 3600 s; busiest minute = max count / 60."""
    expected = []
    for hour in SPAN:
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


def _summed(instance_id: int, databases: Mapping[str, Raw]) -> list[HourlyStat]:
    """num_backends per database, summed per instance (REDUCE_SUM; count: REDUCE_MAX)."""
    expected = []
    for hour in SPAN:
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


def _expected(held: Mapping[str, Held], metric: str) -> list[HourlyStat]:
    expected: list[HourlyStat] = []
    for name, data in held.items():
        instance_id = INSTANCES[name][2]
        if metric == "cpu":
            expected += _gauge(instance_id, metric, data.cpu, 100.0)
        elif metric == "memory_used_percent":
            expected += _gauge(instance_id, metric, data.memory, 100.0)
        elif metric == "read_iops":
            expected += _rate(instance_id, metric, data.reads)
        elif metric == "write_iops":
            expected += _rate(instance_id, metric, data.writes)
        elif data.backends:
            expected += _summed(instance_id, data.backends)
        else:
            expected += _gauge(instance_id, metric, data.connections)
    return sorted(expected, key=lambda s: (s.instance_id, s.hour))


@pytest.mark.parametrize(
    "metric", ["cpu", "memory_used_percent", "connections", "read_iops", "write_iops"]
)
def test_every_hour_matches_the_raw_minutes_the_fake_holds(
    fake: GcpFake, key: ServiceAccountKey, metric: str
) -> None:
    held = _seed(fake)
    source = MonitoringSource(client(account(fake.url, key)), page_size=PAGE)

    stats = source.fetch(HistoryCall(PROJECT, metric, SPAN, _targets()))

    expected = _expected(held, metric)
    assert sorted(stats, key=lambda s: (s.instance_id, s.hour)) == expected
    assert {s.instance_id for s in stats} == {11, 12, 13}  # idle-d has no data: no hours
    assert len(expected) > 3 * 40  # pg-b's five silent hours are simply absent
    assert all(s.hour in SPAN for s in stats)


@pytest.mark.parametrize("metric", ["cpu", "connections", "read_iops"])
def test_one_request_per_statistic_covers_every_instance_and_pages(
    fake: GcpFake, key: ServiceAccountKey, metric: str
) -> None:
    held = _seed(fake)
    gcp = client(account(fake.url, key))
    source = MonitoringSource(gcp, page_size=PAGE)

    source.fetch(HistoryCall(PROJECT, metric, SPAN, _targets()))

    requests = fake.faults.served("/timeSeries")
    assert source.api_calls == gcp.api_calls == len(requests)
    by_query: dict[tuple[str, str], int] = {}
    for request in requests:
        query = request.query
        assert request.path == f"/v3/projects/{PROJECT}/timeSeries"
        assert "database_id" not in query["filter"][0]  # one request covers every instance
        assert query["interval.startTime"] == ["2026-11-16T01:00:00Z"]
        assert query["interval.endTime"] == ["2026-11-18T01:00:00Z"]
        assert query["aggregation.alignmentPeriod"] == ["3600s"]
        key_ = (query["filter"][0], query["aggregation.perSeriesAligner"][0])
        by_query[key_] = by_query.get(key_, 0) + 1
    assert len(by_query) == requests_per_call(metric)
    expected = _expected(held, metric)
    for (query_filter, _), pages in by_query.items():  # every point, 29 a page
        postgres = "num_backends" in query_filter
        points = [s for s in expected if (s.instance_id in (11, 12)) == postgres]
        if metric != "connections":
            points = expected
        assert pages == math.ceil(len(points) / PAGE)
    assert len(requests) >= 2 * len(by_query)  # paging happened


def test_a_later_source_is_asked_only_when_instances_are_left_without_data(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _seed(fake)
    source = MonitoringSource(client(account(fake.url, key)), page_size=PAGE)
    mysql_only = tuple(t for t in _targets() if t.provider_id.endswith("my-c"))

    stats = source.fetch(HistoryCall(PROJECT, "connections", SPAN, mysql_only))

    assert {s.instance_id for s in stats} == {13}
    filters = {r.query["filter"][0] for r in fake.faults.served("/timeSeries")}
    assert filters == {
        f'metric.type = "{CLOUDSQL}network/connections" AND resource.type = "cloudsql_database"'
    }


def test_postgres_connections_are_summed_over_databases_by_instance(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _seed(fake)
    source = MonitoringSource(client(account(fake.url, key)), page_size=PAGE)

    source.fetch(HistoryCall(PROJECT, "connections", SPAN, _targets()))

    reduced = [
        r.query for r in fake.faults.served("/timeSeries") if "num_backends" in r.query["filter"][0]
    ]
    assert {
        q["aggregation.perSeriesAligner"][0]: q["aggregation.crossSeriesReducer"][0]
        for q in reduced
    } == {
        "ALIGN_MEAN": "REDUCE_SUM",
        "ALIGN_MAX": "REDUCE_SUM",
        "ALIGN_MIN": "REDUCE_SUM",
        "ALIGN_COUNT": "REDUCE_MAX",
    }
    assert {q["aggregation.groupByFields"][0] for q in reduced} == {"resource.label.database_id"}


def test_an_empty_window_or_no_targets_makes_no_request(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    source = MonitoringSource(client(account(fake.url, key)))

    assert source.fetch(HistoryCall(PROJECT, "cpu", HourRange(START, START), _targets())) == []
    assert source.fetch(HistoryCall(PROJECT, "cpu", SPAN, ())) == []
    assert fake.faults.requests() == []


def test_targets_are_grouped_by_the_project_in_their_id() -> None:
    targets = (*_targets(), Target(20, 1, "us-east1", "other:db", "db-f1-micro", True))

    grouped = targets_by_project(targets)

    assert sorted(grouped) == ["other", PROJECT]
    assert [t.instance_id for t in grouped[PROJECT]] == [11, 12, 13, 14]
    with pytest.raises(Exception, match="project:instance"):
        project_of("no-project-here")
