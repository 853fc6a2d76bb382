"""Two workers deciding about one instance at once on PostgreSQL (READ COMMITTED): its open
action, its override, its schedule (see racehelp). A reconciler pass and a person's override
pass may run together, and a slow pass may overlap the next worker's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.analysis import decisions, runner
from dbsnooze.context import Context
from dbsnooze.demo.fleet import FLEET
from dbsnooze.errors import Conflict
from dbsnooze.schedules.act import Item, carry_out
from dbsnooze.schedules.decide import STOP, Decision, Source, Verdict, Want
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import accounts as account_store
from dbsnooze.store import actions, overrides, recommendations, schedules
from dbsnooze.store import instances as instance_store
from dbsnooze.store.actions import NewAction, State
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Selector, Settings
from dbsnooze.store.tables import ActionRow, InstanceRow, ScheduleRow
from fleethelp import seed_store
from racehelp import overlapping
from schedhelp import NOW, db, fleet

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("store_url", ["postgres"], indirect=True),  # skipped without one
]
LEASE = timedelta(minutes=2)
NIGHTS = ScheduleSpec("Europe/Berlin", (Window((0, 1, 2, 3, 4), time(19), time(7)),))
WEEKEND = ScheduleSpec("Europe/Berlin", (Window((4,), time(19), time(7), span_days=2),))
WINDOW = Want(True, Source.SCHEDULE, "schedule:1", schedule_id=1, grace=timedelta(0))


@pytest.fixture()
def planned(ctx: Context) -> tuple[Item, int]:
    """An instance with a planned stop, due now: what a pass would carry out, and its id."""
    ctx.clock = lambda: NOW
    instance_id = fleet(ctx, db("orders-db"))["orders-db"]
    with transaction(ctx.sessions) as session:
        new = NewAction(instance_id, STOP, State.PLANNED, "window", "schedule:1", 1)
        row = actions.add(session, new, NOW)
        assert row is not None
        action_id = row.id
    with ctx.sessions() as session:
        found = session.get(InstanceRow, instance_id)
        assert found is not None
        account = account_store.get(session, found.account_id)
        assert account is not None
        item = Item(
            instance_id=instance_id,
            name=found.provider_id,
            account=account_store.to_domain(account, ctx.box),
            provider=found.provider,
            unit=instance_store.power_unit(found),
            want=WINDOW,
            ineligible=None,
            open=session.get(ActionRow, action_id),
            last_done=None,
            held=frozenset(),
        )
    return item, action_id


def _claim_as_w1(action_id: int) -> Callable[[Session], None]:
    def claim(session: Session) -> None:
        assert actions.claim(session, action_id, "w1", NOW, LEASE)

    return claim


def _action(ctx: Context, action_id: int) -> tuple[str, str | None]:
    with ctx.sessions() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        return row.state, row.lease_owner


def test_a_pass_cancelling_an_action_another_worker_claims_leaves_it_to_that_worker(
    ctx: Context, planned: tuple[Item, int]
) -> None:
    """A person's keep-awake pass finds the stop no longer wanted while the reconciler claims
    it: the cancel reads the action after the claim and leaves it in flight, so the stop that
    reaches the cloud is recorded by the worker that made it."""
    item, action_id = planned
    moot = Decision(Verdict.NOTHING, "running, as wanted", cancel_open="no longer needed")

    overlapping(ctx, _claim_as_w1(action_id), lambda: carry_out(ctx, "w2", item, moot, None))

    assert _action(ctx, action_id) == ("in_flight", "w1")


def test_a_stop_guard_skip_never_overwrites_another_workers_claim(
    ctx: Context, planned: tuple[Item, int]
) -> None:
    """One pass finds the instance busy past its grace and would skip the window while another
    claims the stop: the skip reads the action after the claim and leaves it to that worker."""
    item, action_id = planned
    stop = Decision(Verdict.ACT, "schedule nights: sleep window", STOP, guard=True)
    busy = "active in the last 15 minutes (cpu)"

    result = overlapping(
        ctx, _claim_as_w1(action_id), lambda: carry_out(ctx, "w2", item, stop, busy)
    )

    assert result == "lost"
    assert _action(ctx, action_id) == ("in_flight", "w1")


def test_two_overrides_of_one_instance_at_once_the_later_wins(ctx: Context) -> None:
    instance_id = fleet(ctx, db("orders-db"))["orders-db"]

    def asleep(session: Session) -> None:
        overrides.put(session, instance_id, "asleep", NOW + LEASE, "user:ann", NOW)

    def awake() -> None:
        with transaction(ctx.sessions) as session:
            overrides.put(session, instance_id, "awake", NOW + 2 * LEASE, "user:bob", NOW)

    overlapping(ctx, asleep, awake)

    with ctx.sessions() as session:
        found = overrides.get(session, instance_id, NOW)
    assert found is not None and (found.state, found.created_by) == ("awake", "user:bob")


def test_an_override_set_again_as_its_predecessor_expires_is_kept(ctx: Context) -> None:
    """The reconciler drops the ended override while a person sets a new one on the instance:
    the drop reads the row after the new one is committed, and keeps it."""
    instance_id = fleet(ctx, db("orders-db"))["orders-db"]
    with transaction(ctx.sessions) as session:
        overrides.put(session, instance_id, "asleep", NOW - LEASE, "user:ann", NOW - 2 * LEASE)

    def again(session: Session) -> None:
        overrides.put(session, instance_id, "awake", NOW + LEASE, "user:bob", NOW)

    def expire() -> list[overrides.Override]:
        with transaction(ctx.sessions) as session:
            return overrides.expire(session, NOW)

    assert overlapping(ctx, again, expire) == []
    with ctx.sessions() as session:
        found = overrides.get(session, instance_id, NOW)
    assert found is not None and found.created_by == "user:bob"


def test_two_schedules_given_one_instance_at_once_are_a_conflict(ctx: Context) -> None:
    """One schedule's selector matches the instance while another is given it by name: the
    second write checks "one schedule per instance" after the first committed, and is refused
    naming both."""
    instance_id = fleet(ctx, db("shop-dev", team="shop"))["shop-dev"]
    with transaction(ctx.sessions) as session:
        billing = schedules.create(session, "billing", Settings(WEEKEND), "bob", NOW).id
    by_tag = Settings(NIGHTS, selector=Selector(tags={"team": "shop"}))

    def shop(session: Session) -> None:
        schedules.create(session, "shop", by_tag, "ann", NOW)

    def assign() -> None:
        with transaction(ctx.sessions) as session:
            schedules.assign(session, billing, [instance_id])

    with pytest.raises(Conflict) as refused:
        overlapping(ctx, shop, assign)
    assert refused.value.code == "schedule_conflict"
    assert sorted(refused.value.extra["schedule_names"]) == ["billing", "shop"]
    with ctx.sessions() as session:
        assert schedules.explicit_instances(session, billing) == []


def test_a_recommendation_applied_twice_at_once_makes_one_schedule(ctx: Context) -> None:
    """A double click: the second apply finds the schedule the first made, and updates it."""
    dev = next(i for i in FLEET if i.identifier == "dev-alice-pg")
    instance_id = seed_store(ctx, NOW, fleet=(dev,))[dev.identifier]
    runner.recompute(ctx, [instance_id])
    with ctx.sessions() as session:
        found = recommendations.of_instance(session, instance_id)
        assert found is not None and found.kind == "sleep"
        recommendation_id = found.id

    def apply(session: Session) -> None:
        decisions.apply(session, recommendation_id, "ann", NOW)

    def again() -> None:
        with transaction(ctx.sessions) as session:
            decisions.apply(session, recommendation_id, "bob", NOW)

    overlapping(ctx, apply, again)

    with ctx.sessions() as session:
        names = session.scalars(select(ScheduleRow.name)).all()
        followed = schedules.assignments(session, [instance_id])
    assert names == ["sleep: dev-alice-pg"]
    assert instance_id in followed
