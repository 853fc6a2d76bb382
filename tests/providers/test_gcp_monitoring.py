"""Hourly history through the real client over HTTP against the fake: every value exact."""

from __future__ import annotations

import math
from collections.abc import Mapping
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
from gcpdata import Held, expected, seed_instance
from gcphelp import HOUR, PROJECT, account, client, fake, gcp_env, key

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


def _gap(moment: datetime) -> bool:
    """pg-b published nothing for five hours, and a few scattered minutes."""
    return START + 10 * HOUR < moment <= START + 15 * HOUR or moment.minute in (7, 33)


def _targets() -> tuple[Target, ...]:
    return tuple(
        Target(instance_id, 1, region, f"{PROJECT}:{name}", "db-custom-2-7680", True)
        for name, (_, region, instance_id) in INSTANCES.items()
    )


def _seed(fake: GcpFake) -> dict[str, Held]:
    """Instances and 50 hours of minute data; returns what the fake holds, for the checks."""
    held: dict[str, Held] = {}
    for seed, (name, (version, region, _)) in enumerate(INSTANCES.items()):
        fake.sql.add_instance(
            PROJECT, name, database_version=version, region=region, tier="db-custom-2-7680"
        )
        if name != "idle-d":
            skip = _gap if name == "pg-b" else (lambda _: False)
            databases = DATABASES.get(name, ())
            held[name] = seed_instance(fake, PROJECT, name, START, 50, seed * 10, databases, skip)
    return held


def _expected(held: Mapping[str, Held], metric: str) -> list[HourlyStat]:
    by_id = {INSTANCES[name][2]: data for name, data in held.items()}
    return expected(by_id, metric, SPAN)


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
