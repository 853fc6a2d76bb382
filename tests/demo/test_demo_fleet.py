from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dbsnooze.demo.emulator import Emulator, make_client
from dbsnooze.demo.fleet import (
    DIMENSION,
    HOUR,
    METRICS,
    NAMESPACE,
    PROFILES,
    Fleet,
    StatSet,
    build_fleet,
    put_hourly_stats,
    seed,
)

NOW = datetime(2024, 6, 16, 2, 30, tzinfo=UTC)  # a Sunday: 2 days back covers Friday and Saturday
FRIDAY = datetime(2024, 6, 14, tzinfo=UTC)
SATURDAY = FRIDAY + timedelta(days=1)
ALL_STATISTICS = ["SampleCount", "Sum", "Minimum", "Maximum", "Average"]
REGIONS = {"us-east-1", "eu-west-1"}  # spelled out: the test checks the fleet's own list


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def fleet(emulator: Emulator) -> Fleet:
    # moto's state is process-wide: forget what other test modules left behind.
    emulator.reset()
    return seed(emulator.endpoint_url, NOW, days=2)


@pytest.fixture(scope="module")
def month() -> Fleet:
    return build_fleet(NOW, days=30)


def _stored(emulator: Emulator, region: str, identifier: str, metric: str, hour: datetime) -> Any:
    # moto's buckets start at the first datapoint, so ask for exactly one clock hour.
    answer = emulator.client("cloudwatch", region).get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=metric,
        Dimensions=[{"Name": DIMENSION, "Value": identifier}],
        StartTime=hour,
        EndTime=hour + HOUR,
        Period=3600,
        Statistics=ALL_STATISTICS,
    )
    return answer["Datapoints"]


def _as_stat_set(point: Any) -> StatSet:
    return StatSet(point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"])


def _described(emulator: Emulator) -> dict[str, Any]:
    return {
        row["DBInstanceIdentifier"]: (region, row)
        for region in REGIONS
        for row in emulator.client("rds", region).describe_db_instances()["DBInstances"]
    }


def test_the_fleet_spans_two_regions_and_all_five_profiles(
    emulator: Emulator, fleet: Fleet
) -> None:
    described = _described(emulator)
    assert len(described) >= 10
    assert {region for region, _ in described.values()} == REGIONS == set(fleet.regions)
    assert {i.profile for i in fleet.instances} == set(PROFILES)
    for instance in fleet.instances:
        region, row = described[instance.identifier]
        assert region == instance.region
        assert (row["Engine"], row["EngineVersion"]) == (instance.engine, instance.engine_version)
        assert row["DBInstanceClass"] == instance.instance_class
        assert {t["Key"]: t["Value"] for t in row["TagList"]} == dict(instance.tags)
        assert set(instance.tags) == {"env", "team", "owner"}


def test_exactly_one_instance_is_stopped(emulator: Emulator, fleet: Fleet) -> None:
    statuses = {name: row["DBInstanceStatus"] for name, (_, row) in _described(emulator).items()}
    stopped = [i.identifier for i in fleet.instances if i.stopped]
    assert len(stopped) == 1
    assert {name for name, status in statuses.items() if status == "stopped"} == set(stopped)
    assert set(statuses.values()) == {"available", "stopped"}


def test_one_instance_reads_back_exactly_every_hour(emulator: Emulator, fleet: Fleet) -> None:
    instance = fleet.instance("orders-prod")
    hours = list(fleet.hours())
    assert len(hours) == 48
    checks = [("CPUUtilization", hours)] + [(shape.name, hours[::6]) for shape in METRICS[1:]]
    units = {shape.name: shape.unit for shape in METRICS}
    for metric, sample in checks:
        for hour in sample:
            [point] = _stored(emulator, instance.region, instance.identifier, metric, hour)
            expected = fleet.datum(instance.identifier, metric, hour)
            assert point["Timestamp"] == hour
            assert point["Unit"] == units[metric]
            assert _as_stat_set(point) == expected
            assert expected is not None and point["Average"] == expected.average


def test_every_lit_instance_reads_back_exactly_for_one_hour(
    emulator: Emulator, fleet: Fleet
) -> None:
    hour = fleet.end - HOUR
    for instance in fleet.instances:
        expected = fleet.datum(instance.identifier, "CPUUtilization", hour)
        points = _stored(emulator, instance.region, instance.identifier, "CPUUtilization", hour)
        assert [_as_stat_set(p) for p in points] == ([expected] if expected else [])


def test_the_stopped_instance_has_no_recent_datapoints(emulator: Emulator, fleet: Fleet) -> None:
    [stopped] = [i for i in fleet.instances if i.stopped]
    assert all(fleet.datum(stopped.identifier, "CPUUtilization", h) is None for h in fleet.hours())
    answer = emulator.client("cloudwatch", stopped.region).get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="CPUUtilization",
        Dimensions=[{"Name": DIMENSION, "Value": stopped.identifier}],
        StartTime=fleet.start,
        EndTime=fleet.end,
        Period=3600,
        Statistics=ALL_STATISTICS,
    )
    assert answer["Datapoints"] == []


def test_a_developer_database_sleeps_at_night_and_on_saturday(
    emulator: Emulator, fleet: Fleet
) -> None:
    dev = fleet.instance("dev-alice-pg")

    def cpu(hour: datetime) -> float:
        [point] = _stored(emulator, dev.region, dev.identifier, "CPUUtilization", hour)
        return float(point["Average"])

    assert cpu(FRIDAY.replace(hour=3)) < 5.0
    assert cpu(FRIDAY.replace(hour=14)) > 15.0
    assert all(cpu(SATURDAY + h * HOUR) < 5.0 for h in range(24))


