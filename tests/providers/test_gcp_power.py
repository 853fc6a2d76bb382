"""Cloud SQL power through the real client code against the loopback fake over HTTP: states
read with one list per project, stop and start by the activation policy with the operation
followed, and the last minutes' activity for the stop guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dbsnooze.config import Settings
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.domain import Power, PowerUnit, ProviderError
from dbsnooze.providers.gcp.metrics import CLOUDSQL
from dbsnooze.providers.gcp.power import PollPolicy, read_power, recent_activity, set_power
from dbsnooze.providers.gcp.provider import GcpProvider
from gcphelp import (
    PROJECT,
    Sleeps,
    account,
    add_instances,
    client,
    fake,
    fast_sessions,
    gcp_env,
    key,
    minute_points,
)

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
POLL = PollPolicy(interval_seconds=2.0, max_polls=5)
PG, MYSQL = ("POSTGRES_16", "europe-west1"), ("MYSQL_8_0", "europe-west1")


def unit(name: str, project: str = PROJECT) -> PowerUnit:
    return PowerUnit(project, f"{project}:{name}")


@pytest.fixture
def fleet(fake: GcpFake) -> GcpFake:
    add_instances(fake, PROJECT, {"api": PG, "shop": MYSQL})
    add_instances(fake, PROJECT, {"night": PG}, activation_policy="NEVER")
    fake.sql.add_instance(
        PROJECT, "api-replica", database_version="POSTGRES_16", region="europe-west1",
        tier="db-custom-2-7680", master="api",
    )  # fmt: skip
    add_instances(fake, PROJECT, {"busy": PG, "held": MYSQL})
    fake.sql.set_state(PROJECT, "busy", "MAINTENANCE")
    fake.sql.set_state(PROJECT, "held", "SUSPENDED")
    return fake


def test_states_come_from_one_paged_list_per_project(
    fleet: GcpFake, key: ServiceAccountKey
) -> None:
    fleet.sql.page_cap = 2  # three pages
    gcp = client(account(fleet.url, key))
    names = ("api", "night", "api-replica", "busy", "held", "dropped")

    found = read_power(gcp, PROJECT, [unit(n) for n in names])

    assert {u.provider_id.split(":")[1]: (r.state, r.status) for u, r in found.items()} == {
        "api": (Power.AWAKE, "RUNNABLE/ALWAYS"),
        "night": (Power.ASLEEP, "RUNNABLE/NEVER"),
        "api-replica": (Power.AWAKE, "RUNNABLE/ALWAYS"),
        "busy": (Power.BUSY, "MAINTENANCE/ALWAYS"),
        "held": (Power.ASLEEP, "SUSPENDED/ALWAYS"),
        "dropped": (Power.GONE, "not listed"),
    }
    assert len(fleet.faults.served("/instances", "GET")) == 3  # the pages, nothing per unit


def test_stop_then_start_patch_the_policy_and_follow_the_operation(
    fleet: GcpFake, key: ServiceAccountKey
) -> None:
    fleet.sql.polls_to_done = 3
    gcp, sleeps = client(account(fleet.url, key)), Sleeps()

    asleep = set_power(gcp, unit("api"), False, POLL, sleeps)
    polled = len(fleet.faults.served("/operations/", "GET"))
    awake = set_power(gcp, unit("api"), True, POLL, sleeps)

    assert (asleep.state, asleep.status) == (Power.ASLEEP, "RUNNABLE/NEVER")
    assert (awake.state, awake.status) == (Power.AWAKE, "RUNNABLE/ALWAYS")
    assert polled == 3 and sleeps == [2.0] * 6
    patches = fleet.faults.served("/instances/api", "PATCH")
    assert len(patches) == 2
    assert read_power(gcp, PROJECT, [unit("api")])[unit("api")].state is Power.AWAKE


def test_an_operation_still_running_after_the_bound_is_a_retryable_error(
    fleet: GcpFake, key: ServiceAccountKey
) -> None:
    fleet.sql.polls_to_done = 50
    gcp, sleeps = client(account(fleet.url, key)), Sleeps()

    with pytest.raises(ProviderError) as caught:
        set_power(gcp, unit("shop"), False, POLL, sleeps)

    assert caught.value.code == "operation_pending" and caught.value.retryable
    assert "still RUNNING after 5 polls" in caught.value.message
    assert len(sleeps) == 5


def test_a_stop_while_another_operation_runs_waits_for_it(
    fleet: GcpFake, key: ServiceAccountKey
) -> None:
    backup = fleet.sql.start_operation(PROJECT, "shop", "BACKUP_VOLUME")
    gcp = client(account(fleet.url, key))

    with pytest.raises(ProviderError) as caught:
        set_power(gcp, unit("shop"), False, POLL, Sleeps())
    fleet.sql.finish_operation(PROJECT, backup)
    asleep = set_power(gcp, unit("shop"), False, POLL, Sleeps())

    refused = caught.value
    assert (refused.code, refused.busy, refused.retryable) == ("operation_in_progress", True, True)
    assert refused.message.startswith("stopping shop: another operation is running")
    assert "Operation failed because another operation was already in progress" in refused.message
    assert len(fleet.faults.requests("/instances/shop", "PATCH")) == 2  # 409 is not re-sent
    assert asleep.state is Power.ASLEEP


def test_a_replica_is_refused_by_the_cloud_and_not_retryable(
    fleet: GcpFake, key: ServiceAccountKey
) -> None:
    with pytest.raises(ProviderError) as caught:
        set_power(client(account(fleet.url, key)), unit("api-replica"), False, POLL, Sleeps())

    assert not caught.value.retryable
    assert "not valid for a replica" in caught.value.message
    assert "cloudsql.instances.update" in caught.value.message


def test_server_errors_on_the_patch_are_retried_then_a_retryable_error(
    fleet: GcpFake, key: ServiceAccountKey
) -> None:
    fleet.faults.inject("503", "/instances/shop", count=10)

    with pytest.raises(ProviderError) as caught:
        set_power(client(account(fleet.url, key)), unit("shop"), False, POLL, Sleeps())

    assert caught.value.retryable
    assert len(fleet.faults.requests("/instances/shop", "PATCH")) == 4  # FAST: 4 attempts


def _seed(
    fake: GcpFake, name: str, metric: str, seed: int, value: float, **labels: str
) -> dict[datetime, float]:
    start = NOW.replace(minute=0) - timedelta(hours=1)
    points = minute_points(start, 2, lambda r: value * r.uniform(0.5, 1.5), seed)
    points = {t: v for t, v in points.items() if t <= NOW}
    fake.instance_series(PROJECT, name, CLOUDSQL + metric, labels).add(points)
    return points


def _last(points: dict[datetime, float], minutes: int) -> list[float]:
    return [v for t, v in points.items() if NOW - timedelta(minutes=minutes) < t <= NOW]


def test_recent_activity_averages_the_last_minutes_with_the_history_mapping(
    fleet: GcpFake, key: ServiceAccountKey
) -> None:
    cpu = _seed(fleet, "shop", "cpu/utilization", 1, 0.3)
    conns = _seed(fleet, "shop", "network/connections", 2, 7.0)
    reads = _seed(fleet, "shop", "disk/read_ops_count", 3, 600.0)
    writes = _seed(fleet, "shop", "disk/write_ops_count", 4, 60.0)
    first = _seed(fleet, "api", "postgresql/num_backends", 5, 3.0, database="orders")
    second = _seed(fleet, "api", "postgresql/num_backends", 6, 2.0, database="users")
    _seed(fleet, "night", "cpu/utilization", 7, 0.9)  # not asked for
    gcp = client(account(fleet.url, key))

    found = recent_activity(gcp, PROJECT, [unit("shop"), unit("api"), unit("busy")], 15, NOW)

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    shop = found[unit("shop")]
    assert shop["cpu"] == pytest.approx(mean(_last(cpu, 15)) * 100)
    assert shop["connections"] == pytest.approx(mean(_last(conns, 15)))
    assert shop["read_iops"] == pytest.approx(sum(_last(reads, 15)) / 900)
    assert shop["write_iops"] == pytest.approx(sum(_last(writes, 15)) / 900)
    assert found[unit("api")] == {
        "connections": pytest.approx(mean(_last(first, 15)) + mean(_last(second, 15)))
    }
    assert unit("busy") not in found and unit("night") not in found
    assert len(fleet.faults.served("/timeSeries")) == 5  # one per metric source, whole project


def test_the_provider_reads_and_acts_through_the_accounts_session(
    fleet: GcpFake, key: ServiceAccountKey
) -> None:
    sleeps = Sleeps()
    gcp = GcpProvider(fast_sessions(), Settings(), lambda: NOW, PollPolicy(1.0, 5), sleeps)
    owner = account(fleet.url, key)

    stopped = gcp.set_power(owner, unit("shop"), False)
    states = gcp.read_power(owner, PROJECT, [unit("shop"), unit("night")])

    assert stopped.state is Power.ASLEEP and sleeps == [1.0, 1.0]  # the fake: DONE at poll 2
    assert [r.state for r in states.values()] == [Power.ASLEEP, Power.ASLEEP]
    assert gcp.recent_activity(owner, PROJECT, [unit("shop")], 15) == {}
