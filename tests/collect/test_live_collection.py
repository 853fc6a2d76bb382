"""Live collection against moto over HTTP, on SQLite and PostgreSQL: the current and not-yet-final
hours stored as live and replaced when the cloud recomputes them, stopped instances asleep, one
collector tick per lease, and retention."""

from __future__ import annotations

from datetime import timedelta

from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.domain import HourlyStat, HourRange, Source
from dbsnooze.jobs.worker import collector_tick
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from faultproxy import FaultProxy
from metricshelp import (
    ALL_METRICS,
    HOUR,
    NOW,
    Clock,
    app,
    marked_empty,
    prepare,
    put,
    register,
    stored,
    truth,
    values,
)

EARLY = NOW.replace(minute=5)  # 14:05: the hour 13:00-14:00 ended 5 minutes ago, not final yet
CURRENT = EARLY.replace(minute=0)
PREVIOUS = CURRENT - HOUR
FINAL = PREVIOUS - HOUR  # 12:00-13:00: final, backfill's business
DATA_CALL = "GetMetricData"


def test_collect_now_stores_the_live_hours_and_replaces_them_when_the_cloud_recomputes(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    minute = timedelta(minutes=1)
    put(moto, "orders-db", [FINAL, PREVIOUS, CURRENT], offset=3 * minute)  # as RDS: on minutes
    with app(ctx, EARLY) as api:
        iid = register(ctx, proxy.url, ["orders-db"])["orders-db"]
        url = f"/api/v1/instances/{iid}/collect-metrics"

        first = api.post(url)
        before = stored(ctx, iid)
        more = put(moto, "orders-db", [CURRENT], offset=4 * minute, seed="+")  # a later minute
        assert isinstance(ctx.clock, Clock)
        ctx.clock.advance(minute)
        second = api.post(url)
        after = stored(ctx, iid)
        coverage = api.get(f"/api/v1/instances/{iid}/metrics/history", params={"range": "24h"})

    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["instances"], report["asleep"], report["api_calls"]) == (1, 0, 1)
    assert report["samples"] == 2 * len(ALL_METRICS)
    assert (report["window_start"], report["window_end"]) == (
        PREVIOUS.isoformat().replace("+00:00", "Z"),
        (CURRENT + HOUR).isoformat().replace("+00:00", "Z"),
    )
    assert report["errors"] == []
    (request,) = proxy.forwarded(DATA_CALL)[:1]
    assert request.hours == [PREVIOUS, CURRENT]
    live = {(m, h) for m in ALL_METRICS for h in (PREVIOUS, CURRENT)}
    assert set(before) == set(after) == live  # the final hour is not live collection's
    for key, row in after.items():
        assert row[4] == "live"
        assert row[:4] == truth(moto, "orders-db", *key)
    for metric in ALL_METRICS:
        assert after[metric, PREVIOUS] == before[metric, PREVIOUS]
        assert after[metric, CURRENT] != before[metric, CURRENT]  # replaced, not averaged in
        count = after[metric, CURRENT][3]
        assert count == before[metric, CURRENT][3] + values(more[metric, CURRENT])[3]
    assert second.json()["samples"] == 2 * len(ALL_METRICS)
    # fetched before they were final: live collection (or a backfill) will fetch them again
    assert coverage.json()["coverage"][-2:] == ["provisional", "provisional"]


def test_a_stopped_instance_is_asleep_and_one_worker_ticks_per_lease(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    clock = prepare(ctx, EARLY)
    put(moto, "orders-db", [PREVIOUS, CURRENT])
    register(ctx, proxy.url, ["orders-db"])
    ids = register(ctx, proxy.url, ["sleepy-db"], status="stopped")

    first = collector_tick(ctx, ctx.buckets, "worker-a")
    calls = len(proxy.forwarded(DATA_CALL))
    skipped = collector_tick(ctx, ctx.buckets, "worker-b")
    clock.advance(timedelta(seconds=ctx.settings.collect_interval_seconds))
    later = collector_tick(ctx, ctx.buckets, "worker-b")

    assert first is not None
    assert (first.instances, first.asleep, first.api_calls) == (1, 1, 1)
    assert skipped is None  # worker-a holds the collector's lease
    assert calls == 1
    assert later is not None
    assert len(proxy.forwarded(DATA_CALL)) == 2
    asleep = stored(ctx, ids["sleepy-db"])
    assert set(asleep) == {(m, h) for m in ALL_METRICS for h in (PREVIOUS, CURRENT)}
    assert set(asleep.values()) == {(0.0, 0.0, 0.0, 0.0, "asleep")}
    with ctx.sessions() as session:
        states = samples.coverage(
            session, ids["sleepy-db"], ALL_METRICS, HourRange(PREVIOUS, CURRENT + HOUR)
        )
    assert [state.value for state in states.values()] == ["asleep", "asleep"]
    assert {row[4] for row in stored(ctx, ids["orders-db"]).values()} == {"live"}


def test_the_collector_tick_enforces_retention(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    prepare(ctx, NOW, retention_days=30)
    iid = register(ctx, proxy.url, ["orders-db"])["orders-db"]
    cutoff = NOW - timedelta(days=30)
    old = [cutoff.replace(minute=0) - i * HOUR for i in range(3)]
    kept = [cutoff.replace(minute=0) + HOUR, NOW.replace(minute=0) - 48 * HOUR]
    with transaction(ctx.sessions) as session:
        stats = [HourlyStat(iid, "cpu", h, 1.0, 2.0, 0.5, 60.0) for h in [*old, *kept]]
        samples.upsert(session, stats, Source.BACKFILL, NOW)
        samples.mark_empty(session, [(iid, "connections", h) for h in [*old, *kept]], NOW)

    assert collector_tick(ctx, ctx.buckets, "worker-a") is not None

    assert {key for key in stored(ctx, iid) if key[0] == "cpu"} == {("cpu", h) for h in kept}
    assert marked_empty(ctx, iid) == {("connections", h) for h in kept}
