"""The fleet table's history columns for one page of instances, in a fixed number of queries.

Whatever the page size, a page costs three reads on top of the listing itself: the CPU hours
behind the sparklines, the coverage summary, and each instance's last active hour. None of
them is issued per instance, so a page of 1,000 instances is as many round trips as one of 10.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from dbsnooze.collect.hours import backfill_window
from dbsnooze.domain import HOUR, Coverage, HourRange, Source
from dbsnooze.store import samples
from dbsnooze.store.tables import SampleRow

SPARK_DAYS = 7
SPARK_METRIC = "cpu"
# An hour is active when either average reaches its threshold; otherwise it is idle. The
# heatmap of the instance page applies the same thresholds (they reach it through the page).
ACTIVE_AT: dict[str, float] = {"cpu": 5.0, "connections": 1.0}
COVERED = (Coverage.COMPLETE, Coverage.EMPTY, Coverage.ASLEEP)  # the cloud answered in full


@dataclass(frozen=True, slots=True)
class Spark:
    """Hourly values (None: nothing stored) and asleep flags over the sparkline window."""

    values: list[float | None]
    asleep: list[bool]

    @property
    def awake(self) -> list[float]:
        pairs = zip(self.values, self.asleep, strict=True)
        return [value for value, asleep in pairs if value is not None and not asleep]

    @property
    def peak(self) -> float | None:
        return max(self.awake, default=None)

    @property
    def mean(self) -> float | None:
        awake = self.awake
        return sum(awake) / len(awake) if awake else None


@dataclass(frozen=True, slots=True)
class Extras:
    spark: Spark
    coverage: dict[Coverage, int]
    last_active: datetime | None
    hours: int = field(default=SPARK_DAYS * 24)

    @property
    def covered_percent(self) -> int:
        covered = sum(self.coverage.get(state, 0) for state in COVERED)
        return round(100 * covered / self.hours) if self.hours else 0


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
    sparks = _sparks(session, ids, window) if SPARK_METRIC in metrics else {}
    coverage = samples.coverage_summary(session, ids, metrics, window)
    last = _last_active(session, ids)
    empty = Spark([None] * window.hours, [False] * window.hours)
    return {
        i: Extras(sparks.get(i, empty), coverage.get(i, {}), last.get(i), window.hours) for i in ids
    }


def _sparks(session: Session, ids: Sequence[int], window: HourRange) -> dict[int, Spark]:
    columns = (SampleRow.instance_id, SampleRow.hour, SampleRow.average, SampleRow.source)
    query = select(*columns).where(
        SampleRow.instance_id.in_(ids),
        SampleRow.metric == SPARK_METRIC,
        SampleRow.hour >= window.start,
        SampleRow.hour < window.end,
    )
    found = {i: Spark([None] * window.hours, [False] * window.hours) for i in ids}
    for instance_id, hour, average, source in session.execute(query).tuples():
        slot = int((hour - window.start) / HOUR)
        found[instance_id].values[slot] = average
        found[instance_id].asleep[slot] = source == Source.ASLEEP.value
    return found


def _last_active(session: Session, ids: Sequence[int]) -> dict[int, datetime]:
    active = or_(
        *(
            and_(SampleRow.metric == metric, SampleRow.average >= threshold)
            for metric, threshold in ACTIVE_AT.items()
        )
    )
    query = (
        select(SampleRow.instance_id, func.max(SampleRow.hour))
        .where(SampleRow.instance_id.in_(ids), SampleRow.source != Source.ASLEEP.value, active)
        .group_by(SampleRow.instance_id)
    )
    return {instance_id: hour for instance_id, hour in session.execute(query).tuples()}
