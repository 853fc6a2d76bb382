"""The reconciler driven by overrides, against moto over HTTP behind the stateful RDS layer: one
call per change, transitions waited out, expiry, eligibility, dry run, retries."""

from __future__ import annotations

from datetime import time, timedelta

from dbsnooze.schedules import reconcile
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import overrides, schedules
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Settings
from reconhelp import World

MINUTE = timedelta(minutes=1)


def _override(world: World, instance_id: int, state: str, minutes: int) -> None:
    now = world.clock()
    with transaction(world.ctx.sessions) as session:
        overrides.put(session, instance_id, state, now + minutes * MINUTE, "user:ann", now)


def _passes(world: World, count: int, step: timedelta = MINUTE) -> None:
    for _ in range(count):
        reconcile.run_pass(world.ctx, "w1")
        world.clock.advance(step)


def test_a_sleep_override_stops_once_waits_out_stopping_and_wakes_when_it_ends(
    world: World,
) -> None:
    db = world.instance("app")
    _override(world, db, "asleep", 30)

    _passes(world, 10)  # the stop, then 4 minutes of `stopping`, then asleep

    assert world.calls() == ["StopDBInstance:app"]
    assert world.status("app") == "stopped"
    assert [(a.kind, a.state, a.actor) for a in world.actions(db)] == [("stop", "done", "user:ann")]
    world.clock.advance(21 * MINUTE)  # past the override's end
    _passes(world, 2)

    assert world.calls() == ["StopDBInstance:app", "StartDBInstance:app"]
    assert world.status("app") == "starting"
    assert ("override.expired", "reconciler", "") in world.events("override.")
    assert [e[:2] for e in world.events()] == [
        ("action.done", "user:ann"),
        ("action.done", "user:ann"),
    ]


def test_a_sleep_override_ends_with_a_start_even_when_the_schedule_is_in_dry_run(
    world: World,
) -> None:
    db = world.instance("dev")  # follows a dry-run schedule whose window does not hold now
    nights = Settings(ScheduleSpec("UTC", (Window(tuple(range(7)), time(1), time(2)),)))
    with transaction(world.ctx.sessions) as session:
        schedules.create(session, "nights", nights, "user:ann", world.clock(), (db,))
    _override(world, db, "asleep", 10)
    _passes(world, 6)
    assert world.status("dev") == "stopped"
    world.clock.advance(10 * MINUTE)  # the override ends: the person's stop is undone
    _passes(world, 2)

    assert world.calls() == ["StopDBInstance:dev", "StartDBInstance:dev"]
    assert [(a.kind, a.state) for a in world.actions(db)] == [("stop", "done"), ("start", "done")]


def test_an_ineligible_instance_is_never_called_and_its_reason_is_recorded_once(
    world: World,
) -> None:
    replica = world.instance("reader", replica_source="app", replica=True)
    _override(world, replica, "asleep", 60)

    _passes(world, 3)

    assert world.calls() == []
    (skipped,) = world.actions(replica)
    assert skipped.state == "skipped"
    assert (
        skipped.reason == "cannot be stopped: a read replica cannot be stopped (it replicates app)"
    )


def test_global_dry_run_records_what_it_would_do_and_calls_nothing(world: World) -> None:
    world.ctx.settings = world.ctx.settings.model_copy(update={"dry_run": True})
    db = world.instance("app")
    _override(world, db, "asleep", 60)

    _passes(world, 3)

    assert world.calls() == []
    assert [(a.state, a.reason[:10]) for a in world.actions(db)] == [("dry_run", "would stop")]


def test_a_failed_stop_is_retried_with_backoff_and_done_once(world: World) -> None:
    db = world.instance("app")
    _override(world, db, "asleep", 60)
    world.proxy.inject(None, "503", "503")  # the describe passes; both attempts of the stop fail

    reconcile.run_pass(world.ctx, "w1")
    (action,) = world.actions(db)
    assert (action.state, action.attempts, action.error_code) == ("planned", 1, "cloud_error")
    assert action.next_attempt_at == world.clock() + MINUTE
    world.clock.advance(30 * timedelta(seconds=1))
    reconcile.run_pass(world.ctx, "w1")  # not due yet: nothing sent
    assert len(world.proxy.forwarded("StopDBInstance")) == 0
    world.clock.advance(MINUTE)
    reconcile.run_pass(world.ctx, "w1")

    assert world.calls() == ["StopDBInstance:app"]
    assert [(a.state, a.attempts) for a in world.actions(db)] == [("done", 2)]
    assert [e[0] for e in world.events()] == ["action.retry", "action.done"]


def test_a_pending_retry_made_moot_by_dry_run_is_superseded_not_left_open(world: World) -> None:
    db = world.instance("app")
    _override(world, db, "asleep", 60)
    world.proxy.inject(None, "503", "503")
    reconcile.run_pass(world.ctx, "w1")
    world.ctx.settings = world.ctx.settings.model_copy(update={"dry_run": True})
    world.clock.advance(2 * MINUTE)

    reconcile.run_pass(world.ctx, "w1")

    assert world.calls() == []
    assert [(a.state, a.reason.split(":")[0]) for a in world.actions(db)] == [
        ("skipped", "superseded"),
        ("dry_run", "would stop"),
    ]
