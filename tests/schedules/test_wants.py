"""What each scheduled instance's schedule wants now: its own schedule's wish, worked out once
per schedule however many instances follow it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import time, timedelta

from dbsnooze.context import Context
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.schedules.wants import schedule_wants, want_of
from dbsnooze.store import schedules
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Settings
from schedhelp import NOW, db, fleet

NIGHTS = ScheduleSpec("Europe/Berlin", (Window((0, 1, 2, 3, 4), time(19), time(7)),))
AFTERNOONS = ScheduleSpec("UTC", (Window(tuple(range(7)), time(13), time(16)),))


def test_every_instance_gets_its_own_schedules_wish_and_disabled_ones_want_nothing(
    ctx: Context,
) -> None:
    ids = fleet(ctx, *(db(f"db-{i}") for i in range(7)))
    night, day, off = ([ids[f"db-{i}"] for i in part] for part in ((0, 1, 2), (3, 4, 5), (6,)))
    with transaction(ctx.sessions) as session:
        schedules.create(session, "nights", Settings(NIGHTS), "ann", NOW, night)
        schedules.create(
            session, "afternoons", Settings(AFTERNOONS, grace_minutes=5), "ann", NOW, day
        )
        schedules.create(session, "off", Settings(AFTERNOONS, enabled=False), "ann", NOW, off)

    with ctx.sessions() as session:
        found = schedule_wants(session, NOW)
        some = schedule_wants(session, NOW, [night[0], day[0], off[0]])
        expected = {
            i: want_of(a, NOW) for i, a in schedules.assignments(session).items() if a.enabled
        }

    assert found == expected and set(found) == {*night, *day}
    assert some == {i: expected[i] for i in (night[0], day[0])}
    assert [found[i].asleep for i in (night[0], day[0])] == [False, True]  # 15:23 in Berlin
    assert found[day[1]].grace == timedelta(minutes=5)
    assert found[day[1]].until == NOW.replace(hour=16, minute=0)
