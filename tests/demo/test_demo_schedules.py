"""The demo's development schedules: each dev instance's sleep recommendation applied once, in
dry run, as soon as it is analysed; production is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dbsnooze.analysis import runner
from dbsnooze.context import Context
from dbsnooze.demo.fleet import FLEET
from dbsnooze.demo.prices import demo_prices
from dbsnooze.demo.schedules import DevelopmentSchedules
from dbsnooze.store import prices as price_store
from dbsnooze.store import recommendations
from dbsnooze.store import schedules as schedule_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import ScheduleRow
from fleethelp import seed_store

NOW = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)
DEV = sorted(i.identifier for i in FLEET if i.tags.get("env") == "dev")


def test_development_instances_get_dry_run_schedules_once_analysed(ctx: Context) -> None:
    ctx.clock = lambda: NOW
    ids = seed_store(ctx, NOW)
    said: list[str] = []
    development = DevelopmentSchedules(ctx, say=said.append)
    development.tick()  # nothing analysed yet: nothing applied, asked again next time
    ctx.clock = lambda: NOW - timedelta(days=60)  # analysed before its history was backfilled
    runner.recompute(ctx)
    with ctx.sessions() as session:
        early = recommendations.of_instance(session, ids["dev-alice-pg"])
        assert early is not None and early.kind == "not_enough_history"
    development.tick()
    assert development.applied == [] and development.handled == set()
    ctx.clock = lambda: NOW
    with transaction(ctx.sessions) as session:
        price_store.save(session, demo_prices(), NOW)
    runner.recompute(ctx)
    development.tick()
    development.tick()  # once only
    with ctx.sessions() as session:
        schedules = list(session.scalars(select(ScheduleRow)))
        followed = schedule_store.assignments(session)
    assert DEV and sorted(development.applied) == sorted(s.name for s in schedules)
    assert {s.name for s in schedules} <= {f"sleep: {name}" for name in DEV}
    assert len(schedules) >= 2 and all(s.dry_run and s.enabled for s in schedules)
    names = {ids[n]: n for n in ids}
    assert {names[i] for i in followed} <= set(DEV)
    assert len(said) == len(schedules) and "switch it live" in said[0]


def test_a_schedule_a_person_deleted_is_not_made_again(ctx: Context) -> None:
    ctx.clock = lambda: NOW
    seed_store(ctx, NOW)
    runner.recompute(ctx)
    development = DevelopmentSchedules(ctx, say=lambda _: None)
    development.tick()
    with transaction(ctx.sessions) as session:
        for row in session.scalars(select(ScheduleRow)):
            session.delete(row)
    development.tick()
    with ctx.sessions() as session:
        assert list(session.scalars(select(ScheduleRow))) == []
