"""Sleep windows given as minutes of the local week (a recommendation's, the week grid's)
as weekly rules: one `Window` per sleep time, wake time and length, over all its days."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import time

from dbsnooze.schedules.spec import Window

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def from_minutes(spans: Iterable[tuple[int, int]]) -> tuple[Window, ...]:
    """(sleep minute, wake minute) pairs, Monday 00:00 = 0, the wake possibly past the end of
    the week (smaller than the sleep), merged into windows by their shape."""
    days_of: dict[tuple[time, time, int], set[int]] = defaultdict(set)
    for sleep, wake in spans:
        sleep %= MINUTES_PER_WEEK
        length = (wake - sleep) % MINUTES_PER_WEEK or MINUTES_PER_WEEK
        day, sleep_at = divmod(sleep, MINUTES_PER_DAY)
        end_day, wake_at = divmod(sleep + length, MINUTES_PER_DAY)
        sleep_time, wake_time = _clock(sleep_at), _clock(wake_at)
        overnight = 1 if wake_time <= sleep_time else 0
        days_of[(sleep_time, wake_time, end_day - day - overnight)].add(day)
    return tuple(
        Window(tuple(sorted(days)), sleep, wake, span)
        for (sleep, wake, span), days in sorted(days_of.items(), key=lambda kv: min(kv[1]))
    )


def _clock(minute: int) -> time:
    return time(minute // 60, minute % 60)
