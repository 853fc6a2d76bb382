"""Local wall times of a zone as UTC instants, with the schedule's DST rules.

A wall time that does not exist (the spring-forward gap) happens at the first moment after the
gap; an ambiguous one (the fall-back hour) at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def instant(naive: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time (naive datetime) in `zone`."""
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first  # exists; fold=0 is the first occurrence when ambiguous
    return _gap_end(naive, zone)


def at_wall(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return instant(datetime.combine(day, clock), zone)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC span of a whole local day."""
    return at_wall(day, time(0), zone), at_wall(day + timedelta(days=1), time(0), zone)


def wall(at: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall time of a UTC instant."""
    return at.astimezone(zone).replace(tzinfo=None)


def _gap_end(naive: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose wall time is past `naive`, which lies inside a gap: the
    transition itself. Found by bisection between the two readings of the wall time."""
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)  # before the transition
    high = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)  # after it
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if wall(middle, zone) > naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)
