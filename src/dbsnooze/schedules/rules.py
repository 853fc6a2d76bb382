"""What a schedule wants, from its rules alone (pure, DST-correct; SPEC §11).

A moment is asleep when a sleep window or the cron pair says so; a public holiday sleeps the
whole local day; a skip date keeps the whole local day awake. Precedence: skip date > holiday >
windows and cron. Both answers come from one timeline of sleep spans built over the span asked
about, so `desired_at` and `transitions` cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from croniter import croniter  # type: ignore[import-untyped]

from dbsnooze.schedules.localtime import at_wall, day_bounds, instant, wall
from dbsnooze.schedules.spec import Desired, ScheduleSpec, Transition, Window

HORIZON = timedelta(days=8)  # how far `desired_at` looks for the next and the last transition
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CRON_LOOKBACK = timedelta(days=400)  # a sleep cron that has not fired for longer is ignored


@dataclass(frozen=True, slots=True)
class _Span:
    start: datetime
    end: datetime
    reason: str

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class _Timeline:
    """Everything that decides the state between `start` and `end`."""

    sleeps: tuple[_Span, ...]  # windows and cron pair
    holidays: tuple[_Span, ...]
    skips: tuple[_Span, ...]

    def state(self, at: datetime) -> tuple[bool, str]:
        for span in self.skips:
            if span.holds(at):
                return False, span.reason
        for span in (*self.holidays, *self.sleeps):
            if span.holds(at):
                return True, span.reason
        return False, ""

    def edges(self) -> list[datetime]:
        spans = (*self.sleeps, *self.holidays, *self.skips)
        return sorted({moment for span in spans for moment in (span.start, span.end)})


def desired_at(spec: ScheduleSpec, at: datetime) -> Desired:
    """Asleep or awake at `at`, until the next transition and since the last one (UTC, each
    within `HORIZON`, else None)."""
    at = at.astimezone(UTC)
    timeline = _timeline(spec, at - HORIZON, at + HORIZON)
    asleep, _ = timeline.state(at)
    changes = _changes(timeline, at - HORIZON, at + HORIZON)
    since = max((t.at for t in changes if t.at <= at), default=None)
    until = min((t.at for t in changes if t.at > at), default=None)
    return Desired(asleep=asleep, until=until, since=since)


def transitions(spec: ScheduleSpec, start: datetime, end: datetime) -> list[Transition]:
    """Every change of state at an instant in [start, end), in order."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return _changes(_timeline(spec, start, end), start, end)


def describe_window(window: Window) -> str:
    """ "window Mon-Fri 19:00-07:00", "window Fri 19:00-Mon 07:00"."""
    sleep, wake = window.sleep.strftime("%H:%M"), window.wake.strftime("%H:%M")
    if window.span_days:
        (day,) = window.days if len(window.days) == 1 else (None,)
        if day is not None:
            overnight = 1 if window.wake <= window.sleep else 0
            wake_day = DAY_NAMES[(day + window.span_days + overnight) % 7]
            return f"window {DAY_NAMES[day]} {sleep}-{wake_day} {wake}"
        return f"window {_days(window.days)} {sleep}-{wake} (+{window.span_days} days)"
    return f"window {_days(window.days)} {sleep}-{wake}"


def _changes(timeline: _Timeline, start: datetime, end: datetime) -> list[Transition]:
    before = start - timedelta(microseconds=1)
    asleep, reason = timeline.state(before)
    found: list[Transition] = []
    for edge in (e for e in timeline.edges() if start <= e < end):
        now_asleep, now_reason = timeline.state(edge)
        if now_asleep != asleep:
            found.append(Transition(edge, now_asleep, _why(now_asleep, now_reason, reason)))
        asleep, reason = now_asleep, now_reason
    return found


def _why(asleep: bool, reason: str, previous: str) -> str:
    if asleep or reason:
        return reason
    return f"{previous} ends" if previous else "awake"


def _timeline(spec: ScheduleSpec, start: datetime, end: datetime) -> _Timeline:
    zone = ZoneInfo(spec.timezone)
    first = wall(start, zone).date() - timedelta(days=1)
    last = wall(end, zone).date() + timedelta(days=1)
    return _timeline_of_days(spec, first, last)


