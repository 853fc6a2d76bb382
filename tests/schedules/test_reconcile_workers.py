"""No instance acted on twice: two reconcilers on one store, and a worker that dies mid-action."""

from __future__ import annotations

import threading
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import event

from dbsnooze.context import build_context
from dbsnooze.domain import PowerUnit
from dbsnooze.providers.registry import provider
from dbsnooze.schedules import reconcile
from dbsnooze.store import accounts as account_store
from dbsnooze.store import actions, leases, overrides
from dbsnooze.store.actions import NewAction, State
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import LeaseRow
from reconhelp import REGION, World

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def _sleep_override(world: World, instance_id: int) -> None:
    now = world.clock()
    with transaction(world.ctx.sessions) as session:
        overrides.put(session, instance_id, "asleep", now + 60 * MINUTE, "user:ann", now)


def test_two_reconcilers_at_once_on_one_store_call_the_cloud_once(world: World) -> None:
    db = world.instance("app")
    _sleep_override(world, db)
    other = build_context(world.ctx.settings, world.clock)
    world.proxy.hold(("DescribeDBInstances",))  # both passes read power, then race to act
    results: dict[str, object] = {}

    def run(name: str, ctx: object) -> None:
        results[name] = reconcile.run_pass(ctx, name)  # type: ignore[arg-type]

    threads = [
        threading.Thread(target=run, args=("w1", world.ctx)),
        threading.Thread(target=run, args=("w2", other)),
    ]
    try:
        for thread in threads:
            thread.start()
        world.proxy.wait_held(2)
        world.proxy.release()
        for thread in threads:
            thread.join(60)
    finally:
        other.close()

    assert world.calls() == ["StopDBInstance:app"]
    assert [(a.kind, a.state) for a in world.actions(db)] == [("stop", "done")]


def test_with_the_lease_only_one_of_two_ticks_runs(world: World) -> None:
    db = world.instance("app")
    _sleep_override(world, db)

    first = reconcile.tick(world.ctx, "w1")
    second = reconcile.tick(world.ctx, "w2")

    assert first is not None and second is None
    assert world.calls() == ["StopDBInstance:app"]


def test_a_pass_that_outlived_its_lease_stops_before_acting(world: World) -> None:
    db = world.instance("app")
    _sleep_override(world, db)
    world.proxy.hold(("DescribeDBInstances",))  # w1's pass is slow: its power read hangs
    found: list[reconcile.PassReport | None] = []
    slow = threading.Thread(target=lambda: found.append(reconcile.tick(world.ctx, "w1")))
    slow.start()
    world.proxy.wait_held(1)
    world.clock.advance(2 * MINUTE)  # w1's lease ran out; the next worker's tick took it
    now = world.clock()
    with transaction(world.ctx.sessions) as session:
        assert leases.acquire(session, reconcile.LEASE, "w2", now, now + MINUTE)
    world.proxy.release()
    slow.join(60)

    report = found[0]
    assert report is not None and report.outcomes == []
    assert report.errors == ["the reconciler lease ran out mid-pass: another worker goes on"]
    assert world.calls() == [] and world.actions(db) == []


def _stops_held_while_the_clock_moves(
    world: World, count: int, step: timedelta
) -> reconcile.PassReport | None:
    """A tick by w1 whose StopDBInstance requests each take `step` of the clock; its report."""
    world.proxy.hold(("StopDBInstance",))
    found: list[reconcile.PassReport | None] = []
    slow = threading.Thread(target=lambda: found.append(reconcile.tick(world.ctx, "w1")))
    slow.start()
    stops = world.proxy.forwarded
    for done in range(1, count + 1):
        world.proxy.wait_held(1)
        world.clock.advance(step)
        world.proxy.pass_held()  # and wait until it went on, lest the clock move on before
        world.proxy.wait_for(lambda n=done: len(stops("StopDBInstance")) >= n, 30, "the stop")
    world.proxy.release()
    slow.join(60)
    return found[0]


