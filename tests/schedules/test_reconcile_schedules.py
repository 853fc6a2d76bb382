"""The reconciler following schedules, by the injected clock, against moto over HTTP behind the
stateful RDS layer: DST, downtime caught up, a person's start, enforce, the 7-day restart, the
stop guard."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import boto3
import pytest

from dbsnooze.analysis.idle import Thresholds
from dbsnooze.metrics import NAMESPACE
from dbsnooze.schedules import reconcile
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import schedules, thresholds
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Settings
from dbsnooze.store.thresholds import InstanceRule
from reconhelp import REGION, World

MINUTE = timedelta(minutes=1)
EVERY_DAY = tuple(range(7))
NIGHTS = (Window(EVERY_DAY, time(19), time(7)),)


def _schedule(
    world: World,
    ids: tuple[int, ...],
    windows: tuple[Window, ...] = NIGHTS,
    zone: str = "UTC",
    **flags: object,
) -> int:
    settings = Settings(ScheduleSpec(zone, windows), **{"dry_run": False, **flags})  # type: ignore[arg-type]
    with transaction(world.ctx.sessions) as session:
        return schedules.create(session, "nights", settings, "user:ann", world.clock(), ids).id


def _at(world: World, when: datetime) -> reconcile.PassReport:
    world.clock.now = when
    return reconcile.run_pass(world.ctx, "w1")


def _day(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _start_by_hand(world: World, name: str) -> None:
    rds = boto3.client(
        "rds",
        region_name=REGION,
        endpoint_url=world.layer.url,
        aws_access_key_id="someone",
        aws_secret_access_key="else",
    )
    rds.start_db_instance(DBInstanceIdentifier=name)


@pytest.mark.parametrize(
    ("zone", "sleep_utc", "before_wake", "wake_utc"),
    [
        # spring forward: the night is an hour shorter in UTC
        (
            "Europe/Berlin",
            datetime(2026, 3, 28, 21, tzinfo=UTC),
            datetime(2026, 3, 29, 3, 59, tzinfo=UTC),
            datetime(2026, 3, 29, 4, tzinfo=UTC),
        ),
        (
            "America/New_York",
            datetime(2026, 3, 8, 3, tzinfo=UTC),
            datetime(2026, 3, 8, 9, 59, tzinfo=UTC),
            datetime(2026, 3, 8, 10, tzinfo=UTC),
        ),
        # fall back: an hour longer
        (
            "Europe/Berlin",
            datetime(2026, 10, 24, 20, tzinfo=UTC),
            datetime(2026, 10, 25, 4, 59, tzinfo=UTC),
            datetime(2026, 10, 25, 5, tzinfo=UTC),
        ),
        (
            "America/New_York",
            datetime(2026, 11, 1, 2, tzinfo=UTC),
            datetime(2026, 11, 1, 10, 59, tzinfo=UTC),
            datetime(2026, 11, 1, 11, tzinfo=UTC),
        ),
    ],
)
def test_local_sleep_and_wake_times_hold_across_dst_changes(
    world: World, zone: str, sleep_utc: datetime, before_wake: datetime, wake_utc: datetime
) -> None:
    world.clock.now = sleep_utc - timedelta(hours=1)
    db = world.instance("app")
    _schedule(world, (db,), (Window(EVERY_DAY, time(22), time(6)),), zone)

    _at(world, sleep_utc - MINUTE)
    assert world.calls() == []
    _at(world, sleep_utc)
    assert world.calls() == ["StopDBInstance:app"]
    _at(world, sleep_utc + 10 * MINUTE)
    _at(world, before_wake)
    assert world.calls() == ["StopDBInstance:app"]
    _at(world, wake_utc)
    assert world.calls() == ["StopDBInstance:app", "StartDBInstance:app"]
    (stop, start) = world.actions(db)
    assert (stop.finished_at, start.finished_at) == (sleep_utc, wake_utc)


def test_downtime_is_caught_up_by_the_first_pass_after_it(world: World) -> None:
    slept, missed = world.instance("slept"), world.instance("missed")
    _schedule(world, (slept, missed))
    world.clock.now = _day(18, 19)
    reconcile.run_pass(world.ctx, "w1", only=[slept])  # `missed` is not in the first pass
    assert world.calls() == ["StopDBInstance:slept"]

    _at(world, _day(19, 20, 30))  # down from 19:00 to 20:30 the next day: both in a window
    assert world.calls() == ["StopDBInstance:slept", "StopDBInstance:missed"]
    _at(world, _day(20, 9, 45))  # down through the whole next morning: both woken
    assert sorted(world.calls()[2:]) == ["StartDBInstance:missed", "StartDBInstance:slept"]


@pytest.mark.parametrize("enforce", [False, True])
def test_a_person_who_starts_a_stopped_instance_wins_unless_the_schedule_enforces(
    world: World, enforce: bool
) -> None:
    db = world.instance("app")
    _schedule(world, (db,), enforce=enforce)
    _at(world, _day(18, 19))
    _at(world, _day(18, 19, 10))
    _start_by_hand(world, "app")
    _at(world, _day(18, 21, 5))  # starting: waited out
    _at(world, _day(18, 21, 10))
    _at(world, _day(18, 21, 11))

    if enforce:
        assert world.calls() == ["StopDBInstance:app", "StopDBInstance:app"]
        return
    assert world.calls() == ["StopDBInstance:app"]
    kept = world.actions(db)[-1]
    assert (kept.state, kept.reason) == (
        "skipped",
        "manual start, kept awake until 2026-11-19T07:00:00+00:00",
    )
    _at(world, _day(19, 7))
    _at(world, _day(19, 19))  # the next window is dbsnooze's again
    assert world.calls() == ["StopDBInstance:app", "StopDBInstance:app"]


def test_the_clouds_restart_after_7_days_stopped_is_stopped_again(world: World) -> None:
    db = world.instance("app")
    always = (
        Window((0,), time(0), time(12), span_days=6),
        Window((6,), time(0), time(12), span_days=1),
    )
    _schedule(world, (db,), always)
    _at(world, _day(18, 15))
    _at(world, _day(18, 15, 10))
    _at(world, _day(25, 15, 1))  # the cloud restarts it: starting
    assert world.layer.restarted == ["app"]
    _at(world, _day(25, 15, 10))

    assert world.calls() == ["StopDBInstance:app", "StopDBInstance:app"]
    assert world.actions(db)[-1].reason == (
        "restarted by the cloud after 7 days stopped: stopped again"
    )


def _metrics(world: World, name: str, start: datetime, minutes: int, **values: float) -> None:
    names = {
        "cpu": "CPUUtilization",
        "connections": "DatabaseConnections",
        "read_iops": "ReadIOPS",
        "write_iops": "WriteIOPS",
    }
    data = [
        {
            "MetricName": names[key],
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": name}],
            "Timestamp": start + i * MINUTE,
            "Value": value,
        }
        for i in range(minutes)
        for key, value in values.items()
    ]
    cloudwatch = world.moto.client("cloudwatch", REGION)
    for offset in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[offset : offset + 500])


def _pooled_rule(world: World, instance_id: int) -> None:
    rule = InstanceRule(
        Thresholds(cpu_percent=5, iops=20, connection_floor=10, connections_margin=1)
    )
    with transaction(world.ctx.sessions) as session:
        thresholds.save(session.connection(), {instance_id: rule})


def test_the_stop_guard_postpones_a_busy_instance_then_skips_the_window(world: World) -> None:
    db = world.instance("app")
    _pooled_rule(world, db)
    _schedule(world, (db,), grace_minutes=5)
    _metrics(
        world,
        "app",
        _day(18, 18, 30),
        60,
        cpu=40.0,
        connections=12.0,
        read_iops=1.0,
        write_iops=1.0,
    )

    for minute in range(7):
        _at(world, _day(18, 19, minute))

    assert world.calls() == []
    (action,) = world.actions(db)
    assert action.state == "skipped"
    assert action.reason.startswith("busy at sleep time: active in the last 15 minutes (cpu)")
    assert action.holds_until == _day(19, 7)
    assert [e[0] for e in world.events()] == ["action.postponed", "action.skipped"]


def test_the_stop_guard_waits_for_quiet_and_pooled_connections_are_not_activity(
    world: World,
) -> None:
    db = world.instance("app")
    _pooled_rule(world, db)
    _schedule(world, (db,), grace_minutes=30)
    _metrics(
        world,
        "app",
        _day(18, 18, 30),
        32,
        cpu=40.0,
        connections=10.0,
        read_iops=1.0,
        write_iops=1.0,
    )
    _metrics(
        world, "app", _day(18, 19, 2), 30, cpu=1.0, connections=10.0, read_iops=1.0, write_iops=1.0
    )

    _at(world, _day(18, 19))
    assert world.calls() == []
    _at(world, _day(18, 19, 1))
    _at(world, _day(18, 19, 20))  # the last 15 minutes: idle, ten pooled connections

    assert world.calls() == ["StopDBInstance:app"]
    assert world.actions(db)[0].state == "done"


def test_a_keep_awake_override_ends_and_the_schedule_stops_it(world: World) -> None:
    from dbsnooze.store import overrides

    db = world.instance("app")
    _schedule(world, (db,))
    world.clock.now = _day(18, 18)
    with transaction(world.ctx.sessions) as session:
        overrides.put(session, db, "awake", _day(18, 21), "user:ann", world.clock())
    _at(world, _day(18, 19))
    _at(world, _day(18, 20, 59))
    assert world.calls() == []
    _at(world, _day(18, 21))
    assert world.calls() == ["StopDBInstance:app"]


def test_a_schedule_in_dry_run_records_once_and_calls_nothing(world: World) -> None:
    db = world.instance("app")
    _schedule(world, (db,), dry_run=True)
    for minute in range(3):
        _at(world, _day(18, 19, minute))

    assert world.calls() == []
    (would,) = world.actions(db)
    assert (would.state, would.reason) == ("dry_run", "would stop: schedule nights: sleep window")


def test_a_throttled_stop_is_retried_by_the_client_and_done_once(world: World) -> None:
    db = world.instance("app")
    _schedule(world, (db,))
    world.proxy.inject(None, None, "throttle")  # describe, activity, then the stop is throttled

    _at(world, _day(18, 19))

    assert world.calls() == ["StopDBInstance:app"]
    assert [a.state for a in world.actions(db)] == ["done"]


def test_a_dry_run_schedule_switched_to_live_acts_in_the_window_it_is_in(world: World) -> None:
    db = world.instance("app")
    schedule_id = _schedule(world, (db,), dry_run=True)
    _at(world, _day(18, 19))
    with transaction(world.ctx.sessions) as session:
        schedules.set_dry_run(session, schedule_id, False, world.clock())

    _at(world, _day(18, 19, 30))

    assert world.calls() == ["StopDBInstance:app"]
    assert [a.state for a in world.actions(db)] == ["dry_run", "done"]
