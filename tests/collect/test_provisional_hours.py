"""Provisional hours against moto over HTTP, on SQLite and PostgreSQL: an hour fetched while it
filled, then left behind by a collector that stopped, ends exact once the service runs again;
the hour an instance stopped keeps what it measured."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.domain import HourlyStat, HourRange, Source
from dbsnooze.jobs.worker import collector_tick
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow
from faultproxy import FaultProxy
from metricshelp import (
    ALL_METRICS,
    HOUR,
    NOW,
    app,
    prepare,
    put,
    register,
    stored,
    truth,
    window,
)

NAME = "orders-db"
MINUTE = timedelta(minutes=1)
H14 = NOW.replace(minute=0)  # 14:00-15:00: the current hour at 14:30
H13 = H14 - HOUR
HALF_PAST = H14 + 30 * MINUTE
DATA_CALL = "GetMetricData"


def _exact(ctx: Context, moto: Emulator, instance_id: int, hour: Any, source: str) -> None:
    rows = stored(ctx, instance_id)
    for metric in ALL_METRICS:
        assert rows[metric, hour] == (*truth(moto, NAME, metric, hour), source)  # type: ignore[misc]


def _coverage(ctx: Context, instance_id: int, hours: HourRange) -> list[str]:
    with ctx.sessions() as session:
        states = samples.coverage(session, instance_id, ALL_METRICS, hours)
    return [state.value for state in states.values()]


def test_a_live_hour_left_provisional_by_a_restart_is_caught_up_by_the_first_tick(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    clock = prepare(ctx, HALF_PAST)
    put(moto, NAME, [H13, H14], offset=3 * MINUTE)
    iid = register(ctx, proxy.url, [NAME])[NAME]
    assert collector_tick(ctx, ctx.buckets, "worker-a") is not None  # 14:30: 14:00 half full
    early = stored(ctx, iid)
    states_early = _coverage(ctx, iid, HourRange(H13, H14 + HOUR))
    # the service stops; the cloud publishes the rest of 14:00 and the hours after it
    put(moto, NAME, [H14], offset=45 * MINUTE, seed="+")
    put(moto, NAME, [H14 + i * HOUR for i in (1, 2, 3)], offset=3 * MINUTE)
    clock.advance(timedelta(hours=3))  # 17:30: it starts again
    old = H14 - timedelta(days=ctx.settings.backfill_max_days, hours=4)  # beyond the cap
    with transaction(ctx.sessions) as session:
        stale = HourlyStat(iid, "cpu", old, 1.0, 1.0, 1.0, 1.0)
        samples.upsert(session, [stale], Source.LIVE, old + 30 * MINUTE)
    calls_before = len(proxy.forwarded(DATA_CALL))

    report = collector_tick(ctx, ctx.buckets, "worker-a")

    assert states_early == ["missing", "provisional"]  # 13:00 was final: backfill's business
    assert report is not None
    # 14:00 of every metric, asked again; hours beyond the backfill cap are left alone
    assert report.caught_up == len(ALL_METRICS)
    assert report.api_calls == 2  # the live window, and the hour caught up
    asked = sorted(r.hours for r in proxy.forwarded(DATA_CALL)[calls_before:])
    assert asked == [[H14], [H14 + 3 * HOUR]]
    _exact(ctx, moto, iid, H14, "live")
    assert all(stored(ctx, iid)[m, H14] != early[m, H14] for m in ALL_METRICS)
    assert _coverage(ctx, iid, HourRange(H13, H14 + HOUR)) == ["missing", "complete"]
    again = collector_tick(ctx, ctx.buckets, "worker-b")  # nothing is left to catch up
    assert again is None or again.caught_up == 0


def test_a_backfill_after_a_restart_fetches_the_provisional_hour_again(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx, HALF_PAST) as api:
        put(moto, NAME, [H13, H14], offset=3 * MINUTE)
        iid = register(ctx, proxy.url, [NAME])[NAME]
        collected = api.post(f"/api/v1/instances/{iid}/collect-metrics")
        provisional = api.get(f"/api/v1/instances/{iid}/metrics/history", params={"range": "24h"})
        put(moto, NAME, [H14], offset=45 * MINUTE, seed="+")
        put(moto, NAME, [H14 + HOUR, H14 + 2 * HOUR], offset=3 * MINUTE)
        assert ctx.clock is not None
        ctx.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
        job = api.post(
            f"/api/v1/instances/{iid}/metrics/backfill", params={"days": 1, "wait": "true"}
        ).json()
        csv = api.get(
            f"/api/v1/instances/{iid}/metrics/history", params={"range": "24h", "format": "csv"}
        ).text

    assert collected.json()["samples"] == len(ALL_METRICS)
    assert provisional.json()["coverage"][-2:] == ["missing", "provisional"]
    assert job["state"] == "succeeded"
    # the window is 24 final hours up to 17:00; 14:00 was stored, but provisional
    assert (job["hours_skipped"], job["hours_refetched"]) == (0, 1)
    assert (job["hours_backfilled"], job["hours_empty"]) == (3, 20)
    _exact(ctx, moto, iid, H14, "backfill")
    line = next(row for row in csv.splitlines() if row.startswith(H14.isoformat()))
    assert line.split(",")[1] == "complete"


def test_the_hour_an_instance_stopped_keeps_what_it_measured_and_ends_exact(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    clock = prepare(ctx, HALF_PAST)
    put(moto, NAME, [H14], offset=3 * MINUTE)
    iid = register(ctx, proxy.url, [NAME])[NAME]
    collector_tick(ctx, ctx.buckets, "worker-a")  # 14:30: running, 14:00 half full
    measured = stored(ctx, iid)
    put(moto, NAME, [H14], offset=35 * MINUTE, seed="+")  # its last minutes before it stopped
    with transaction(ctx.sessions) as session:  # discovery sees it stopped at 14:40
        session.get_one(InstanceRow, iid).status = "stopped"
    clock.advance(15 * MINUTE)
    stopped = collector_tick(ctx, ctx.buckets, "worker-a")  # 14:45
    kept = stored(ctx, iid)
    clock.advance(timedelta(hours=3))  # the service was down; now 17:45
    later = collector_tick(ctx, ctx.buckets, "worker-a")

    assert stopped is not None and stopped.asleep == 1
    assert {key: kept[key] for key in measured} == measured  # not replaced by asleep zeros
    assert later is not None and later.caught_up == len(ALL_METRICS)
    _exact(ctx, moto, iid, H14, "live")
    rows = stored(ctx, iid)
    assert {rows[m, H14 + 3 * HOUR][4] for m in ALL_METRICS} == {"asleep"}


def test_a_backfill_marks_a_stopped_instances_silent_hours_asleep_around_what_it_measured(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx) as api:
        iid = register(ctx, proxy.url, [NAME], status="stopped")[NAME]
        day = window(NOW, 1)
        put(moto, NAME, day[:10])  # it ran for ten hours, then stopped
        # the hour it stopped in: connections measured live (final), the rest never published
        measured = [HourlyStat(iid, "connections", day[10], 4.0, 9.0, 1.0, 20.0)]
        with transaction(ctx.sessions) as session:
            samples.upsert(session, measured, Source.LIVE, NOW)
        job = api.post(
            f"/api/v1/instances/{iid}/metrics/backfill", params={"days": 1, "wait": "true"}
        ).json()

    rows = stored(ctx, iid)
    assert job["state"] == "succeeded"
    assert rows["connections", day[10]] == (4.0, 9.0, 1.0, 20.0, "live")  # kept, not asleep
    assert {rows[m, day[10]][4] for m in ALL_METRICS if m != "connections"} == {"asleep"}
    assert {rows[m, h][4] for m in ALL_METRICS for h in day[11:]} == {"asleep"}


def test_provisional_asleep_hours_the_cloud_has_nothing_for_are_asked_only_once(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    clock = prepare(ctx, H14 + 5 * MINUTE)
    iid = register(ctx, proxy.url, [NAME], status="stopped")[NAME]
    collector_tick(ctx, ctx.buckets, "worker-a")  # 13:00 and 14:00 asleep, neither final yet
    clock.advance(timedelta(hours=3))
    first = collector_tick(ctx, ctx.buckets, "worker-a")
    clock.advance(timedelta(seconds=ctx.settings.collect_interval_seconds))
    second = collector_tick(ctx, ctx.buckets, "worker-a")

    assert first is not None and second is not None
    assert (first.caught_up, first.api_calls) == (2 * len(ALL_METRICS), 1)
    assert (second.caught_up, second.api_calls) == (0, 0)  # settled: final, still asleep
    rows = stored(ctx, iid)
    assert {rows[m, h][4] for m in ALL_METRICS for h in (H13, H14)} == {"asleep"}
    assert _coverage(ctx, iid, HourRange(H13, H14 + HOUR)) == ["asleep", "asleep"]
