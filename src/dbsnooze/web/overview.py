"""The fleet table's history columns for one page of instances, from their summaries.

A page costs one indexed read on top of the listing itself, whatever the instances' history:
store.summaries keeps each instance's last activity, idle share, and its recent hours' flags and
CPU as samples are written, and this module cuts the sparkline window out of them.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from dbsnooze.collect.hours import backfill_window
from dbsnooze.domain import Coverage, HourRange
from dbsnooze.store import recent, summaries
from dbsnooze.web import svg

SPARK_DAYS = 7
SPARK_METRIC = "cpu"
COVERED = (Coverage.COMPLETE, Coverage.EMPTY, Coverage.ASLEEP)  # the cloud answered in full


@dataclass(frozen=True)
class Spark:
    """Hourly values (None: nothing stored) and asleep flags over the sparkline window; what the
    template shows of them is worked out once per row."""

    values: list[float | None]
    asleep: list[bool]

    @functools.cached_property
    def awake(self) -> list[float]:
        pairs = zip(self.values, self.asleep, strict=True)
        return [value for value, asleep in pairs if value is not None and not asleep]

    @functools.cached_property
    def peak(self) -> float | None:
        return max(self.awake, default=None)

    @functools.cached_property
    def mean(self) -> float | None:
        awake = self.awake
        return sum(awake) / len(awake) if awake else None

    @functools.cached_property
    def drawing(self) -> svg.SparkDrawing:
        return svg.sparkline(self.values, self.asleep)

    @property
    def asleep_hours(self) -> int:
        return sum(self.asleep)

    @property
    def gap_hours(self) -> int:
        return self.values.count(None)


@dataclass(frozen=True, slots=True)
class Extras:
    spark: Spark
    coverage: dict[Coverage, int]
    last_active: datetime | None
    idle_share: float | None = None  # of the awake hours in the 7 days to the newest stored hour
    history_from: datetime | None = None  # the oldest stored sample
    hours: int = field(default=SPARK_DAYS * 24)

    @property
    def covered_percent(self) -> int:
        covered = sum(self.coverage.get(state, 0) for state in COVERED)
        return round(100 * covered / self.hours) if self.hours else 0

    @property
    def never_active(self) -> bool:
        """History is stored, and not one hour of it was active."""
        return self.last_active is None and self.history_from is not None


def spark_window(now: datetime) -> HourRange:
    """The final hours of the last seven days: the hours a 7-day backfill fills."""
    return backfill_window(now, SPARK_DAYS)


def page_extras(
    session: Session, instance_ids: Sequence[int], metrics: Sequence[str], now: datetime
) -> dict[int, Extras]:
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    window = spark_window(now)
    found = summaries.read(session.connection(), ids)
    wanted, spark = recent.mask(metrics), SPARK_METRIC in metrics
    return {i: _extras(found.get(i), window, wanted, spark) for i in ids}


def _extras(
    summary: summaries.Summary | None, window: HourRange, wanted: int, spark: bool
) -> Extras:
    hours = window.hours
    if summary is None or summary.recent is None:
        blank = Spark([None] * hours, [False] * hours)
        return Extras(blank, {Coverage.MISSING: hours}, None, hours=hours)
    flags, cpu = _cut(summary.recent, window)
    asleep_bit = recent.BIT[SPARK_METRIC] << recent.ASLEEP
    values: list[float | None] = cpu if spark else [None] * hours
    coverage: dict[Coverage, int] = {}
    for hour_flags, count in Counter(flags).items():  # a few distinct flag values per week
        state = recent.coverage(hour_flags, wanted)
        coverage[state] = coverage.get(state, 0) + count
    return Extras(
        Spark(values, [bool(f & asleep_bit) for f in flags]),
        coverage,
        summary.last_active_hour,
        summary.idle_share,
        summary.oldest_sample_hour,
        hours,
    )


def _cut(hours: recent.Recent, window: HourRange) -> tuple[list[int], list[float | None]]:
    """The window's flags and CPU averages; hours the summary does not reach hold nothing."""
    start = recent.hour_number(window.start) - hours.first
    end = start + window.hours
    if start >= 0 and end <= len(hours.flags):
        return hours.flags[start:end], hours.cpu[start:end]
    reach = range(len(hours.flags))
    flags = [hours.flags[i] if i in reach else 0 for i in range(start, end)]
    cpu = [hours.cpu[i] if i in reach else None for i in range(start, end)]
    return flags, cpu
