"""Schedule rules on plain values: windows, cron pair, holidays, skip dates, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dbsnooze.errors import Unprocessable
from dbsnooze.schedules.check import check, clock
from dbsnooze.schedules.rules import describe_window, desired_at, transitions
from dbsnooze.schedules.spec import ScheduleSpec, Window

WEEKDAYS = (0, 1, 2, 3, 4)
NIGHTS = Window(WEEKDAYS, time(19), time(7))  # Mon-Fri 19:00 -> next morning 07:00
WEEKEND = Window((4,), time(19), time(7), span_days=2)  # Friday 19:00 -> Monday 07:00


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def changes(spec: ScheduleSpec, start: datetime, days: int) -> list[tuple[datetime, bool]]:
    return [(t.at, t.asleep) for t in transitions(spec, start, start + timedelta(days=days))]


def test_a_window_runs_past_midnight_to_the_next_morning() -> None:
    spec = ScheduleSpec("UTC", (NIGHTS,))
    assert changes(spec, utc(2024, 6, 3), 2) == [
        (utc(2024, 6, 3, 19), True),
        (utc(2024, 6, 4, 7), False),
        (utc(2024, 6, 4, 19), True),
    ]
    night = desired_at(spec, utc(2024, 6, 4, 2))
    assert night.asleep and night.until == utc(2024, 6, 4, 7)
    assert night.since == utc(2024, 6, 3, 19)
    assert not desired_at(spec, utc(2024, 6, 4, 7)).asleep  # the wake minute is awake


def test_a_window_across_days_sleeps_the_weekend_friday_to_monday() -> None:
    spec = ScheduleSpec("UTC", (WEEKEND,))
    assert changes(spec, utc(2024, 6, 3), 8) == [
        (utc(2024, 6, 3, 7), False),  # the weekend before ends on Monday morning
        (utc(2024, 6, 7, 19), True),
        (utc(2024, 6, 10, 7), False),
    ]
    saturday = desired_at(spec, utc(2024, 6, 8, 12))
    assert saturday.asleep and saturday.until == utc(2024, 6, 10, 7)
    assert describe_window(WEEKEND) == "window Fri 19:00-Mon 07:00"


def test_a_same_day_window_with_span_days_and_overlapping_windows_merge() -> None:
    lunch = Window((2,), time(12), time(14))
    long_lunch = Window((2,), time(13), time(15))
    spec = ScheduleSpec("UTC", (lunch, long_lunch))
    assert changes(spec, utc(2024, 6, 3), 7) == [
        (utc(2024, 6, 5, 12), True),
        (utc(2024, 6, 5, 15), False),
    ]
    two_days = ScheduleSpec("UTC", (Window((0,), time(8), time(18), span_days=1),))
    assert changes(two_days, utc(2024, 6, 3), 7) == [
        (utc(2024, 6, 3, 8), True),
        (utc(2024, 6, 4, 18), False),
    ]


def test_the_window_is_read_in_the_schedules_zone() -> None:
    spec = ScheduleSpec("Europe/Berlin", (NIGHTS,))  # CEST = UTC+2 in June
    assert changes(spec, utc(2024, 6, 3), 1)[0] == (utc(2024, 6, 3, 17), True)
    assert transitions(spec, utc(2024, 6, 3), utc(2024, 6, 4))[0].reason == (
        "window Mon-Fri 19:00-07:00"
    )


def test_the_cron_pair_sleeps_from_a_sleep_fire_to_the_next_wake_fire() -> None:
    spec = ScheduleSpec("America/New_York", sleep_cron="0 19 * * 1-5", wake_cron="0 7 * * 1-5")
    # Friday 19:00 EDT sleeps until Monday 07:00 EDT: Saturday and Sunday have no wake fire.
    assert changes(spec, utc(2024, 6, 7), 4) == [
        (utc(2024, 6, 7, 11), False),
        (utc(2024, 6, 7, 23), True),
        (utc(2024, 6, 10, 11), False),
        (utc(2024, 6, 10, 23), True),
    ]
    sunday = desired_at(spec, utc(2024, 6, 9, 12))
    assert sunday.asleep and sunday.since == utc(2024, 6, 7, 23)
    assert sunday.until == utc(2024, 6, 10, 11)


def test_a_public_holiday_sleeps_the_whole_local_day_of_its_subdivision() -> None:
    # 2025-01-06, Epiphany, is a holiday in Bavaria (DE-BY) but not in Berlin (DE-BE).
    bavaria = ScheduleSpec(
        "Europe/Berlin", (NIGHTS,), holidays_country="DE", holidays_subdivision="BY"
    )
    berlin = ScheduleSpec(
        "Europe/Berlin", (NIGHTS,), holidays_country="DE", holidays_subdivision="BE"
    )
    noon = utc(2025, 1, 6, 11)
    assert desired_at(bavaria, noon).asleep
    assert not desired_at(berlin, noon).asleep
    # Bavaria: asleep since the weekend's Sunday midnight (local) until Monday 19:00 merges in.
    holiday = transitions(bavaria, utc(2025, 1, 5), utc(2025, 1, 8))
    assert (holiday[0].at, holiday[0].asleep) == (utc(2025, 1, 5, 23), True)
    assert holiday[0].reason == "holiday: Epiphany"
    assert (holiday[1].at, holiday[1].asleep) == (utc(2025, 1, 7, 6), False)
    # 2025-03-08, International Women's Day, is Berlin's and not Bavaria's.
    assert desired_at(berlin, utc(2025, 3, 8, 12)).asleep
    assert not desired_at(bavaria, utc(2025, 3, 8, 12)).asleep


def test_a_skip_date_keeps_the_whole_local_day_awake_over_holidays_and_windows() -> None:
    christmas = date(2025, 12, 25)
    spec = ScheduleSpec(
        "Europe/Berlin",
        (Window(tuple(range(7)), time(0), time(0)),),  # asleep all week
        skip_dates=(christmas,),
        holidays_country="DE",
    )
    assert changes(spec, utc(2025, 12, 24), 3) == [
        (utc(2025, 12, 24, 23), False),
        (utc(2025, 12, 25, 23), True),
    ]
    awake = transitions(spec, utc(2025, 12, 24), utc(2025, 12, 26))[0]
    assert awake.reason == "skip date 2025-12-25"
    assert desired_at(spec, utc(2025, 12, 26, 12)).asleep  # 26th: holiday and window


@pytest.mark.parametrize(
    ("zone", "day", "gap_end_utc"),
    [
        ("Europe/Berlin", date(2025, 3, 30), utc(2025, 3, 30, 1)),  # 02:00 -> 03:00 CEST
        ("America/New_York", date(2025, 3, 9), utc(2025, 3, 9, 7)),  # 02:00 -> 03:00 EDT
    ],
)
def test_a_sleep_time_in_the_spring_forward_gap_happens_when_the_gap_ends(
    zone: str, day: date, gap_end_utc: datetime
) -> None:
    spec = ScheduleSpec(zone, (Window((day.weekday(),), time(2, 30), time(6)),))
    start = datetime.combine(day, time(0), UTC) - timedelta(hours=6)
    (sleep, wake) = transitions(spec, start, start + timedelta(days=1))
    assert (sleep.at, sleep.asleep) == (gap_end_utc, True)
    assert wake.at - sleep.at == timedelta(hours=3)  # 03:00 -> 06:00 local


@pytest.mark.parametrize(
    ("zone", "day", "first_utc"),
    [
        ("Europe/Berlin", date(2025, 10, 26), utc(2025, 10, 26, 0, 30)),  # 02:30 CEST
        ("America/New_York", date(2025, 11, 2), utc(2025, 11, 2, 5, 30)),  # 01:30 EDT
    ],
)
def test_an_ambiguous_fall_back_time_happens_at_its_first_occurrence(
    zone: str, day: date, first_utc: datetime
) -> None:
    clock_time = time(first_utc.astimezone(ZONES[zone]).hour, 30)
    spec = ScheduleSpec(zone, (Window((day.weekday(),), clock_time, time(8)),))
    start = datetime.combine(day, time(0), UTC) - timedelta(hours=6)
    (sleep, wake) = transitions(spec, start, start + timedelta(days=1))
    assert sleep.at == first_utc
    # The repeated hour is slept once: 8 local hours after midnight take 9 real hours.
    assert wake.at == datetime.combine(day, time(8), ZONES[zone]).astimezone(UTC)


def test_a_night_window_keeps_its_wall_times_across_both_clock_changes() -> None:
    spec = ScheduleSpec("America/New_York", (Window(tuple(range(7)), time(22), time(6)),))
    spring = transitions(spec, utc(2025, 3, 8, 12), utc(2025, 3, 9, 12))
    assert [t.at for t in spring] == [utc(2025, 3, 9, 3), utc(2025, 3, 9, 10)]  # 7 hours
    autumn = transitions(spec, utc(2025, 11, 1, 12), utc(2025, 11, 2, 12))
    assert [t.at for t in autumn] == [utc(2025, 11, 2, 2), utc(2025, 11, 2, 11)]  # 9 hours


def test_the_cron_pair_follows_the_wall_clock_over_dst() -> None:
    spec = ScheduleSpec("Europe/Berlin", sleep_cron="30 2 * * *", wake_cron="0 5 * * *")
    spring = transitions(spec, utc(2025, 3, 29, 12), utc(2025, 3, 30, 12))
    assert [t.at for t in spring] == [utc(2025, 3, 30, 1), utc(2025, 3, 30, 3)]
    autumn = transitions(spec, utc(2025, 10, 25, 12), utc(2025, 10, 26, 12))
    assert [t.at for t in autumn] == [utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 4)]


def test_nothing_to_sleep_means_always_awake_with_no_transition() -> None:
    spec = ScheduleSpec("UTC")
    desired = desired_at(spec, utc(2024, 6, 3))
    assert (desired.asleep, desired.until, desired.since) == (False, None, None)
    assert transitions(spec, utc(2024, 6, 3), utc(2024, 6, 10)) == []


ZONES = {name: ZoneInfo(name) for name in ("Europe/Berlin", "America/New_York")}

SPECS = [
    ScheduleSpec(
        "Europe/Berlin", (NIGHTS, WEEKEND), holidays_country="DE", holidays_subdivision="BY"
    ),
    ScheduleSpec("America/New_York", (Window((1, 3), time(2, 30), time(1, 30)),)),
    ScheduleSpec(
        "Europe/Berlin",
        sleep_cron="15 2 * * 0,6",
        wake_cron="45 6 * * 1",
        skip_dates=(date(2025, 3, 30),),
    ),
]


@pytest.mark.parametrize(
    ("spec", "start"),
    [
        (SPECS[0], utc(2025, 3, 26)),  # Berlin springs forward on the 30th
        (SPECS[1], utc(2025, 10, 29)),  # New York falls back on 2 November
        (SPECS[2], utc(2025, 10, 22)),  # Berlin falls back on the 26th
        (SPECS[2], utc(2025, 3, 26)),
    ],
)
def test_transitions_over_a_week_match_the_state_desired_at_reports_each_minute(
    spec: ScheduleSpec, start: datetime
) -> None:
    end = start + timedelta(days=7)
    found = transitions(spec, start, end)
    assert found, "each spec changes state within the week"
    state = desired_at(spec, start - timedelta(minutes=1)).asleep
    pending = list(found)
    moment = start
    while moment < end:
        if pending and pending[0].at <= moment:
            assert pending[0].at == moment, "transitions fall on whole minutes"
            state = pending.pop(0).asleep
        desired = desired_at(spec, moment)
        assert desired.asleep == state, moment
        if pending:
            assert desired.until == pending[0].at, moment
        moment += timedelta(minutes=1)


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (ScheduleSpec("Mars/Olympus"), "unknown_timezone"),
        (ScheduleSpec("UTC", (Window((), time(1), time(2)),)), "window_without_days"),
        (ScheduleSpec("UTC", (Window((7,), time(1), time(2)),)), "bad_day"),
        (ScheduleSpec("UTC", (Window((1,), time(1), time(2), 7),)), "bad_span_days"),
        (ScheduleSpec("UTC", sleep_cron="0 19 * * *"), "half_cron_pair"),
        (ScheduleSpec("UTC", sleep_cron="0 19 * *", wake_cron="0 7 * * *"), "bad_cron"),
        (ScheduleSpec("UTC", sleep_cron="0 25 * * *", wake_cron="0 7 * * *"), "bad_cron"),
        (ScheduleSpec("UTC", holidays_country="XX"), "unknown_holiday_country"),
        (ScheduleSpec("UTC", holidays_subdivision="BY"), "unknown_holiday_country"),
        (
            ScheduleSpec("UTC", holidays_country="DE", holidays_subdivision="XX"),
            "unknown_holiday_subdivision",
        ),
    ],
)
def test_invalid_rules_are_refused_with_a_code(spec: ScheduleSpec, code: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        check(spec)
    assert refused.value.code == code


def test_valid_rules_pass_and_clock_times_parse_strictly() -> None:
    assert check(SPECS[0]) is SPECS[0]
    assert clock("07:05") == time(7, 5)
    for bad in ("7:05", "24:00", "07:60", "0705", " 07:05", "07:05:00"):
        with pytest.raises(Unprocessable) as refused:
            clock(bad)
        assert refused.value.code == "bad_time"
