"""The backtest: a recommended schedule replayed over the history it came from.

Each UTC hour is placed at its local minute of the week; the share of it inside a window is
the share it would have slept. An active hour with any minute inside a window is one the
schedule would have interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dbsnooze.analysis.idle import HourClass, Reason
from dbsnooze.analysis.windows import SleepWindow
from dbsnooze.domain import HOUR


@dataclass(frozen=True, slots=True)
class Interruption:
    hour: datetime  # UTC start of the active hour
    reason: Reason  # what made it active


@dataclass(frozen=True, slots=True)
class Backtest:
    replayed_hours: int
    slept_hours: float  # hours the schedule would have stopped a running instance
    interrupted: tuple[Interruption, ...]
    recent_interrupted: int  # interrupted hours at or after `recent_from`

    @property
    def clean(self) -> bool:
        return not self.interrupted


def shares_inside(windows: Sequence[SleepWindow], minutes: Sequence[int]) -> list[float]:
    """The share of each hour (given by its local minute of the week) inside the windows."""
    inside: dict[int, float] = {}  # one computation per distinct local minute
    found = []
    for minute in minutes:
        share = inside.get(minute)
        if share is None:
            share = inside[minute] = sum(w.overlap(minute, 60) for w in windows) / 60
        found.append(share)
    return found


def replay(
    windows: Sequence[SleepWindow],
    start: datetime,
    classes: Sequence[HourClass],
    reasons: Sequence[Reason],
    minutes: Sequence[int],
    recent_from: datetime,
) -> Backtest:
    """Replay `windows` over hours from `start`; `minutes` is each hour's local minute of week."""
    slept = 0.0
    interrupted: list[Interruption] = []
    shares = shares_inside(windows, minutes)
    for index, (found, share) in enumerate(zip(classes, shares, strict=True)):
        if not share or found is HourClass.ASLEEP:
            continue
        slept += share
        if found is HourClass.ACTIVE:
            interrupted.append(Interruption(start + index * HOUR, reasons[index]))
    recent = sum(1 for item in interrupted if item.hour >= recent_from)
    return Backtest(len(classes), slept, tuple(interrupted), recent)
