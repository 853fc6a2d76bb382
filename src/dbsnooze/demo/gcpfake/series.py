"""Raw metric data as Cloud Monitoring holds it: one series per metric, resource and labels.

Points are kept as two parallel arrays (end time in epoch seconds, value), sorted by time, so a
month of minute points for a fleet stays small and a window is two binary searches away.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

RESOURCE_TYPE = "cloudsql_database"
SAMPLE_SECONDS = 60  # Cloud SQL samples its metrics every 60 s; a DELTA point spans that much


@dataclass(frozen=True, slots=True)
class Descriptor:
    """What Cloud Monitoring's metric descriptor says about a metric type."""

    kind: str  # GAUGE | DELTA
    value_type: str  # DOUBLE | INT64
    unit: str


_CLOUDSQL = "cloudsql.googleapis.com/database/"
# From the Cloud SQL section of Google Cloud's metrics list.
DESCRIPTORS: dict[str, Descriptor] = {
    _CLOUDSQL + "cpu/utilization": Descriptor("GAUGE", "DOUBLE", "10^2.%"),
    _CLOUDSQL + "memory/utilization": Descriptor("GAUGE", "DOUBLE", "10^2.%"),
    _CLOUDSQL + "memory/usage": Descriptor("GAUGE", "INT64", "By"),
    _CLOUDSQL + "memory/quota": Descriptor("GAUGE", "INT64", "By"),
    _CLOUDSQL + "network/connections": Descriptor("GAUGE", "INT64", "1"),
    _CLOUDSQL + "postgresql/num_backends": Descriptor("GAUGE", "INT64", "1"),
    _CLOUDSQL + "disk/read_ops_count": Descriptor("DELTA", "INT64", "1"),
    _CLOUDSQL + "disk/write_ops_count": Descriptor("DELTA", "INT64", "1"),
    _CLOUDSQL + "up": Descriptor("GAUGE", "INT64", "1"),
}


def epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


@dataclass(slots=True)
class Series:
    """One time series: its identity (metric type, resource labels, metric labels) and points."""

    metric_type: str
    descriptor: Descriptor
    resource_labels: dict[str, str]
    metric_labels: dict[str, str] = field(default_factory=dict)
    times: array[int] = field(default_factory=lambda: array("q"))
    values: array[float] = field(default_factory=lambda: array("d"))

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
        return (
            self.metric_type,
            tuple(sorted(self.resource_labels.items())),
            tuple(sorted(self.metric_labels.items())),
        )

    def fields(self) -> dict[str, str]:
        """Everything a filter or a groupBy may name, under normalized selectors."""
        found = {
            "metric.type": self.metric_type,
            "resource.type": RESOURCE_TYPE,
            "project": self.resource_labels.get("project_id", ""),
        }
        found.update({f"resource.labels.{k}": v for k, v in self.resource_labels.items()})
        found.update({f"metric.labels.{k}": v for k, v in self.metric_labels.items()})
        return found

    def add(self, points: Mapping[datetime, float] | Iterable[tuple[datetime, float]]) -> None:
        """Merge points in; a point at an existing time replaces the old value."""
        pairs = points.items() if isinstance(points, Mapping) else points
        merged = dict(zip(self.times, self.values, strict=True))
        merged.update((epoch(moment), float(value)) for moment, value in pairs)
        ordered = sorted(merged.items())
        self.times = array("q", (t for t, _ in ordered))
        self.values = array("d", (v for _, v in ordered))

    def extend(self, times: Sequence[int], values: Sequence[float]) -> None:
        """Append points already in epoch seconds, sorted and after every point held: the
        fast way to load a month of minutes (no per-point datetime, no merge)."""
        if len(times) != len(values):
            raise ValueError("one value per time")
        if not times:
            return
        if (self.times and times[0] <= self.times[-1]) or any(
            later <= earlier for earlier, later in pairwise(times)
        ):
            raise ValueError("extend takes sorted times after the last point held; use add")
        self.times.extend(times)
        self.values.extend(values)

    def bounds(self, after: int, upto: int) -> tuple[int, int]:
        """Index range of the points with after < time <= upto: Monitoring's (start, end]."""
        return bisect_right(self.times, after), bisect_right(self.times, upto)
