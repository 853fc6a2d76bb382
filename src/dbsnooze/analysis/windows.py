"""Sleep windows: maximal runs of reliably idle cells, across midnight and the weekend.

Times are minutes of the owner's local week (Monday 00:00 = 0). A window sleeps at the start of
its first idle cell and wakes `wake_lead` minutes before its first active hour, because a
database takes minutes to start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dbsnooze.analysis.pattern import CELLS, MIN_WEEKS, WeeklyPattern
from dbsnooze.analysis.zones import DAY_NAMES, MINUTES_PER_WEEK, week_label


@dataclass(frozen=True, slots=True, order=True)
class SleepWindow:
    sleep: int  # minute of the local week
    wake: int  # minute of the local week; smaller than `sleep` when it runs past Sunday

    @property
    def minutes(self) -> int:
        return (self.wake - self.sleep) % MINUTES_PER_WEEK or MINUTES_PER_WEEK

    @property
    def hours(self) -> float:
        return self.minutes / 60

    def segments(self) -> tuple[tuple[int, int], ...]:
        """The window as half-open minute ranges that do not wrap around the week."""
        end = self.sleep + self.minutes
        if end <= MINUTES_PER_WEEK:
            return ((self.sleep, end),)
        return ((self.sleep, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK))

    def overlap(self, start: int, minutes: int) -> int:
        """Minutes of [start, start + minutes) (minutes of the week, may wrap) inside."""
        total = 0
        for first, last in _split(start % MINUTES_PER_WEEK, minutes):
            for low, high in self.segments():
                total += max(0, min(last, high) - max(first, low))
        return total

    @property
    def label(self) -> str:
        return f"{week_label(self.sleep)} → {week_label(self.wake)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "sleep": week_label(self.sleep),
            "wake": week_label(self.wake),
            "sleep_day": DAY_NAMES[self.sleep // 1440].lower(),
            "sleep_at": week_label(self.sleep).split()[1],
            "wake_day": DAY_NAMES[(self.wake % MINUTES_PER_WEEK) // 1440].lower(),
            "wake_at": week_label(self.wake).split()[1],
            "sleep_minute": self.sleep,
            "wake_minute": self.wake,
            "hours": round(self.hours, 2),
        }


def _split(start: int, minutes: int) -> tuple[tuple[int, int], ...]:
    end = start + minutes
    if end <= MINUTES_PER_WEEK:
        return ((start, end),)
    return ((start, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK))


def sleep_cells(
    pattern: WeeklyPattern, confidence: float, min_weeks: int = MIN_WEEKS
) -> tuple[bool, ...]:
    """Cells idle in at least `confidence` of the weeks they were seen, seen in `min_weeks`."""
    return tuple(
        pattern.observed[cell] >= min_weeks
        and pattern.idle[cell] >= confidence * pattern.observed[cell] - 1e-9
        for cell in range(CELLS)
    )


def find_windows(
    cells: Sequence[bool], min_hours: float, wake_lead_minutes: int, offset: int = 0
) -> tuple[SleepWindow, ...]:
    """Maximal circular runs of sleep cells at least `min_hours` long, each waking early.

    `offset` is the minute past the local hour at which the cloud's hours begin: 30 in
    Asia/Kolkata, where the hour a cell holds runs from :30 to :30.
    """
    windows = []
    for first, length in _runs(cells):
        if length < min_hours:
            continue
        minutes = length * 60 - wake_lead_minutes
        if minutes <= 0:
            continue
        sleep = (first * 60 + offset) % MINUTES_PER_WEEK
        windows.append(SleepWindow(sleep, (sleep + minutes) % MINUTES_PER_WEEK))
    return tuple(sorted(windows))


def _runs(cells: Sequence[bool]) -> list[tuple[int, int]]:
    """(first cell, length) of each maximal run, joined across the end of the week."""
    count = len(cells)
    if all(cells):
        return [(0, count)]  # idle all week: one window from Monday 00:00
    start = next(i for i in range(count) if not cells[i])  # begin after a busy cell
    runs: list[tuple[int, int]] = []
    first, length = -1, 0
    for step in range(1, count + 1):
        cell = (start + step) % count
        if cells[cell]:
            if length == 0:
                first = cell
            length += 1
        elif length:
            runs.append((first, length))
            length = 0
    if length:
        runs.append((first, length))
    return runs


def hours_per_week(windows: Iterable[SleepWindow]) -> float:
    return sum(window.hours for window in windows)


def windows_key(windows: Iterable[SleepWindow]) -> str:
    """A fingerprint of a set of windows: a dismissal holds until it changes."""
    return ",".join(f"{w.sleep}-{w.wake}" for w in sorted(windows))


def confidence_of(pattern: WeeklyPattern, windows: Sequence[SleepWindow]) -> float:
    """The share of analysed weeks in which the windows' cells were idle (a mean over cells),
    scaled by the share of the weeks that had enough data."""
    covered = [
        cell
        for cell in range(CELLS)
        if any(w.overlap(cell * 60, 60) for w in windows) and pattern.observed[cell]
    ]
    if not covered or not pattern.weeks:
        return 0.0
    shares = [pattern.idle[c] / pattern.observed[c] for c in covered]
    return sum(shares) / len(shares) * min(1.0, pattern.usable_weeks / pattern.weeks)
