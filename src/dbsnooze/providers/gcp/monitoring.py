"""Cloud Monitoring reads: hourly statistics of every instance of a project, per metric.

One HistoryCall (project, metric, hours, instances) is one timeSeries.list per statistic,
covering every instance of the project at once, paged by nextPageToken; answers become
HourlyStat. An hour is kept only when all four statistics came back, never invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dbsnooze.domain import HOUR, HourlyStat, HourRange, ProviderError, Target
from dbsnooze.providers.gcp.client import GcpClient
from dbsnooze.providers.gcp.metrics import (
    GCP_METRICS,
    INSTANCE_LABEL,
    PERIOD,
    RESOURCE_TYPE,
    STATISTICS,
    GcpMetric,
    MetricSource,
    StatQuery,
)
from dbsnooze.providers.gcp.permissions import TIME_SERIES_LIST
from dbsnooze.providers.gcp.wire import parse_time, rfc3339, typed_value

MAX_PAGE_SIZE = 100_000  # points per timeSeries.list page (view FULL)

_ByStat = dict[str, dict[datetime, float]]  # statistic -> hour -> value


@dataclass(frozen=True, slots=True)
class HistoryCall:
    """One metric of every given instance of one project over a run of whole hours."""

    project: str
    metric: str
    span: HourRange
    targets: tuple[Target, ...]


def requests_per_call(metric: str) -> int:
    """timeSeries.list requests one call makes at most, before paging (for dry-run estimates)."""
    return sum(len(source.queries) for source in GCP_METRICS[metric].sources)


def time_series_path(project: str) -> str:
    return f"/v3/projects/{project}/timeSeries"


class MonitoringSource:
    """Hourly statistics of Cloud SQL instances through one account's client."""

    def __init__(self, client: GcpClient, page_size: int = MAX_PAGE_SIZE) -> None:
        self._client = client
        self._page_size = page_size

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def fetch(self, call: HistoryCall) -> list[HourlyStat]:
        if call.span.hours == 0 or not call.targets:
            return []
        stats: list[HourlyStat] = []
        left = {t.provider_id: t for t in call.targets}
        for source in _metric(call.metric).sources:
            if not left:
                break
            by_instance = self._source(call, source)
            for provider_id, by_stat in sorted(by_instance.items()):
                target = left.get(provider_id)
                found = _assemble(target, call.metric, by_stat) if target else []
                if found:
                    stats.extend(found)
                    del left[provider_id]
        return stats

    def _source(self, call: HistoryCall, source: MetricSource) -> dict[str, _ByStat]:
        by_instance: dict[str, _ByStat] = {}
        for query in source.queries:
            params = _params(call, source, query, self._page_size)
            path = time_series_path(call.project)
            for page in self._client.pages(TIME_SERIES_LIST, call.project, path, params):
                for series in page.get("timeSeries", []):
                    _collect(by_instance, series, query, call.span)
        return by_instance


def _metric(key: str) -> GcpMetric:
    metric = GCP_METRICS.get(key)
    if metric is None:
        raise ProviderError("metric_unknown", f"no Cloud SQL metric is mapped to {key!r}")
    return metric


def _params(
    call: HistoryCall, source: MetricSource, query: StatQuery, page_size: int
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "filter": f'metric.type = "{source.metric_type}" AND resource.type = "{RESOURCE_TYPE}"',
        "interval.startTime": rfc3339(call.span.start),
        "interval.endTime": rfc3339(call.span.end),
        "aggregation.alignmentPeriod": PERIOD,
        "aggregation.perSeriesAligner": query.aligner,
        "view": "FULL",
        "pageSize": page_size,
    }
    if query.reducer is not None:
        params["aggregation.crossSeriesReducer"] = query.reducer
        params["aggregation.groupByFields"] = INSTANCE_LABEL
    return params


def _collect(
    by_instance: dict[str, _ByStat],
    series: Mapping[str, Any],
    query: StatQuery,
    span: HourRange,
) -> None:
    """One series' points into its instance's hours; the first value per hour wins."""
    database_id = (series.get("resource", {}).get("labels") or {}).get("database_id")
    if not database_id:
        return
    by_hour = by_instance.setdefault(database_id, {}).setdefault(query.statistic, {})
    for point in series.get("points", []):
        hour = parse_time(point["interval"]["endTime"]) - HOUR  # a period ends at its end time
        if hour in span and hour not in by_hour:
            by_hour[hour] = typed_value(point["value"]) * query.scale


def _assemble(target: Target, metric: str, by_stat: _ByStat) -> list[HourlyStat]:
    if any(stat not in by_stat for stat in STATISTICS):
        return []
    average, maximum, minimum = by_stat["average"], by_stat["maximum"], by_stat["minimum"]
    count = by_stat["sample_count"]
    return [
        HourlyStat(
            target.instance_id, metric, hour, value, maximum[hour], minimum[hour], count[hour]
        )
        for hour, value in sorted(average.items())
        if hour in maximum and hour in minimum and hour in count
    ]


def targets_by_project(targets: Iterable[Target]) -> dict[str, tuple[Target, ...]]:
    """Targets grouped by the project in their provider id ("project:instance")."""
    grouped: dict[str, list[Target]] = {}
    for target in targets:
        grouped.setdefault(project_of(target.provider_id), []).append(target)
    return {project: tuple(found) for project, found in grouped.items()}


def project_of(provider_id: str) -> str:
    project, sep, _ = provider_id.partition(":")
    if not sep:
        raise ProviderError("instance_invalid", f"{provider_id!r} is not a project:instance id")
    return project
