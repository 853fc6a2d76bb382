from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from dbsnooze.collect.hours import backfill_window, live_window, missing, runs, split
from dbsnooze.domain import FINAL_DELAY, HOUR, HourRange, last_final_boundary


def at(hour: int, minute: int = 0, day: int = 18) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_final_delay_is_the_clouds_publishing_delay() -> None:
    assert timedelta(minutes=10) == FINAL_DELAY


@pytest.mark.parametrize(
    ("now", "boundary"),
    [
        (at(14, 23), at(14)),  # 13:00-14:00 ended 23 minutes ago: final
        (at(14, 5), at(13)),  # 13:00-14:00 ended 5 minutes ago: not yet
        (at(14, 10), at(13)),  # ended exactly 10 minutes ago: final only once MORE have passed
        (at(14, 10) + timedelta(microseconds=1), at(14)),
        (at(14, 11), at(14)),
        (at(0, 3), at(23, day=17)),
    ],
)
def test_last_final_boundary(now: datetime, boundary: datetime) -> None:
    assert last_final_boundary(now) == boundary


def test_backfill_window_is_exactly_the_final_hours_before_the_current_hour() -> None:
    window = backfill_window(at(14, 23), days=7)
    assert window == HourRange(at(14) - timedelta(days=7), at(14))
    assert window.hours == 7 * 24
    assert at(14) not in window  # the current hour belongs to live collection


def test_backfill_window_leaves_a_not_yet_final_hour_to_live_collection() -> None:
    window = backfill_window(at(14, 5), days=1)
    assert window == HourRange(at(13, day=17), at(13))
    assert at(13) in live_window(at(14, 5))


@pytest.mark.parametrize("days", [0, -1])
def test_backfill_window_needs_a_day(days: int) -> None:
    with pytest.raises(ValueError):
        backfill_window(at(14), days)


def test_live_window_is_the_current_hour_once_the_previous_is_final() -> None:
    assert live_window(at(14, 23)) == HourRange(at(14), at(15))


def test_live_window_includes_a_previous_hour_not_yet_final() -> None:
    assert live_window(at(14, 5)) == HourRange(at(13), at(15))


def test_live_window_refetches_an_hour_that_turned_final_since_the_last_tick() -> None:
    five_minutes = timedelta(minutes=5)
    assert live_window(at(14, 12), five_minutes) == HourRange(at(13), at(15))
    # the tick at 14:10 fetched 13:00-14:00 exactly 10 minutes after it ended: not final yet
    assert live_window(at(14, 15), five_minutes) == HourRange(at(13), at(15))
    assert live_window(at(14, 16), five_minutes) == HourRange(at(14), at(15))


@pytest.mark.parametrize("minute", range(0, 60, 5))
def test_backfill_and_live_windows_meet_without_gap_or_overlap(minute: int) -> None:
    now = at(9, minute)
    assert backfill_window(now, 3).end == live_window(now).start


def test_windows_are_utc_hours_whatever_the_clocks_zone() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    now = at(14, 23).astimezone(india)
    assert live_window(now) == HourRange(at(14), at(15))
    assert backfill_window(now, 1).end == at(14)


def test_runs_groups_contiguous_hours_in_order() -> None:
    hours = [at(5), at(1), at(2), at(3), at(2), at(7), at(6)]
    assert runs(hours) == [HourRange(at(1), at(4)), HourRange(at(5), at(8))]


def test_runs_of_nothing() -> None:
    assert runs([]) == []


def test_runs_refuses_a_moment_that_is_not_an_hour() -> None:
    with pytest.raises(ValueError):
        runs([at(1, 30)])


def test_missing_finds_the_runs_not_known() -> None:
    window = HourRange(at(0), at(10))
    known = {at(0), at(3), at(4), at(9), at(12)}
    assert missing(window, known) == [
        HourRange(at(1), at(3)),
        HourRange(at(5), at(9)),
    ]


def test_missing_everything_and_nothing() -> None:
    window = HourRange(at(0), at(6))
    assert missing(window, set()) == [window]
    assert missing(window, set(window)) == []


def test_split_cuts_consecutive_pieces() -> None:
    span = HourRange(at(0, day=1), at(0, day=1) + 3000 * HOUR)
    pieces = split(span, 1440)
    assert [piece.hours for piece in pieces] == [1440, 1440, 120]
    assert pieces[0].start == span.start and pieces[-1].end == span.end
    assert all(a.end == b.start for a, b in pairwise(pieces))


def test_split_exact_multiple_and_empty() -> None:
    span = HourRange(at(0), at(4))
    assert split(span, 2) == [HourRange(at(0), at(2)), HourRange(at(2), at(4))]
    assert split(span, 10) == [span]
    assert split(HourRange(at(0), at(0)), 5) == []
