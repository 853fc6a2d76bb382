"""Savings realized on SQLite and PostgreSQL: schedules' stop-to-start spans within the period,
priced per hour (a cluster by its members), beside the recommendation's prediction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dbsnooze.context import Context
from dbsnooze.domain import Unit
from dbsnooze.prices.table import Deployment, Price, PriceKey, PriceSource
from dbsnooze.schedules import savings
from dbsnooze.store import actions, prices
from dbsnooze.store.actions import NewAction, State
from dbsnooze.store.db import transaction
from metricshelp import REGION, register

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
MICRO = PriceKey("db.t3.micro", "postgres", REGION, Deployment.SINGLE_AZ)
AURORA = PriceKey("db.r6g.large", "aurora-postgresql", REGION, Deployment.SINGLE_AZ)


def _done(ctx: Context, instance_id: int, kind: str, at: datetime, schedule: int | None) -> None:
    actor = f"schedule:{schedule}" if schedule else "user:alice"
    with transaction(ctx.sessions) as session:
        row = actions.add(
            session, NewAction(instance_id, kind, State.PLANNED, "window", actor, schedule), at
        )
        assert row is not None
        actions.finish(session, row, State.DONE, at)


def _price(ctx: Context, *found: tuple[PriceKey, float]) -> None:
    with transaction(ctx.sessions) as session:
        prices.save(session, [Price(k, usd, PriceSource.CSV) for k, usd in found], NOW)


def test_spans_inside_the_period_are_priced_and_a_person_s_stop_is_not_counted(
    ctx: Context,
) -> None:
    ids = register(ctx, "http://127.0.0.1:9", ["dev", "by-hand", "unpriced"])
    ids.update(register(ctx, "http://127.0.0.1:9", ["big"], instance_class="db.m5.large"))
    _price(ctx, (MICRO, 0.5))
    # dev: slept 40 days ago to 30 days ago minus 2 h (2 h inside a 30-day period), then 10 h
    _done(ctx, ids["dev"], "stop", NOW - timedelta(days=40), 1)
    _done(ctx, ids["dev"], "start", NOW - timedelta(days=30) + timedelta(hours=2), 1)
    _done(ctx, ids["dev"], "stop", NOW - timedelta(hours=14), 1)
    _done(ctx, ids["dev"], "start", NOW - timedelta(hours=4), 1)
    _done(ctx, ids["by-hand"], "stop", NOW - timedelta(hours=5), None)  # a person's, not counted
    _done(ctx, ids["big"], "stop", NOW - timedelta(hours=3), 2)  # still asleep, no price
    with ctx.sessions() as session:
        found = savings.realized(session, NOW, days=30)
    by_id = {r.instance_id: r for r in found.instances}
    assert set(by_id) == {ids["dev"], ids["big"]}
    assert (by_id[ids["dev"]].hours, by_id[ids["dev"]].usd) == (12.0, 6.0)
    assert (by_id[ids["big"]].hours, by_id[ids["big"]].usd) == (3.0, None)
    assert (found.hours, found.usd, found.unpriced_hours) == (15.0, 6.0, 3.0)
    assert found.instances[0].instance_id == ids["dev"]  # most hours first


def test_a_cluster_costs_what_its_members_cost(ctx: Context) -> None:
    aurora = {"engine": "aurora-postgresql", "instance_class": "db.r6g.large"}
    ids = register(ctx, "http://127.0.0.1:9", ["w1", "r1"], cluster_id="shop", **aurora)
    ids.update(
        register(
            ctx,
            "http://127.0.0.1:9",
            ["shop"],
            unit=Unit.CLUSTER,
            members=("w1", "r1"),
            **aurora,
        )
    )
    _price(ctx, (AURORA, 0.25))
    _done(ctx, ids["shop"], "stop", NOW - timedelta(hours=8), 3)
    with ctx.sessions() as session:
        found = savings.realized(session, NOW, days=7)
    assert [(r.instance_id, r.hours, r.usd_per_hour, r.usd) for r in found.instances] == [
        (ids["shop"], 8.0, 0.5, 4.0)
    ]


@pytest.mark.parametrize("days", [1, 30])
def test_nothing_slept_is_an_empty_answer(ctx: Context, days: int) -> None:
    register(ctx, "http://127.0.0.1:9", ["dev"])
    with ctx.sessions() as session:
        found = savings.realized(session, NOW, days=days)
    assert (found.instances, found.hours, found.usd) == ((), 0.0, 0.0)
    assert found.start == NOW - timedelta(days=days)