@lru_cache(maxsize=256)
def _timeline_of_days(spec: ScheduleSpec, first: date, last: date) -> _Timeline:
    """The timeline over whole local days (cached: a minute-by-minute caller asks for the
    same days again and again)."""
    zone = ZoneInfo(spec.timezone)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    start, end = at_wall(first, time(0), zone), at_wall(last + timedelta(days=1), time(0), zone)
    skipped = set(spec.skip_dates)
    return _Timeline(
        sleeps=(*_window_spans(spec.windows, zone, days), *_cron_spans(spec, zone, start, end)),
        holidays=tuple(_holiday_spans(spec, zone, days)),
        skips=tuple(
            _Span(*day_bounds(day, zone), f"skip date {day.isoformat()}")
            for day in days
            if day in skipped
        ),
    )


def _window_spans(windows: tuple[Window, ...], zone: ZoneInfo, days: list[date]) -> list[_Span]:
    longest = max((w.span_days for w in windows), default=0) + 1
    starts = [days[0] - timedelta(days=n) for n in range(longest, 0, -1)] + days
    spans = []
    for window in windows:
        reason = describe_window(window)
        overnight = 1 if window.wake <= window.sleep else 0
        for day in (d for d in starts if d.weekday() in window.days):
            wake_day = day + timedelta(days=window.span_days + overnight)
            spans.append(
                _Span(
                    at_wall(day, window.sleep, zone), at_wall(wake_day, window.wake, zone), reason
                )
            )
    return spans


def _cron_spans(spec: ScheduleSpec, zone: ZoneInfo, start: datetime, end: datetime) -> list[_Span]:
    """Asleep from a sleep-cron fire to the next wake-cron fire (fires on the zone's wall
    clock, each placed by the DST rules; a wake firing with the sleep wins)."""
    if not spec.sleep_cron or not spec.wake_cron:
        return []
    fires = sorted(
        [(t, 0) for t in _fires(spec.sleep_cron, zone, start, end)]
        + [(t, 1) for t in _fires(spec.wake_cron, zone, start, end)]
    )
    reason = f"cron {spec.sleep_cron} / {spec.wake_cron}"
    spans, asleep_from = [], None
    for moment, is_wake in fires:
        if not is_wake and asleep_from is None:
            asleep_from = moment
        elif is_wake and asleep_from is not None:
            if moment > asleep_from:
                spans.append(_Span(asleep_from, moment, reason))
            asleep_from = None
    if asleep_from is not None:
        spans.append(_Span(asleep_from, end + HORIZON, reason))
    return spans


def _fires(expression: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The last fire at or before `start`, then every fire up to `end` (UTC)."""
    back = croniter(expression, wall(start, zone) + timedelta(hours=3))
    floor = wall(start - _CRON_LOOKBACK, zone)
    last: datetime | None = None
    while (naive := back.get_prev(datetime)) > floor:
        if instant(naive, zone) <= start:
            last = naive
            break
    fires = [instant(last, zone)] if last is not None else []
    forward = croniter(expression, last or wall(start, zone) - timedelta(hours=3))
    while (moment := instant(forward.get_next(datetime), zone)) <= end:
        if moment > start:
            fires.append(moment)
    return fires


def _holiday_spans(spec: ScheduleSpec, zone: ZoneInfo, days: list[date]) -> list[_Span]:
    if not spec.holidays_country:
        return []
    spans = []
    for day in days:
        calendar = _calendar(spec.holidays_country, spec.holidays_subdivision, day.year)
        if day in calendar:
            spans.append(_Span(*day_bounds(day, zone), f"holiday: {calendar[day]}"))
    return spans


@lru_cache(maxsize=64)
def _calendar(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year).items())


def _days(days: tuple[int, ...]) -> str:
    """(0, 1, 2, 3, 4) -> "Mon-Fri"; (0, 2) -> "Mon,Wed"."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        DAY_NAMES[r[0]] if len(r) < 3 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" for r in runs
    )