def test_a_slow_pass_keeps_renewing_its_lease_so_no_other_tick_starts(world: World) -> None:
    names = ("a", "b", "c")
    for name in names:
        _sleep_override(world, world.instance(name))
    began = world.clock()

    report = _stops_held_while_the_clock_moves(world, 3, 30 * SECOND)

    assert report is not None and report.errors == []
    assert world.calls() == [f"StopDBInstance:{name}" for name in names]
    with world.ctx.sessions() as session:
        lease = session.get(LeaseRow, reconcile.LEASE)
        assert lease is not None and lease.owner == "w1"
        # renewed before the 3rd stop, 60 s in: held 54 s from there, as before each action
        assert lease.expires_at.replace(tzinfo=UTC) == began + 114 * SECOND
    assert reconcile.tick(world.ctx, "w2") is None  # 90 s in: w1 still holds it


def test_a_pass_whose_lease_was_taken_between_two_actions_stops_there(world: World) -> None:
    first, second = world.instance("a"), world.instance("b")
    for db in (first, second):
        _sleep_override(world, db)
    world.proxy.hold(("StopDBInstance",))
    found: list[reconcile.PassReport | None] = []
    slow = threading.Thread(target=lambda: found.append(reconcile.tick(world.ctx, "w1")))
    slow.start()
    world.proxy.wait_held(1)  # the first stop hangs past the lease; w2's tick takes it
    world.clock.advance(2 * MINUTE)
    now = world.clock()
    with transaction(world.ctx.sessions) as session:
        assert leases.acquire(session, reconcile.LEASE, "w2", now, now + MINUTE)
    world.proxy.release()
    slow.join(60)

    report = found[0]
    assert report is not None and [o.result for o in report.outcomes] == ["done"]
    assert report.errors == ["the reconciler lease ran out mid-pass: another worker goes on"]
    assert world.calls() == ["StopDBInstance:a"] and world.actions(second) == []


def test_a_fast_pass_does_not_ask_the_store_for_its_lease_before_every_action(
    world: World,
) -> None:
    for name in ("a", "b", "c"):
        _sleep_override(world, world.instance(name))
    lease_writes: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE LEASES"):
            lease_writes.append(statement)

    event.listen(world.ctx.engine, "before_cursor_execute", seen)
    try:
        report = reconcile.tick(world.ctx, "w1")
    finally:
        event.remove(world.ctx.engine, "before_cursor_execute", seen)

    assert report is not None and [o.result for o in report.outcomes] == ["done"] * 3
    assert len(lease_writes) == 1  # the acquire; no renewal while the clock stood still


def _claimed_by_a_worker_that_dies(world: World, instance_id: int) -> None:
    now = world.clock()
    with transaction(world.ctx.sessions) as session:
        new = NewAction(instance_id, "stop", State.PLANNED, "override", "user:ann")
        row = actions.add(session, new, now)
        assert row is not None
        assert actions.claim(session, row.id, "w1", now, 2 * MINUTE)


def test_a_worker_killed_after_its_request_is_finished_by_another_without_a_second_call(
    world: World,
) -> None:
    db = world.instance("app")
    _sleep_override(world, db)
    _claimed_by_a_worker_that_dies(world, db)
    with world.ctx.sessions() as session:
        (row,) = account_store.all_rows(session)
        account = account_store.to_domain(row, world.ctx.box)
    provider(world.ctx, "aws").set_power(
        account, PowerUnit(REGION, "app"), awake=False
    )  # then dies

    reconcile.run_pass(world.ctx, "w2")  # w1's claim still holds: w2 waits
    assert len(world.proxy.forwarded("StopDBInstance")) == 1
    world.clock.advance(3 * MINUTE)
    reconcile.run_pass(world.ctx, "w2")

    assert world.calls() == ["StopDBInstance:app"]
    (action,) = world.actions(db)
    assert (action.state, action.attempts) == ("done", 1)
    assert world.events()[-1][0] == "action.done"


def test_a_worker_killed_before_its_request_leaves_the_stop_to_another_once(world: World) -> None:
    db = world.instance("app")
    _sleep_override(world, db)
    _claimed_by_a_worker_that_dies(world, db)

    world.clock.advance(3 * MINUTE)
    reconcile.run_pass(world.ctx, "w2")
    reconcile.run_pass(world.ctx, "w2")

    assert world.calls() == ["StopDBInstance:app"]
    (action,) = world.actions(db)
    assert (action.state, action.attempts) == ("done", 2)
