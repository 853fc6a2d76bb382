"""Recommendations and backtests on plain values: one instance's hours in, a verdict out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dbsnooze.analysis.backtest import replay
from dbsnooze.analysis.eligibility import StopFacts, why_not_stoppable
from dbsnooze.analysis.idle import Activity, HourClass, Reason
from dbsnooze.analysis.recommend import (
    HOURS_PER_MONTH,
    WEEKS_PER_MONTH,
    AnalysisSettings,
    Kind,
    analyse,
)
from dbsnooze.analysis.windows import SleepWindow
from dbsnooze.analysis.zones import OwnerZone, local_minutes
from dbsnooze.domain import HOUR, HourRange

END = datetime(2024, 6, 24, tzinfo=UTC)  # a Monday 00:00 UTC
PARAMS = AnalysisSettings()
UTC_ZONE = OwnerZone("UTC", "setting")


def office(hour: datetime) -> bool:
    return hour.weekday() < 5 and 8 <= hour.hour < 19


Busy = Callable[[datetime], bool]


def activity(busy: Busy, days: int = 28, pool: float = 0.0, dark: int = 0) -> Activity:
    """Hourly values ending at END: busy hours at 40 % CPU and 30 connections, else `pool`."""
    hours = [END - (days * 24 - i) * HOUR for i in range(days * 24)]
    flags = [busy(h) for h in hours]
    asleep = [i >= len(hours) - dark * 24 for i in range(len(hours))]
    return Activity(
        cpu=[40.0 if b else 1.5 for b in flags],
        connections=[30.0 + pool if b else pool for b in flags],
        iops=[300.0 if b else 2.0 for b in flags],
        asleep=asleep,
    )


def run(found: Activity, tags: dict[str, str] | None = None, cannot_stop: str | None = None):  # type: ignore[no-untyped-def]
    window = HourRange(END - found.hours * HOUR, END)
    return analyse(found, window, tags or {}, UTC_ZONE, cannot_stop, PARAMS)


def test_office_hours_with_a_pool_sleep_nights_and_weekends() -> None:
    result = run(activity(office, pool=2.0))
    verdict = result.verdict
    assert verdict.kind is Kind.SLEEP
    assert [w.label for w in result.windows][-1] == "Fri 19:00 → Mon 07:40"
    assert verdict.hours_per_week == pytest.approx(4 * (13 - 1 / 3) + 61 - 1 / 3)
    assert verdict.saving_hours_month == pytest.approx(verdict.hours_per_week * WEEKS_PER_MONTH)
    assert verdict.confidence == 1.0
    assert result.backtest.clean
    assert result.backtest.slept_hours == pytest.approx(4 * verdict.hours_per_week)


def test_always_busy_gets_nothing() -> None:
    result = run(activity(lambda h: True))
    assert result.verdict.kind is Kind.NONE and result.windows == ()


def test_always_idle_gets_stop_it() -> None:
    verdict = run(activity(lambda h: False)).verdict
    assert verdict.kind is Kind.STOP
    assert verdict.message == "idle for 28 days: stop it (or delete it)"
    assert verdict.saving_hours_month == pytest.approx(HOURS_PER_MONTH)


def test_an_instance_that_cannot_stop_says_why() -> None:
    reason = why_not_stoppable(StopFacts("postgres", "available", replica_source="orders"))
    verdict = run(activity(office), cannot_stop=reason).verdict
    assert verdict.kind is Kind.BLOCKED
    assert "a read replica cannot be stopped (it replicates orders)" in verdict.message
    assert verdict.saving_hours_month == 0


def test_asleep_hours_are_not_idle() -> None:
    """Stopped for its last three days: those hours neither look idle nor block a window."""
    result = run(activity(office, dark=3))
    assert result.verdict.kind is Kind.SLEEP
    assert result.pattern.usable_weeks == 3
    assert result.classified.classes[-1] is HourClass.ASLEEP
    assert result.backtest.slept_hours < 4 * result.verdict.hours_per_week


def test_two_weeks_of_history_are_needed() -> None:
    verdict = run(activity(office, days=10)).verdict
    assert verdict.kind is Kind.NOT_ENOUGH_HISTORY
    assert verdict.message == "not enough history: 10 of 14 days"


def test_a_recent_interruption_withholds_the_recommendation() -> None:
    """With twelve weeks, a night job in one week keeps its cell above 90 %: the windows
    include it, and the backtest finds the night it would have interrupted."""
    job = END - 3 * 24 * HOUR + 2 * HOUR  # Friday 02:00, three days ago

    def busy(hour: datetime) -> bool:
        return office(hour) or hour == job

    found = activity(busy, days=84)
    window = HourRange(END - found.hours * HOUR, END)
    params = AnalysisSettings(weeks=12)
    result = analyse(found, window, {}, UTC_ZONE, None, params)
    assert [i.hour for i in result.backtest.interrupted] == [job]
    assert result.backtest.interrupted[0].reason is Reason.CPU
    assert result.verdict.kind is Kind.NONE
    assert "interrupted 1 active hours in the last 14 days" in result.verdict.message
    lenient = AnalysisSettings(weeks=12, max_interrupted_hours=1)
    assert analyse(found, window, {}, UTC_ZONE, None, lenient).verdict.kind is Kind.SLEEP


def test_replay_counts_partial_hours_and_skips_asleep_ones() -> None:
    window = SleepWindow(0, 90)  # Monday 00:00 → 01:30
    start = datetime(2024, 6, 3, tzinfo=UTC)
    classes = [HourClass.IDLE, HourClass.ACTIVE, HourClass.IDLE]
    reasons = [Reason.QUIET, Reason.CONNECTIONS, Reason.QUIET]
    minutes = local_minutes(start, 3, "UTC")
    result = replay([window], start, classes, reasons, minutes, start)
    assert result.slept_hours == 1.5
    assert [(i.hour, i.reason) for i in result.interrupted] == [(start + HOUR, Reason.CONNECTIONS)]
    asleep = [HourClass.ASLEEP, HourClass.IDLE, HourClass.IDLE]
    assert replay([window], start, asleep, reasons, minutes, start).slept_hours == 0.5


def local_office(zone: str, end: datetime) -> tuple[Activity, HourRange]:
    """Four weeks ending at `end` of office hours by the clock of `zone`."""
    hours = [end - (672 - i) * HOUR for i in range(672)]
    busy = [office(h.astimezone(ZoneInfo(zone))) for h in hours]
    found = Activity(
        [40.0 if b else 1.0 for b in busy],
        [20.0 if b else 0.0 for b in busy],
        [200.0 if b else 1.0 for b in busy],
        [False] * 672,
    )
    return found, HourRange(hours[0], end)


def test_windows_follow_the_owner_clock_across_dst() -> None:
    """Office hours in New York over four weeks that include the autumn change."""
    zone = "America/New_York"
    found, window = local_office(zone, datetime(2024, 11, 18, 5, tzinfo=UTC))  # Mon 00:00 EST
    assert window.start < datetime(2024, 11, 3, 6, tzinfo=UTC) < window.end
    result = analyse(found, window, {}, OwnerZone(zone, "tag"), None, PARAMS)
    assert [w.label for w in result.windows][-1] == "Fri 19:00 → Mon 07:40"
    assert len(result.windows) == 5
    assert result.backtest.clean


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (StopFacts("postgres", "available"), None),
        (StopFacts("postgres", "available", read_replicas=("r1", "r2")), "read replicas (r1, r2)"),
        (StopFacts("aurora-postgresql", "available", cluster_id="c1"), "stop its cluster c1"),
        (StopFacts("postgres", "available", cluster_id="maz"), "Multi-AZ DB cluster maz"),
        (StopFacts("sqlserver-se", "available", multi_az=True), "SQL Server Multi-AZ"),
        (StopFacts("postgres", "available", multi_az=True), None),
        (StopFacts("postgres", "available", replica_source=""), "a read replica cannot be"),
    ],
)
def test_eligibility(facts: StopFacts, reason: str | None) -> None:
    found = why_not_stoppable(facts)
    assert (found is None) if reason is None else (found is not None and reason in found)


def test_windows_start_when_the_hours_do_in_a_half_hour_zone() -> None:
    """In Kolkata (UTC+05:30) the cloud's hours run from :30 to :30: a window sleeping at 20:00
    would cut into the last working hour, 19:30 to 20:30."""
    zone = "Asia/Kolkata"
    found, window = local_office(zone, END)
    result = analyse(found, window, {}, OwnerZone(zone, "tag"), None, PARAMS)
    assert result.windows[0].label == "Mon 19:30 → Tue 08:10"  # work resumes at 08:30
    assert result.backtest.clean and result.verdict.kind is Kind.SLEEP
