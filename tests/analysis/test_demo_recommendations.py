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


def test_windows_are_in_the_owner_zone(ctx: Context, seeded: dict[str, int]) -> None:
    """The account's zone applies to instances without a tag; a tag wins. The demo's office
    hours are UTC hours (19:00 to 08:00 idle) and these four weeks cross the end of summer time:
    in Berlin the nights are idle from 21:00 (CEST) or 20:00 (CET), so every week agrees from
    21:00, and work begins at 10:00 or 09:00; in New York from 15:00 (EDT) or 14:00 (EST)."""
    from dbsnooze.store.tables import AccountRow

    alice, bob = seeded["dev-alice-pg"], seeded["dev-bob-mysql"]
    with transaction(ctx.sessions) as session:
        row = session.get(InstanceRow, alice)
        assert row is not None
        account = session.get(AccountRow, row.account_id)
        assert account is not None
        account.timezone = "Europe/Berlin"
        bob_row = session.get(InstanceRow, bob)
        assert bob_row is not None
        bob_row.tags = {**bob_row.tags, "dbsnooze:timezone": "America/New_York"}
    runner.recompute(ctx, [alice, bob])
    with transaction(ctx.sessions) as session:
        by_account = recommendations.of_instance(session, alice)
        by_tag = recommendations.of_instance(session, bob)
        assert by_account is not None and by_tag is not None
        assert (by_account.timezone, by_account.timezone_source) == ("Europe/Berlin", "account")
        assert by_account.windows[-1]["sleep"] == "Fri 21:00"
        assert by_account.windows[-1]["wake"] == "Mon 08:40"
        assert (by_tag.timezone, by_tag.timezone_source) == ("America/New_York", "tag")
        assert by_tag.windows[-1]["sleep"] == "Fri 15:00"
        assert by_tag.windows[-1]["wake"] == "Mon 02:40"
