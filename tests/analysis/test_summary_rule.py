"""The fleet page's summaries classify hours by the analysis's idle rule (SQLite, PostgreSQL).

A pooled database holds two connections every hour, day and night. Before the analysis has
learned that floor, the summary knows only the default rule (no floor: two connections are
activity); once the runner has stored the instance's thresholds, its summary calls the quiet
nights idle, exactly as analysis.idle does over the same hours.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from dbsnooze.analysis import runner, service
from dbsnooze.analysis.idle import Thresholds, classify
from dbsnooze.context import Context
from dbsnooze.domain import HOUR, HourlyStat, HourRange, Source
from dbsnooze.store import samples, summaries, thresholds
from dbsnooze.store.db import transaction
from dbsnooze.store.recent import IDLE_HOURS
from dbsnooze.store.tables import IdleThresholdRow, InstanceRow
from metricshelp import ALL_METRICS, NOW, Clock, register

NEWEST = datetime(2026, 11, 18, 13, tzinfo=NOW.tzinfo)  # the last final hour at NOW
WEEKS = 5


def pooled_hour(instance_id: int, hour: datetime) -> list[HourlyStat]:
    """Office hours busy (CPU 30 %), nights quiet (CPU 1 %); 2 connections and 4 IOPS always."""
    cpu = 30.0 if 8 <= hour.hour < 18 else 1.0
    values = {"cpu": cpu, "connections": 2.0, "read_iops": 2.0, "write_iops": 2.0}
    return [
        HourlyStat(instance_id, m, hour, v := values.get(m, 1e9), v, v, 60.0) for m in ALL_METRICS
    ]


def stored_share(ctx: Context, instance_id: int) -> summaries.Summary:
    with ctx.engine.connect() as conn:
        return summaries.read(conn, [instance_id])[instance_id]


def test_a_pooled_instances_nights_are_idle_on_the_fleet_page_as_in_the_analysis(
    ctx: Context,
) -> None:
    ctx.clock = Clock(NOW)
    iid = register(ctx, "http://127.0.0.1:9", ["pool-db"])["pool-db"]
    history = [NEWEST - h * HOUR for h in range(WEEKS * 168)]
    with transaction(ctx.sessions) as session:
        stats = [s for hour in history for s in pooled_hour(iid, hour)]
        samples.upsert(session, stats, Source.BACKFILL, NOW)
    before = stored_share(ctx, iid)
    assert before.idle_share == 0.0  # no learned floor yet: 2 connections are activity

    runner.recompute(ctx, [iid])

    after = stored_share(ctx, iid)
    with ctx.sessions() as db:
        row = db.scalars(select(InstanceRow).where(InstanceRow.id == iid)).one()
        analysis = service.analyse_rows(db, [row], ctx.settings, NOW)[iid]
        week = HourRange(NEWEST - (IDLE_HOURS - 1) * HOUR, NEWEST + HOUR)
        activity = service.activities(db, [iid], week, ctx.settings.metrics)[iid]
        stored = db.get(IdleThresholdRow, iid)
    expected = classify(activity, analysis.thresholds).share_idle()
    assert analysis.thresholds.connection_floor == 2.0
    assert stored is not None and stored.connection_floor == 2.0
    assert expected == 98 / 168  # 14 quiet hours a day
    assert after.idle_share == expected
    assert after.last_active_hour == NEWEST  # 13:00 UTC, an office hour


def test_thresholds_saved_again_unchanged_leave_the_summaries_alone(ctx: Context) -> None:
    iid = register(ctx, "http://127.0.0.1:9", ["pool-db"])["pool-db"]
    rule = thresholds.InstanceRule(thresholds.DEFAULT.thresholds, uses_iops=True)
    with transaction(ctx.sessions) as session:
        assert thresholds.save(session.connection(), {iid: rule}) == []  # as applied before
    moved = thresholds.InstanceRule(
        Thresholds(5.0, 20.0, 2.0, 1.0, {"connection_floor": "learned"})
    )
    with transaction(ctx.sessions) as session:
        assert thresholds.save(session.connection(), {iid: moved}) == [iid]
        assert thresholds.save(session.connection(), {iid: moved}) == []
        assert thresholds.read(session.connection(), [iid])[iid].values() == moved.values()
