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

import orjson
from sqlalchemy.orm import Session

from dbsnooze.config import HARD_MAX_BACKFILL_DAYS
from dbsnooze.domain import HOUR, HourRange, floor_hour, last_final_boundary
from dbsnooze.errors import Unprocessable
from dbsnooze.metrics import (
    METRICS,
    UNITS,
    memory_used_percent,
    memory_used_percents,
    stored_metrics,
)
from dbsnooze.store import samples
from dbsnooze.store.tables import InstanceRow

# Named ranges end with the current hour (in progress, filled by live collection): "1h" is the
# current hour alone, "6h" it and the five before it.
RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "12h": timedelta(hours=12),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
MAX_SPAN = timedelta(days=HARD_MAX_BACKFILL_DAYS)
# Custom windows must fall in these years: beyond them hour arithmetic overflows, or no cloud
# has data anyway.
YEARS = range(2000, 2101)
MEMORY_PERCENT = "memory_used_percent"
PERCENT = "Percent"
# The statistics a history can carry, each with its key in the JSON answer (averages keep the
# name `series` that charts read).
STAT_KEYS: dict[str, str] = {
    "average": "series",
    "maximum": "maximum",
    "minimum": "minimum",
    "sample_count": "sample_count",
}
DEFAULT_STATS = ("average", "maximum")


def window_for(
    now: datetime, range_key: str | None, start: datetime | None, end: datetime | None
) -> HourRange:
    """A named range ending with the current hour, or the hours covering [start, end)."""
    if range_key and (start or end):
        raise Unprocessable("invalid_range", "give either range or start/end, not both")
    if start is None and end is None:
        span = RANGES[range_key or "7d"]
        last = floor_hour(now) + HOUR
        return HourRange(last - span, last)
    if start is None or end is None:
        raise Unprocessable("invalid_range", "give both start and end, or neither")
    if start.year not in YEARS or end.year not in YEARS:
        raise Unprocessable(
            "invalid_range", f"start and end must be in the years {YEARS[0]} to {YEARS[-1]}"
        )
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
    stats: list[str]
    values: dict[str, dict[str, list[float | None]]]  # statistic -> metric -> one per hour
    coverage: list[str]
    now: datetime | None = None  # when it was read: which hours are in progress or not final

    @property
    def series(self) -> dict[str, list[float | None]]:
        """The hourly averages, what charts draw."""
        return self.values.get("average", {})

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "start": self.window.start,
            "end": self.window.end,
            "step_seconds": 3600,
            "hours": list(_hour_labels(self.window)),
            "metrics": self.metrics,
            "stats": self.stats,
            "units": {m: unit_of(m, "average") for m in self._columns()},
            **{STAT_KEYS[stat]: self.values[stat] for stat in self.stats},
            "coverage": self.coverage,
            "coverage_summary": dict(Counter(self.coverage)),
            # the hour in progress, and the end of the final hours (an hour ending after it may
            # still change); null when the reader gave no clock
            "current_hour": floor_hour(self.now) if self.now else None,
            "final_until": last_final_boundary(self.now) if self.now else None,
        }

    def to_json(self) -> bytes:
        """`as_dict` as JSON bytes by orjson: FastAPI's generic encoder would walk ~25,000 values,
        and the json module takes several times longer over them."""
        return orjson.dumps(self.as_dict())

    def to_csv(self) -> str:
        """One row per hour; a column per metric and statistic, named with its unit; values as
        stored, written with the fewest digits that read back as the same float."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        columns = [(m, stat) for m in self._columns() for stat in self.stats]
        writer.writerow(["hour", "coverage", *(csv_column(m, stat) for m, stat in columns)])
        lists = [self.values[stat][m] for m, stat in columns]
        for i, hour in enumerate(_hour_labels(self.window)):
            writer.writerow([hour, self.coverage[i], *(_csv_number(v[i]) for v in lists)])
        return out.getvalue()

    def _columns(self) -> list[str]:
        return list(self.values[self.stats[0]])


def history(
    session: Session,
    row: InstanceRow,
    metrics: list[str],
    window: HourRange,
    stats: Sequence[str] = DEFAULT_STATS,
    now: datetime | None = None,
) -> History:
    metrics = list(stored_metrics(row.provider, metrics))  # GCP stores memory used % itself
    found = samples.series(session, row.id, metrics, window)
    empty = samples.empty_hours(session, row.id, metrics, window)
    values = {stat: {m: getattr(found[m], stat) for m in metrics} for stat in stats}
    if "freeable_memory" in metrics:
        memory, instance_class = found["freeable_memory"], row.instance_class
        for stat in stats:
            values[stat][MEMORY_PERCENT] = _memory_percent(memory, stat, instance_class)
    coverage = [state.value for state in samples.hour_coverage(found, window, empty)]
    return History(row.id, window, metrics, list(stats), values, coverage, now)


def _memory_percent(memory: samples.Series, stat: str, instance_class: str) -> list[float | None]:
    if stat == "sample_count":
        return memory.sample_count
    # the least free memory in an hour is the most used, and the other way round
    source = {"average": "average", "maximum": "minimum", "minimum": "maximum"}[stat]
    return memory_used_percents(getattr(memory, source), instance_class)


def parse_stats(raw: str | None) -> list[str]:
    """`stats=` as a list of statistic names, in the order asked; a 422 for anything else."""
    if raw is None:
        return list(DEFAULT_STATS)
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [stat for stat in wanted if stat not in STAT_KEYS]
    if unknown or not wanted:
        shown = ", ".join(repr(s[:40]) for s in unknown[:5]) or "(none)"
        raise Unprocessable(
            "unknown_statistic",
            f"unknown statistic(s) {shown}; choose from {', '.join(STAT_KEYS)}",
        )
    return list(dict.fromkeys(wanted))


def unit_of(metric: str, stat: str) -> str:
    """The unit of one statistic of a metric (or of derived memory used %), CloudWatch's names."""
    if stat == "sample_count":
        return "Count"
    return PERCENT if metric == MEMORY_PERCENT else METRICS[metric].unit


def csv_column(metric: str, stat: str) -> str:
    """`<metric>_<statistic>_<unit>`, e.g. `cpu_average_percent`; a sample count has no unit."""
    if stat == "sample_count":
        return f"{metric}_sample_count"
    unit = unit_of(metric, stat).lower().replace("/", "_per_")  # Count/Second: count_per_second
    return f"{metric}_{stat}_{unit}"


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
            "unit": PERCENT,
        }
    return {"instance_id": row.id, "metrics": values}


@functools.lru_cache(maxsize=32)  # a range's window moves once an hour
def _hour_labels(window: HourRange) -> tuple[str, ...]:
    return tuple(hour.isoformat() for hour in window)


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(value)
