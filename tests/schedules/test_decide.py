"""The reconciler's decisions from plain values (no cloud, no store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dbsnooze.domain import Power
from dbsnooze.schedules.decide import Done, Facts, OpenAction, Source, Verdict, Want, decide

NOW = datetime(2026, 11, 18, 21, tzinfo=UTC)
WINDOW = Want(
    True,
    Source.SCHEDULE,
    "schedule:1",
    until=NOW + timedelta(hours=10),
    since=NOW - timedelta(hours=2),
    schedule_id=1,
    schedule_name="nights",
)
DAY = Want(False, Source.SCHEDULE, "schedule:1", schedule_id=1, schedule_name="nights")


def facts(actual: Power, **extra: object) -> Facts:
    return Facts(NOW, actual, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("actual", [Power.STOPPING, Power.STARTING, Power.BUSY])
def test_transitional_states_are_waited_out(actual: Power) -> None:
    assert decide(WINDOW, facts(actual)).verdict is Verdict.WAIT


def test_a_window_stops_a_running_instance_behind_the_guard() -> None:
    found = decide(WINDOW, facts(Power.AWAKE))
    assert (found.verdict, found.kind, found.guard) == (Verdict.ACT, "stop", True)


def test_a_start_by_someone_within_the_window_is_kept_until_it_ends() -> None:
    ours = Done("stop", NOW - timedelta(hours=1), "schedule:1")
    found = decide(WINDOW, facts(Power.AWAKE, last_done=ours))
    assert found.verdict is Verdict.SKIP and found.hold_until == WINDOW.until
    assert found.reason.startswith("manual start, kept awake until 2026-11-19T07:00")


def test_a_stop_in_an_earlier_window_does_not_make_a_start_manual() -> None:
    earlier = Done("stop", NOW - timedelta(days=1), "schedule:1")
    assert decide(WINDOW, facts(Power.AWAKE, last_done=earlier)).verdict is Verdict.ACT


def test_running_7_days_after_our_stop_is_the_clouds_restart() -> None:
    always = Want(True, Source.SCHEDULE, "schedule:1")
    week = Done("stop", NOW - timedelta(days=7), "schedule:1")
    found = decide(always, facts(Power.AWAKE, last_done=week))
    assert found.verdict is Verdict.ACT and "7 days" in found.reason


def test_a_schedule_starts_only_what_dbsnooze_stopped_unless_it_enforces() -> None:
    assert decide(DAY, facts(Power.ASLEEP)).verdict is Verdict.NOTHING
    ours = Done("stop", NOW - timedelta(hours=9), "schedule:1")
    assert decide(DAY, facts(Power.ASLEEP, last_done=ours)).verdict is Verdict.ACT
    enforced = Want(False, Source.SCHEDULE, "schedule:1", enforce=True)
    assert decide(enforced, facts(Power.ASLEEP)).verdict is Verdict.ACT


def test_ineligible_is_skipped_once_then_held() -> None:
    first = decide(WINDOW, facts(Power.AWAKE, ineligible="a read replica cannot be stopped"))
    assert first.verdict is Verdict.SKIP
    held = facts(Power.AWAKE, ineligible="x", held=frozenset({"stop"}))
    assert decide(WINDOW, held).verdict is Verdict.NOTHING


def test_dry_run_would_act_and_holds() -> None:
    dry = Want(True, Source.OVERRIDE, "user:ann", until=NOW + timedelta(hours=1), dry_run=True)
    found = decide(dry, facts(Power.AWAKE))
    assert found.verdict is Verdict.WOULD and found.reason.startswith("would stop: override")


def test_an_orphaned_in_flight_action_that_took_effect_is_complete() -> None:
    orphan = OpenAction(7, "stop", in_flight=True, lease_alive=False, due=True, created_at=NOW)
    assert decide(WINDOW, facts(Power.STOPPING, open=orphan)).verdict is Verdict.COMPLETE
    alive = OpenAction(7, "stop", in_flight=True, lease_alive=True, due=True, created_at=NOW)
    assert decide(WINDOW, facts(Power.AWAKE, open=alive)).verdict is Verdict.WAIT


def test_an_open_action_no_longer_needed_is_cancelled() -> None:
    planned = OpenAction(7, "stop", in_flight=False, lease_alive=False, due=False, created_at=NOW)
    found = decide(DAY, facts(Power.AWAKE, open=planned))
    assert found.verdict is Verdict.NOTHING and found.cancel_open is not None
