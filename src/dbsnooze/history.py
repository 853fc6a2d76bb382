"""Reading history: windows from ranges, aligned series with null gaps, coverage, CSV, latest."""

from __future__ import annotations

import csv
import functools
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dbsnooze.config import HARD_MAX_BACKFILL_DAYS
from dbsnooze.domain import HOUR, HourRange, floor_hour
from dbsnooze.errors import Unprocessable
from dbsnooze.metrics import METRICS, UNITS, memory_used_percent, stored_metrics
from dbsnooze.store import samples
from dbsnooze.store.tables import InstanceRow

RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
MAX_SPAN = timedelta(days=HARD_MAX_BACKFILL_DAYS)
MEMORY_PERCENT = "memory_used_percent"


def window_for(
    now: datetime, range_key: str | None, start: datetime | None, end: datetime | None
) -> HourRange:
    """A named range ending with the current hour, or the hours covering [start, end)."""
    if start is None and end is None:
        span = RANGES[range_key or "7d"]
        last = floor_hour(now) + HOUR
        return HourRange(last - span, last)
    if start is None or end is None:
        raise Unprocessable("invalid_range", "give both start and end, or neither")
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise Unprocessable("invalid_range", "end must be after start")
    if end - start > MAX_SPAN:
        raise Unprocessable("invalid_range", f"at most {MAX_SPAN.days} days at a time")
    ceiling = floor_hour(end) + (HOUR if floor_hour(end) != end else timedelta(0))
    return HourRange(floor_hour(start), ceiling)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_metrics(raw: str | None, configured: Sequence[str]) -> list[str]:
    if not raw:
        return list(configured)
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [m for m in wanted if m not in METRICS or m not in configured]
    if unknown or not wanted:
        raise Unprocessable(
            "unknown_metric",
            f"unknown metric(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(configured)}",
        )
    return list(dict.fromkeys(wanted))


@dataclass(frozen=True, slots=True)
class History:
    instance_id: int
    window: HourRange
    metrics: list[str]
    series: dict[str, list[float | None]]
    maximum: dict[str, list[float | None]]
    coverage: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "start": self.window.start,
            "end": self.window.end,
            "step_seconds": 3600,
            "hours": list(_hour_labels(self.window)),
            "metrics": self.metrics,
            "series": self.series,
            "maximum": self.maximum,
            "coverage": self.coverage,
            "coverage_summary": dict(Counter(self.coverage)),
        }

    def to_json(self) -> dict[str, Any]:
        """`as_dict` in JSON types already: FastAPI's generic encoder would walk ~25,000 values."""
        found = self.as_dict()
        return {**found, "start": self.window.start.isoformat(), "end": self.window.end.isoformat()}

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        columns = list(self.series)
        writer.writerow(["hour", "coverage", *columns])
        for i, hour in enumerate(self.window):
            values = [_csv_number(self.series[c][i]) for c in columns]
            writer.writerow([hour.isoformat(), self.coverage[i], *values])
        return out.getvalue()


def history(session: Session, row: InstanceRow, metrics: list[str], window: HourRange) -> History:
    metrics = list(stored_metrics(row.provider, metrics))  # GCP stores memory used % itself
    found = samples.series(session, row.id, metrics, window)
    empty = samples.empty_hours(session, row.id, metrics, window)
    series: dict[str, list[float | None]] = {m: found[m].average for m in metrics}
    maximum: dict[str, list[float | None]] = {m: found[m].maximum for m in metrics}
    if "freeable_memory" in metrics:
        memory, instance_class = found["freeable_memory"], row.instance_class
        series[MEMORY_PERCENT] = [memory_used_percent(v, instance_class) for v in memory.average]
        # least free memory in the hour is the most used
        maximum[MEMORY_PERCENT] = [memory_used_percent(v, instance_class) for v in memory.minimum]
    coverage = [state.value for state in samples.hour_coverage(found, window, empty)]
    return History(row.id, window, metrics, series, maximum, coverage)


def latest(session: Session, row: InstanceRow, metrics: list[str]) -> dict[str, Any]:
    found = samples.latest(session, row.id, list(stored_metrics(row.provider, metrics)))
    values: dict[str, Any] = {}
    for metric, (hour, point) in found.items():
        values[metric] = {
            "hour": hour,
            "average": point.average,
            "maximum": point.maximum,
            "minimum": point.minimum,
            "sample_count": point.sample_count,
            "source": point.source,
            "unit": UNITS[metric],
        }
    if "freeable_memory" in found:
        hour, point = found["freeable_memory"]
        values[MEMORY_PERCENT] = {
            "hour": hour,
            "average": memory_used_percent(point.average, row.instance_class),
            "unit": "Percent",
        }
    return {"instance_id": row.id, "metrics": values}


@functools.lru_cache(maxsize=32)  # a range's window moves once an hour
def _hour_labels(window: HourRange) -> tuple[str, ...]:
    return tuple(hour.isoformat() for hour in window)


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(round(value, 6))
