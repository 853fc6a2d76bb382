"""A schedule's rules as plain values, as the reconciler and the preview read them.

`rules.py` answers from these alone (pure, DST-correct): whether a moment falls in a sleep
window, and the transitions over a span. The store converts its rows into these at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly sleep window in the schedule's zone: it starts on each of `days` (0 = Monday)
    at `sleep` and ends at the next `wake` after it, which may be past midnight or days later
    (`span_days` whole days added: Friday 19:00 -> Monday 07:00 is days=(4,), span_days=2)."""

    days: tuple[int, ...]
    sleep: time
    wake: time
    span_days: int = 0


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    timezone: str  # IANA
    windows: tuple[Window, ...] = ()
    sleep_cron: str | None = None  # with wake_cron: the Go system's cron pair, in the zone
    wake_cron: str | None = None
    skip_dates: tuple[date, ...] = ()  # local dates on which the schedule sleeps nothing
    holidays_country: str | None = None  # a public holiday sleeps all day (`holidays` library)
    holidays_subdivision: str | None = None


@dataclass(frozen=True, slots=True)
class Desired:
    """What the schedule wants at a moment: asleep or awake, and until when (the next
    transition, UTC; None when the schedule never changes again within the horizon)."""

    asleep: bool
    until: datetime | None
    since: datetime | None = None  # when the current state began, if within the horizon


@dataclass(frozen=True, slots=True)
class Transition:
    at: datetime  # UTC
    asleep: bool  # the state entered at `at`
    reason: str  # "window Mon-Fri 19:00-07:00", "holiday: Christmas Day", "cron 0 19 * * 1-5"
