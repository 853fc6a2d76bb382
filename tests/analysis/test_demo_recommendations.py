"""The demo fleet's recommendations, computed from the store on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dbsnooze.analysis import runner, service
from dbsnooze.analysis.idle import HourClass
from dbsnooze.context import Context
from dbsnooze.demo.fleet import FLEET
from dbsnooze.store import recommendations
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow
from fleethelp import seed_store

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
NIGHTS_AND_WEEKENDS = [
    "Mon 19:00 → Tue 07:40",
    "Tue 19:00 → Wed 07:40",
    "Wed 19:00 → Thu 07:40",
    "Thu 19:00 → Fri 07:40",
    "Fri 19:00 → Mon 07:40",
]
EXPECTED = {
    "production": "none",
    "staging": "sleep",
    "development": "sleep",
    "abandoned": "stop",
    "stopped": "sleep",
}


@pytest.fixture()
def seeded(ctx: Context) -> dict[str, int]:
    ctx.clock = lambda: NOW
    ids = seed_store(ctx, NOW)
    runner.recompute(ctx)
    return ids


def test_each_profile_gets_its_recommendation(ctx: Context, seeded: dict[str, int]) -> None:
    with transaction(ctx.sessions) as session:
        for instance in FLEET:
            rec = recommendations.of_instance(session, seeded[instance.identifier])
            assert rec is not None
            assert rec.kind == EXPECTED[instance.profile], (instance.identifier, rec.message)
            assert rec.backtest["clean"], instance.identifier
            if rec.kind == "sleep":
                labels = [f"{w['sleep']} → {w['wake']}" for w in rec.windows]
                assert labels == NIGHTS_AND_WEEKENDS, instance.identifier
                assert rec.saving_hours_month > 400
                assert rec.confidence > 0.7
            if rec.kind == "stop":
                assert rec.message == "idle for 28 days: stop it (or delete it)"


def test_staging_is_idle_at_night_despite_its_pool(ctx: Context, seeded: dict[str, int]) -> None:
    with transaction(ctx.sessions) as session:
        row = session.get(InstanceRow, seeded["billing-staging"])
        assert row is not None
        analysis = service.analyse_rows(session, [row], ctx.settings, NOW)[row.id]
    assert analysis.thresholds.connection_floor >= 2  # the pool is the floor
    night = [
        c
        for c, hour in zip(analysis.classified.classes, analysis.window, strict=True)
        if hour.weekday() < 5 and hour.hour in range(0, 7)
    ]
    assert night.count(HourClass.IDLE) == len(night)


def test_the_stopped_instance_asleep_hours_are_not_idle(
    ctx: Context, seeded: dict[str, int]
) -> None:
    """Its last three days are asleep: neither idle nor counted in its idle share, which stays
    that of the developer instance it is like (counted as idle, it would be 5 points higher)."""
    with transaction(ctx.sessions) as session:
        names = ("analytics-poc", "dev-alice-pg")
        rows = [session.get(InstanceRow, seeded[name]) for name in names]
        found = service.analyse_rows(session, [r for r in rows if r is not None], ctx.settings, NOW)
        stopped, developer = found.values()
    assert stopped.classified.classes[-72:] == [HourClass.ASLEEP] * 72
    assert stopped.pattern.usable_weeks == 3
    share, like = stopped.classified.share_idle(), developer.classified.share_idle()
    assert share is not None and like is not None
    assert abs(share - like) < 0.02


def test_an_instance_that_cannot_stop_says_why(ctx: Context, seeded: dict[str, int]) -> None:
    """dev-bob-mysql turns out to be a read replica at the next discovery: its nights are
    still idle, but the recommendation says why it cannot sleep."""
    from dbsnooze.store import instances as instance_store
    from fleethelp import discovered

    bob = next(i for i in FLEET if i.identifier == "dev-bob-mysql")
    others = [discovered(i) for i in FLEET if i.region == bob.region and i is not bob]
    replica = discovered(bob, replica=True, replica_source="orders-prod")
    with transaction(ctx.sessions) as session:
        row = session.get(InstanceRow, seeded[bob.identifier])
        assert row is not None
        instance_store.sync_region(
            session, (row.account_id, "aws"), bob.region, [*others, replica], NOW
        )
        assert row.replica_source == "orders-prod"
    runner.recompute(ctx, [seeded[bob.identifier]])
    with transaction(ctx.sessions) as session:
        rec = recommendations.of_instance(session, seeded[bob.identifier])
        assert rec is not None
        assert rec.kind == "blocked"
        assert rec.message.startswith("could sleep 111 h a week, but a read replica cannot")
        assert rec.saving_hours_month == 0 and rec.windows == []
