"""Which hours to ask the cloud for: final hours, backfill and live windows, contiguous runs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from dbsnooze.domain import HOUR, HourRange, floor_hour, in_utc, last_final_boundary

HOURS_PER_DAY = 24


def backfill_window(now: datetime, days: int) -> HourRange:
    """Exactly days*24 final hours, ending where the not-yet-final hours begin."""
    if days < 1:
        raise ValueError("a backfill covers at least one day")
    end = last_final_boundary(now)
    return HourRange(end - days * HOURS_PER_DAY * HOUR, end)


def live_window(now: datetime, interval: timedelta = timedelta(0)) -> HourRange:
    """The hours live collection refreshes: those not yet final, and the current hour.

    With the collector's interval, an hour that turned final since the previous tick is included
    once more, so its last fetch happens after the cloud finished publishing it.
    """
    start = last_final_boundary(now - interval)
    return HourRange(start, floor_hour(in_utc(now)) + HOUR)


def catch_up_window(live: HourRange, days: int) -> HourRange:
    """The final hours before the live window in which provisional hours are fetched again: a
    collector that was down when they turned final catches up at most `days` back."""
    return HourRange(live.start - days * HOURS_PER_DAY * HOUR, live.start)


def runs(hours: Iterable[datetime]) -> list[HourRange]:
    """Hours grouped into contiguous runs, in time order; duplicates count once."""
    bounds: list[list[datetime]] = []  # one HourRange per run, not per hour: this is a hot path
    for hour in sorted(set(hours)):
        if bounds and bounds[-1][1] == hour:
            bounds[-1][1] = hour + HOUR
        else:
            bounds.append([hour, hour + HOUR])
    return [HourRange(start, end) for start, end in bounds]


def missing(window: HourRange, known: set[datetime]) -> list[HourRange]:
    """The runs of hours in the window that are not known yet."""
    if not known:  # the usual first backfill: the whole window, without walking its hours
        return [window] if window.hours else []
    return runs(hour for hour in window if hour not in known)


def split(span: HourRange, max_hours: int) -> list[HourRange]:
    """The span cut into consecutive pieces of at most max_hours each."""
    if max_hours < 1:
        raise ValueError("a piece holds at least one hour")
    step = max_hours * HOUR
    starts = (span.start + i * step for i in range(-(-span.hours // max_hours)))
    return [HourRange(start, min(start + step, span.end)) for start in starts]
