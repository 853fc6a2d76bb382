"""Schedules in the store: rules round-trip, explicit and selector assignment, the opt-out tag,
one schedule per instance (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from dbsnooze.context import Context
from dbsnooze.domain import AuthMethod, Credentials, DiscoveredInstance, Provider
from dbsnooze.errors import Conflict, NotFound, Unprocessable
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store import schedules
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Selector, Settings
from dbsnooze.store.tables import InstanceRow, ScheduleAssignmentRow

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
NIGHTS = ScheduleSpec("Europe/Berlin", (Window((0, 1, 2, 3, 4), time(19), time(7)),))
WEEKEND = ScheduleSpec("Europe/Berlin", (Window((4,), time(19), time(7), span_days=2),))


def db(
    name: str, engine: str = "postgres", region: str = "eu-west-1", **tags: str
) -> DiscoveredInstance:
    return DiscoveredInstance(name, region, engine, "16", "db.t3.micro", "available", tags, None)


def fleet(ctx: Context, *found: DiscoveredInstance) -> dict[str, int]:
    keys = Credentials(AuthMethod.DEFAULT_CHAIN)
    new = NewAccount(Provider.AWS, "main", ("eu-west-1",), keys, None, None)
    with transaction(ctx.sessions) as session:
        account = account_store.add(session, ctx.box, new, NOW)
        instance_store.sync_region(session, (account.id, "aws"), "eu-west-1", found, NOW)
        rows = session.scalars(select(InstanceRow))
        return {row.provider_id: row.id for row in rows}


def create(ctx: Context, name: str, settings: Settings, ids: tuple[int, ...] = ()) -> int:
    with transaction(ctx.sessions) as session:
        return schedules.create(session, name, settings, "alice", NOW, ids).id


def test_a_schedule_keeps_its_rules_and_flags(ctx: Context) -> None:
    spec = ScheduleSpec(
        "America/New_York",
        (Window((4,), time(19), time(7), span_days=2), Window((0, 2), time(22, 30), time(6))),
        sleep_cron="0 20 * * 1-5",
        wake_cron="0 6 * * 1-5",
        skip_dates=(date(2026, 12, 24), date(2026, 12, 31)),
        holidays_country="US",
        holidays_subdivision="NY",
    )
    schedule_id = create(ctx, "nights", Settings(spec, enforce=True, grace_minutes=45))
    with ctx.sessions() as session:
        row = schedules.require(session, schedule_id)
        assert schedules.spec_of(row) == spec
        assert (row.enabled, row.dry_run, row.enforce, row.guard_grace_minutes) == (
            True, True, True, 45,
        )  # fmt: skip
        assert row.windows[0] == {"days": [4], "sleep": "19:00", "wake": "07:00", "span_days": 2}
        assert (row.created_by, row.created_at) == ("alice", NOW)


def test_invalid_rules_and_duplicate_names_are_refused(ctx: Context) -> None:
    create(ctx, "nights", Settings(NIGHTS))
    with pytest.raises(Conflict) as taken, transaction(ctx.sessions) as session:
        schedules.create(session, "nights", Settings(WEEKEND), "alice", NOW)
    assert taken.value.code == "schedule_name_taken"
    bad = ScheduleSpec("Europe/Berlin", holidays_country="DE", holidays_subdivision="XX")
    with pytest.raises(Unprocessable) as refused, transaction(ctx.sessions) as session:
        schedules.create(session, "bad", Settings(bad), "alice", NOW)
    assert refused.value.code == "unknown_holiday_subdivision"
    with ctx.sessions() as session:
        assert [row.name for row in schedules.listing(session)] == ["nights"]


def test_explicit_and_selector_assignment_resolve_to_one_schedule_each(ctx: Context) -> None:
    ids = fleet(
        ctx,
        db("shop-dev", team="shop"),
        db("shop-test", team="shop"),
        db("shop-prod", team="shop", **{"dbsnooze:schedule": "off"}),
        db("billing-dev", engine="mysql"),
        db("lonely"),
    )
    shop = create(ctx, "shop", Settings(NIGHTS, selector=Selector(tags={"team": "shop"})))
    mine = create(ctx, "billing", Settings(WEEKEND, dry_run=False), (ids["billing-dev"],))
    create(ctx, "nobody", Settings(WEEKEND))  # empty selector, nothing explicit: matches none
    with ctx.sessions() as session:
        found = schedules.assignments(session)
        assert {i: a.schedule_id for i, a in found.items()} == {
            ids["shop-dev"]: shop,
            ids["shop-test"]: shop,
            ids["billing-dev"]: mine,
        }  # shop-prod opted out, lonely unassigned
        billing = found[ids["billing-dev"]]
        assert (billing.name, billing.spec, billing.dry_run, billing.enabled) == (
            "billing", WEEKEND, False, True,
        )  # fmt: skip
        assert billing.grace_minutes == 30 and not billing.enforce
        assert schedules.assignments(session, [ids["shop-dev"], ids["lonely"]]).keys() == {
            ids["shop-dev"]
        }


def test_selectors_match_on_every_field_given(ctx: Context) -> None:
    ids = fleet(ctx, db("web-dev-1"), db("web-dev-2", engine="mysql"), db("api-dev"))
    pattern = Selector(name_pattern="web-*", engine="postgres")
    schedule_id = create(ctx, "web", Settings(NIGHTS, selector=pattern))
    with ctx.sessions() as session:
        assert set(schedules.assignments(session)) == {ids["web-dev-1"]}
    other_region = Selector(region="us-east-1")
    with transaction(ctx.sessions) as session:
        schedules.update(session, schedule_id, NOW, selector=other_region)
    with ctx.sessions() as session:
        assert schedules.assignments(session) == {}


def test_a_write_giving_an_instance_a_second_schedule_names_both(ctx: Context) -> None:
    ids = fleet(ctx, db("shop-dev", team="shop"), db("other"))
    create(ctx, "shop", Settings(NIGHTS, selector=Selector(tags={"team": "shop"})))
    with pytest.raises(Conflict) as twice, transaction(ctx.sessions) as session:
        schedules.create(session, "weekend", Settings(WEEKEND), "bob", NOW, [ids["shop-dev"]])
    assert twice.value.code == "schedule_conflict"
    assert "'shop-dev'" in twice.value.message
    assert "'shop'" in twice.value.message and "'weekend'" in twice.value.message
    weekend = create(ctx, "weekend", Settings(WEEKEND), (ids["other"],))
    with pytest.raises(Conflict), transaction(ctx.sessions) as session:
        schedules.update(session, weekend, NOW, selector=Selector(name_pattern="*"))
    with pytest.raises(Conflict) as explicit, transaction(ctx.sessions) as session:
        schedules.assign(session, weekend, [ids["shop-dev"]])
    assert explicit.value.extra["instance_id"] == ids["shop-dev"]
    with ctx.sessions() as session:  # nothing of the refused writes stayed
        assert schedules.explicit_instances(session, weekend) == [ids["other"]]
        assert schedules.conflicts(session) == []


def test_an_instance_discovered_later_in_two_selectors_is_shown_never_assigned(
    ctx: Context,
) -> None:
    ids = fleet(ctx, db("seed"))
    by_team = create(ctx, "team", Settings(NIGHTS, selector=Selector(tags={"team": "shop"})))
    by_engine = create(ctx, "mysql", Settings(WEEKEND, selector=Selector(engine="mysql")))
    with transaction(ctx.sessions) as session:
        account_id = session.get(InstanceRow, ids["seed"]).account_id  # type: ignore[union-attr]
        found = [db("seed"), db("shop-mysql", engine="mysql", team="shop")]
        instance_store.sync_region(session, (account_id, "aws"), "eu-west-1", found, NOW)
    with ctx.sessions() as session:
        both = session.scalar(select(InstanceRow.id).where(InstanceRow.provider_id == "shop-mysql"))
        assert both is not None
        assert schedules.assignments(session) == {}
        (conflict,) = schedules.conflicts(session)
        assert (conflict.instance_id, conflict.schedule_ids) == (both, (by_team, by_engine))
        assert conflict.schedule_names == ("team", "mysql")
    with transaction(ctx.sessions) as session:  # an unrelated edit is not blocked by it
        schedules.update(session, by_team, NOW, dry_run=False, name="team shop")


def test_assignments_go_with_their_schedule_or_instance(ctx: Context) -> None:
    ids = fleet(ctx, db("a"), db("b"))
    schedule_id = create(ctx, "nights", Settings(NIGHTS), (ids["a"], ids["b"]))
    with transaction(ctx.sessions) as session:
        assert schedules.unassign(session, schedule_id, [ids["b"], 999]) == [ids["b"]]
        assert schedules.assign(session, schedule_id, [ids["a"], ids["b"]]) == [ids["b"]]
        with pytest.raises(NotFound):
            schedules.assign(session, schedule_id, [999])
    with transaction(ctx.sessions) as session:
        schedules.set_dry_run(session, schedule_id, False, NOW)
    with ctx.sessions() as session:
        assert {a.dry_run for a in schedules.assignments(session).values()} == {False}
    with transaction(ctx.sessions) as session:
        schedules.remove(session, schedule_id)
    with ctx.sessions() as session:
        assert session.scalars(select(ScheduleAssignmentRow)).all() == []
        with pytest.raises(NotFound):
            schedules.require(session, schedule_id)
