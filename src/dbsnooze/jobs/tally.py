"""Hour accounting and progress of a backfill job, fed one answered cloud call at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dbsnooze.collect.plan import SeriesRequest
from dbsnooze.collect.runner import CallResult
from dbsnooze.domain import HourRange, Target


@dataclass
class Tally:
    """An instance-hour counts once, when every metric planned for it has been answered, so a
    resumed job never counts again what the interrupted run counted. Progress moves with every
    metric-hour answered, so it advances with each call."""

    window: HourRange
    targets: Sequence[Target]
    metrics: int
    outstanding: dict[int, dict[datetime, int]]  # per instance and hour: metrics not answered yet
    held: Mapping[int, set[datetime]]  # per instance: hours asked again that held a sample
    before: dict[str, int] = field(default_factory=dict)  # what an interrupted run already did
    planned: int = 0  # instance-hours with at least one metric to fetch
    planned_points: int = 0  # metric-hours to fetch
    answered: int = 0  # metric-hours the cloud answered (with data or without)
    finished: int = 0  # instance-hours whose every metric was answered
    refetched: int = 0  # of those, hours that held a sample before
    stored: dict[int, set[datetime]] = field(default_factory=lambda: defaultdict(set))
    silent: dict[int, set[datetime]] = field(default_factory=lambda: defaultdict(set))
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        window: HourRange,
        targets: Sequence[Target],
        metrics: int,
        requests: Sequence[SeriesRequest],
        held: Mapping[int, set[datetime]],
        before: dict[str, int],
    ) -> Tally:
        outstanding: dict[int, dict[datetime, int]] = defaultdict(dict)
        for request in requests:
            left = outstanding[request.target.instance_id]
            for hour in request.span:
                left[hour] = left.get(hour, 0) + 1
        planned = sum(len(hours) for hours in outstanding.values())
        points = sum(request.span.hours for request in requests)
        return cls(window, targets, metrics, outstanding, held, before, planned, points)

    def add(self, result: CallResult) -> None:
        if result.error:
            self.errors.append({"error": result.error})
            return
        for stat in result.stored:
            self.stored[stat.instance_id].add(stat.hour)
        self.answered += len(result.asked)
        for instance_id, _metric, hour in result.asked:
            left = self.outstanding[instance_id]
            left[hour] -= 1
            if not left[hour]:
                del left[hour]
                self._finish(instance_id, hour)

    def _finish(self, instance_id: int, hour: datetime) -> None:
        self.finished += 1
        if hour in self.held.get(instance_id, ()):
            self.refetched += 1
        elif hour not in self.stored[instance_id]:
            self.silent[instance_id].add(hour)

    def counters(self) -> dict[str, int]:
        empty = sum(len(hours) for hours in self.silent.values())
        done_before = sum(self.before.get(name, 0) for name in _DONE)
        total = self.window.hours * len(self.targets)
        return {
            "hours_total": total,
            "hours_skipped": max(total - self.planned - done_before, 0),
            "hours_backfilled": self.finished - empty - self.refetched + self._before("backfilled"),
            "hours_empty": empty + self._before("empty"),
            "hours_refetched": self.refetched + self._before("refetched"),
        }

    def progress(self) -> float:
        """The share of the window's metric-hours that are stored, known, or answered now."""
        points = self.window.hours * len(self.targets) * self.metrics
        if not points:
            return 1.0
        return max(0.0, 1.0 - (self.planned_points - self.answered) / points)

    def silent_hours(self, instance_id: int) -> set[datetime]:
        """Hours whose every metric was answered, and none had data."""
        return self.silent[instance_id]

    def _before(self, counter: str) -> int:
        return self.before.get(f"hours_{counter}", 0)


_DONE = ("hours_backfilled", "hours_empty", "hours_refetched")
