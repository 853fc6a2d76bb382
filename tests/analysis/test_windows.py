"""Weekly patterns and sleep windows on plain values, with an injected clock and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dbsnooze.analysis.idle import HourClass
from dbsnooze.analysis.pattern import CELLS, weekly_pattern
from dbsnooze.analysis.windows import (
    SleepWindow,
    find_windows,
    hours_per_week,
    sleep_cells,
    windows_key,
)
from dbsnooze.analysis.zones import local_cells, week_label

IDLE, A, U, S = HourClass.IDLE, HourClass.ACTIVE, HourClass.UNKNOWN, HourClass.ASLEEP
MONDAY = datetime(2024, 6, 3, tzinfo=UTC)  # a Monday, no clock change nearby


def office_hours(cell: int) -> bool:
    """Busy Monday to Friday, 08:00 to 19:00."""
    day, hour = divmod(cell, 24)
    return day < 5 and 8 <= hour < 19


def week_of_office_hours() -> list[HourClass]:
    return [A if office_hours(cell) else IDLE for cell in range(CELLS)]


def test_office_hours_give_nights_and_one_weekend_window() -> None:
    cells = [not office_hours(cell) for cell in range(CELLS)]
    windows = find_windows(cells, min_hours=4, wake_lead_minutes=20)
    labels = [w.label for w in windows]
    assert labels == [
        "Mon 19:00 → Tue 07:40",
        "Tue 19:00 → Wed 07:40",
        "Wed 19:00 → Thu 07:40",
        "Thu 19:00 → Fri 07:40",
        "Fri 19:00 → Mon 07:40",  # across the weekend and Sunday midnight: one window
    ]
    assert hours_per_week(windows) == pytest.approx(4 * (13 - 1 / 3) + (61 - 1 / 3))


def test_a_window_running_past_sunday_midnight_joins_the_start_of_the_week() -> None:
    cells = [cell < 6 or cell >= CELLS - 4 for cell in range(CELLS)]  # Sun 20:00 → Mon 06:00
    [window] = find_windows(cells, min_hours=4, wake_lead_minutes=0)
    assert window.label == "Sun 20:00 → Mon 06:00"
    assert window.hours == 10
    assert window.segments() == ((10080 - 240, 10080), (0, 360))


def test_short_runs_are_not_worth_a_stop() -> None:
    cells = [False] * CELLS
    cells[12:15] = [True] * 3  # a 3-hour lunch break
    assert find_windows(cells, min_hours=4, wake_lead_minutes=20) == ()
    cells[15] = True
    assert len(find_windows(cells, min_hours=4, wake_lead_minutes=20)) == 1


def test_idle_all_week_is_one_window_from_monday() -> None:
    [window] = find_windows([True] * CELLS, min_hours=4, wake_lead_minutes=20)
    assert window.label == "Mon 00:00 → Sun 23:40"


def test_cells_need_the_confidence_share_of_their_weeks() -> None:
    weeks = [week_of_office_hours() for _ in range(4)]
    weeks[1][2 * 24 + 21] = A  # one Wednesday night at 21:00 someone worked
    pattern = weekly_pattern([c for w in weeks for c in w], list(range(CELLS)) * 4, 4)
    assert pattern.share(2 * 24 + 21) == 0.75
    cells = sleep_cells(pattern, 0.9)
    assert not cells[2 * 24 + 21] and cells[2 * 24 + 22]
    assert sleep_cells(pattern, 0.75)[2 * 24 + 21]


def test_unobserved_weeks_do_not_count_against_a_cell() -> None:
    week = week_of_office_hours()
    gap = [U] * CELLS
    pattern = weekly_pattern(gap + week + week + [S] * CELLS, list(range(CELLS)) * 4, 4)
    assert pattern.usable_weeks == 2 and pattern.enough
    assert pattern.share(0) == 1.0 and pattern.observed[0] == 2


def test_not_enough_history_says_how_much_there_is() -> None:
    week = week_of_office_hours()
    pattern = weekly_pattern(week[:120], list(range(48, CELLS)), 4)
    assert not pattern.enough
    assert pattern.shortfall() == "not enough history: 5 of 14 days"


def test_a_cell_seen_in_one_week_only_is_not_a_sleep_cell() -> None:
    pattern = weekly_pattern(week_of_office_hours(), list(range(CELLS)), 1)
    assert not any(sleep_cells(pattern, 0.9))


def test_windows_key_changes_with_the_windows() -> None:
    a, b = SleepWindow(0, 300), SleepWindow(600, 900)
    assert windows_key([b, a]) == windows_key([a, b]) != windows_key([a])


def test_overlap_of_an_hour_with_a_window_that_wraps() -> None:
    window = SleepWindow(10080 - 60, 40)  # Sun 23:00 → Mon 00:40
    assert window.overlap(10080 - 60, 60) == 60
    assert window.overlap(0, 60) == 40
    assert window.overlap(60, 60) == 0
    assert week_label(10080 + 61) == "Mon 01:01"


@pytest.mark.parametrize(
    ("zone", "start", "hours_in_day"),
    [
        ("Europe/Berlin", datetime(2024, 3, 30, 23, tzinfo=UTC), 23),  # clocks go forward
        ("Europe/Berlin", datetime(2024, 10, 26, 22, tzinfo=UTC), 25),  # clocks go back
        ("America/New_York", datetime(2024, 11, 3, 4, tzinfo=UTC), 25),
    ],
)
def test_dst_days_shift_no_cell(zone: str, start: datetime, hours_in_day: int) -> None:
    """The local day of a clock change has 23 or 25 UTC hours; 20:00 local stays cell 20."""
    cells = local_cells(start, hours_in_day + 24, zone)
    day = cells[0] // 24
    assert cells[0] == day * 24  # local midnight
    assert [c for c in cells if c // 24 == day][-1] == day * 24 + 23
    assert sum(1 for c in cells if c // 24 == day) == hours_in_day
    assert cells[hours_in_day] == ((day + 1) % 7) * 24  # the next local midnight
    assert cells[hours_in_day + 20] == ((day + 1) % 7) * 24 + 20


def test_a_dst_week_keeps_the_windows_of_the_weeks_around_it() -> None:
    """Office hours by the Berlin clock over four weeks around the spring change."""
    zone = "Europe/Berlin"
    start = datetime(2024, 3, 17, 23, tzinfo=UTC)  # Monday 00:00 CET
    hours = 4 * CELLS
    cells = local_cells(start, hours, zone)
    classes = [A if office_hours(c) else IDLE for c in cells]
    pattern = weekly_pattern(classes, cells, 4)
    windows = find_windows(sleep_cells(pattern, 0.9), 4, 20)
    assert [w.label for w in windows][-1] == "Fri 19:00 → Mon 07:40"
    assert len(windows) == 5
    assert start + timedelta(hours=hours) > datetime(2024, 3, 31, 1, tzinfo=UTC)


def test_the_zone_comes_from_the_tag_then_the_account_then_the_setting() -> None:
    from dbsnooze.analysis.zones import owner_zone

    tag = "dbsnooze:timezone"
    assert owner_zone({tag: "Asia/Tokyo"}, tag, "Europe/Berlin", "UTC").source == "tag"
    assert owner_zone({}, tag, "Europe/Berlin", "UTC").name == "Europe/Berlin"
    assert owner_zone({}, tag, None, "America/Chicago").source == "setting"
    bad = owner_zone({tag: "Mars/Olympus"}, tag, None, "UTC")
    assert (bad.name, bad.source) == ("UTC", "setting")
    assert bad.note is not None and "Mars/Olympus" in bad.note
    assert owner_zone({"tz": "Asia/Tokyo"}, "tz", None, "UTC").name == "Asia/Tokyo"
    assert owner_zone({}, tag, "../etc/passwd", "UTC").name == "UTC"
