"""From one instance's hours to its recommendation: pure, on plain values (SPEC §10)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from dbsnooze.analysis.backtest import Backtest, replay
from dbsnooze.analysis.idle import (
    Activity,
    Classified,
    HourClass,
    IdleRule,
    Thresholds,
    classify,
    idle_share,
    thresholds_for,
)
from dbsnooze.analysis.pattern import HOURS_PER_WEEK, WeeklyPattern, weekly_pattern
from dbsnooze.analysis.windows import (
    SleepWindow,
    confidence_of,
    find_windows,
    hours_per_week,
    sleep_cells,
)
from dbsnooze.analysis.zones import OwnerZone, local_minutes
from dbsnooze.domain import HourRange

WEEKS_PER_MONTH = 365.25 / 12 / 7
HOURS_PER_MONTH = 365.25 * 24 / 12


class Kind(enum.StrEnum):
    SLEEP = "sleep"  # sleep windows
    STOP = "stop"  # idle all the time: stop it (or delete it)
    NONE = "none"  # nothing to sleep
    NOT_ENOUGH_HISTORY = "not_enough_history"
    BLOCKED = "blocked"  # it would sleep, but it cannot be stopped


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    weeks: int = 4
    confidence: float = 0.9
    min_window_hours: float = 4.0
    wake_lead_minutes: int = 20
    always_idle_share: float = 0.95
    always_idle_days: int = 14
    max_interrupted_hours: int = 0
    recent_days: int = 14
    rule: IdleRule = field(default_factory=IdleRule)

    @property
    def hours(self) -> int:
        """Hours analysed: the last `weeks` whole weeks."""
        return self.weeks * HOURS_PER_WEEK


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: Kind
    message: str
    confidence: float = 0.0
    hours_per_week: float = 0.0
    saving_hours_month: float = 0.0
    idle_days: int | None = None


@dataclass(frozen=True, slots=True)
class Analysis:
    window: HourRange
    zone: OwnerZone
    thresholds: Thresholds
    classified: Classified
    pattern: WeeklyPattern
    windows: tuple[SleepWindow, ...]
    backtest: Backtest
    verdict: Verdict


def analyse(
    activity: Activity,
    window: HourRange,
    tags: Mapping[str, str],
    zone: OwnerZone,
    cannot_stop: str | None,
    params: AnalysisSettings,
) -> Analysis:
    """Classify the window's hours, find the weekly pattern and windows, backtest, decide."""
    thresholds = thresholds_for(params.rule, tags, activity)
    classified = classify(activity, thresholds)
    minutes = local_minutes(window.start, window.hours, zone.name)
    pattern = weekly_pattern(classified.classes, [m // 60 for m in minutes], params.weeks)
    cells = sleep_cells(pattern, params.confidence)
    offset = minutes[-1] % 60 if minutes else 0  # hours start at :30 in some zones
    windows = find_windows(cells, params.min_window_hours, params.wake_lead_minutes, offset)
    recent_from = window.end - timedelta(days=params.recent_days)
    backtest = replay(
        windows, window.start, classified.classes, classified.reasons, minutes, recent_from
    )
    verdict = decide(classified, pattern, windows, backtest, cannot_stop, params)
    return Analysis(window, zone, thresholds, classified, pattern, windows, backtest, verdict)


def decide(
    classified: Classified,
    pattern: WeeklyPattern,
    windows: tuple[SleepWindow, ...],
    backtest: Backtest,
    cannot_stop: str | None,
    params: AnalysisSettings,
) -> Verdict:
    shortfall = pattern.shortfall()
    if shortfall is not None:
        return Verdict(Kind.NOT_ENOUGH_HISTORY, shortfall)
    idle_days = always_idle_days(classified.classes, params)
    if idle_days is not None:
        return _stop(idle_days, cannot_stop)
    if not windows:
        return Verdict(Kind.NONE, "no hours are idle reliably enough to sleep")
    if backtest.recent_interrupted > params.max_interrupted_hours:
        return Verdict(
            Kind.NONE,
            f"not offered: the windows would have interrupted {backtest.recent_interrupted} "
            f"active hours in the last {params.recent_days} days",
        )
    weekly = hours_per_week(windows)
    confidence = confidence_of(pattern, windows)
    if cannot_stop is not None:
        return Verdict(Kind.BLOCKED, f"could sleep {weekly:.0f} h a week, but {cannot_stop}")
    return Verdict(
        Kind.SLEEP,
        f"sleep {weekly:.0f} h a week in {len(windows)} window{'s' if len(windows) > 1 else ''}",
        confidence=confidence,
        hours_per_week=weekly,
        saving_hours_month=weekly * WEEKS_PER_MONTH,
    )


def _stop(idle_days: int, cannot_stop: str | None) -> Verdict:
    if cannot_stop is not None:
        return Verdict(
            Kind.BLOCKED,
            f"idle for {idle_days} days, but {cannot_stop}: delete it if nobody needs it",
            idle_days=idle_days,
        )
    return Verdict(
        Kind.STOP,
        f"idle for {idle_days} days: stop it (or delete it)",
        confidence=1.0,
        hours_per_week=float(HOURS_PER_WEEK),
        saving_hours_month=HOURS_PER_MONTH,
        idle_days=idle_days,
    )


def always_idle_days(classes: list[HourClass], params: AnalysisSettings) -> int | None:
    """For an instance idle in at least the always-idle share of its measured hours over the
    last `always_idle_days` days: the longest span of whole days, back from now, over which that
    share holds. Otherwise None."""
    recent = classes[-params.always_idle_days * 24 :]
    measured = sum(1 for c in recent if c in (HourClass.IDLE, HourClass.ACTIVE))
    share = idle_share(recent)
    if share is None or share < params.always_idle_share:
        return None
    if measured < 0.8 * params.always_idle_days * 24:  # mostly unknown or asleep: no claim
        return None
    idle = active = longest = 0
    for back, found in enumerate(reversed(classes), start=1):
        idle += found is HourClass.IDLE
        active += found is HourClass.ACTIVE
        if back % 24 == 0 and idle and idle / (idle + active) >= params.always_idle_share:
            longest = back // 24
    return longest