def _averages(month: Fleet, profile: str, metric: str, hours: range, weekend: bool) -> list[float]:
    return [
        s.average
        for i in month.instances
        if i.profile == profile
        for h in month.hours()
        if h.hour in hours and (h.weekday() >= 5) == weekend
        if (s := month.datum(i.identifier, metric, h)) is not None
    ]


NIGHT, AFTERNOON, DAY = range(0, 7), range(10, 17), range(24)
BEHAVIOUR = [
    # profile, metric, hours, weekend, lowest average, highest average
    ("development", "CPUUtilization", NIGHT, False, 0.5, 3.5),
    ("development", "DatabaseConnections", NIGHT, False, 0.0, 1.0),
    ("development", "CPUUtilization", DAY, True, 0.5, 3.5),
    ("development", "CPUUtilization", AFTERNOON, False, 5.0, 100.0),
    ("staging", "CPUUtilization", AFTERNOON, False, 5.0, 100.0),
    ("staging", "CPUUtilization", DAY, True, 0.5, 5.0),
    ("abandoned", "CPUUtilization", DAY, False, 0.5, 1.6),
    ("abandoned", "CPUUtilization", DAY, True, 0.5, 1.6),
    ("abandoned", "DatabaseConnections", DAY, False, 0.0, 0.0),
    ("production", "CPUUtilization", DAY, False, 5.0, 100.0),
    ("production", "CPUUtilization", DAY, True, 5.0, 100.0),
    ("production", "DatabaseConnections", DAY, True, 3.0, 1000.0),
]


@pytest.mark.parametrize(("profile", "metric", "hours", "weekend", "low", "high"), BEHAVIOUR)
def test_profiles_behave_over_a_month(
    month: Fleet, profile: str, metric: str, hours: range, weekend: bool, low: float, high: float
) -> None:
    averages = _averages(month, profile, metric, hours, weekend)
    assert averages
    assert low <= min(averages) and max(averages) <= high


def test_every_stat_set_is_consistent_and_rounded(month: Fleet) -> None:
    digits = {shape.name: shape.digits for shape in METRICS}
    for (_, metric), series in month.series.items():
        for stats in series.values():
            assert stats.sample_count == 60
            assert 0 <= stats.minimum <= stats.average <= stats.maximum
            assert round(stats.sum, digits[metric]) == stats.sum


def test_free_memory_stays_within_the_instance_class_ram(month: Fleet) -> None:
    for instance in month.instances:
        series = month.series[(instance.identifier, "FreeableMemory")]
        assert all(0 < s.maximum < instance.ram_bytes for s in series.values())


def test_the_stopped_instance_went_dark_three_days_ago(month: Fleet) -> None:
    [stopped] = [i for i in month.instances if i.stopped]
    lit = sorted(month.series[(stopped.identifier, "CPUUtilization")])
    assert lit[0] == month.start
    assert lit[-1] == month.end - timedelta(days=3) - HOUR


def test_an_hour_has_the_same_numbers_whatever_the_window(fleet: Fleet, month: Fleet) -> None:
    assert build_fleet(NOW, days=2) == fleet
    hour = fleet.end - HOUR
    for instance in fleet.instances:
        key = (instance.identifier, "WriteIOPS")
        assert fleet.series[key].get(hour) == month.series[key].get(hour)


def test_the_window_is_the_whole_hours_before_now(fleet: Fleet) -> None:
    assert fleet.end == datetime(2024, 6, 16, 2, tzinfo=UTC)
    assert fleet.start == datetime(2024, 6, 14, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_fleet(datetime(2024, 6, 16, 2), days=1)


class _RecordingCloudWatch:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def put_metric_data(self, **request: Any) -> None:
        self.calls.append(request)


def test_put_hourly_stats_sends_sorted_chunks_of_at_most_1000() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    stats = {start + n * HOUR: StatSet(60.0, 60.0 * n, n - 0.5, n + 0.5) for n in range(1500)}
    cloudwatch = _RecordingCloudWatch()
    put_hourly_stats(cloudwatch, "db-1", "CPUUtilization", "Percent", dict(reversed(stats.items())))
    assert [len(c["MetricData"]) for c in cloudwatch.calls] == [1000, 500]
    first = cloudwatch.calls[0]["MetricData"][0]
    assert cloudwatch.calls[0]["Namespace"] == NAMESPACE
    assert first["Timestamp"] == start
    assert first["Dimensions"] == [{"Name": DIMENSION, "Value": "db-1"}]
    assert first["StatisticValues"] == {"SampleCount": 60.0, "Sum": 0.0, "Minimum": -0.5,
                                        "Maximum": 0.5}  # fmt: skip


def test_clients_ignore_the_users_aws_settings(
    emulator: Emulator, fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = nowhere-1\nmax_attempts = nonsense\n")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "real-looking-key")
    rds = make_client(emulator.endpoint_url, "rds", "eu-west-1")
    assert rds.describe_db_instances()["DBInstances"]


def test_stop_closes_the_port() -> None:
    emulator = Emulator()
    url = emulator.start()
    port = int(url.rsplit(":", 1)[1])
    assert url == f"http://127.0.0.1:{port}" and emulator.running
    emulator.stop()
    assert not emulator.running
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass
    with pytest.raises(RuntimeError):
        emulator.client("rds", "us-east-1")


def test_a_taken_port_fails_fast_instead_of_hanging() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            Emulator(port=taken.getsockname()[1]).start()


def test_reset_forgets_everything_and_a_reseed_restores_it(
    emulator: Emulator, fleet: Fleet
) -> None:
    emulator.reset()
    assert _described(emulator) == {}
    assert emulator.client("cloudwatch", "us-east-1").list_metrics()["Metrics"] == []
    assert seed(emulator.endpoint_url, NOW, days=2) == fleet
    assert len(_described(emulator)) == len(fleet.instances)
