"""Validation of a schedule's rules, each failure an `Unprocessable` with its own code."""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo

import holidays
from croniter import croniter  # type: ignore[import-untyped]

from dbsnooze.analysis.zones import valid_zone
from dbsnooze.errors import Unprocessable
from dbsnooze.schedules.spec import ScheduleSpec, Window

_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
MAX_SPAN_DAYS = 6  # a weekly window cannot outlast its week


def zone(name: str) -> ZoneInfo:
    if not valid_zone(name):
        raise Unprocessable("unknown_timezone", f"unknown time zone {name[:64]!r}")
    return ZoneInfo(name)


def clock(text: str) -> time:
    """ "19:00" -> time(19, 0); anything else -> 422 bad_time."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise Unprocessable("bad_time", f"{text!r} is not a time of day as HH:MM (00:00-23:59)")
    return time(int(match[1]), int(match[2]))


def check(spec: ScheduleSpec) -> ScheduleSpec:
    """The spec itself when every rule is valid."""
    zone(spec.timezone)
    for window in spec.windows:
        _check_window(window)
    _check_cron(spec.sleep_cron, spec.wake_cron)
    _check_holidays(spec.holidays_country, spec.holidays_subdivision)
    return spec


def _check_window(window: Window) -> None:
    if not window.days:
        raise Unprocessable("window_without_days", "a sleep window needs at least one day")
    if any(day not in range(7) for day in window.days):
        raise Unprocessable("bad_day", "window days are 0 (Monday) to 6 (Sunday)")
    if window.span_days not in range(MAX_SPAN_DAYS + 1):
        raise Unprocessable("bad_span_days", f"span_days is 0 to {MAX_SPAN_DAYS}")


def _check_cron(sleep: str | None, wake: str | None) -> None:
    if bool(sleep) != bool(wake):
        raise Unprocessable(
            "half_cron_pair", "sleep_cron and wake_cron go together: give both or neither"
        )
    for name, expression in (("sleep_cron", sleep), ("wake_cron", wake)):
        if expression and (len(expression.split()) != 5 or not croniter.is_valid(expression)):
            raise Unprocessable(
                "bad_cron", f"{name} {expression!r} is not a 5-field cron expression"
            )


def _check_holidays(country: str | None, subdivision: str | None) -> None:
    if subdivision and not country:
        raise Unprocessable(
            "unknown_holiday_country", "a holiday subdivision needs its holiday country"
        )
    if not country:
        return
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise Unprocessable(
            "unknown_holiday_country", f"no public holiday calendar for country {country!r}"
        )
    if subdivision and subdivision not in supported[country]:
        raise Unprocessable(
            "unknown_holiday_subdivision",
            f"country {country!r} has no subdivision {subdivision!r}",
        )
