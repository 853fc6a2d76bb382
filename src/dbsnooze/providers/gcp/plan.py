"""Metric requests into Cloud Monitoring calls: pure, plain values.

One timeSeries.list answers one metric for every instance of a project, paged, so requests are
grouped per (account, project, metric) and overlapping or touching runs of hours share one call
over their hull. Each call remembers which hours each instance asked for: what the answer holds
beyond them is dropped, and what it lacks of them is silent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from dbsnooze.collect.plan import Estimate, SeriesRequest
from dbsnooze.domain import HourRange, Target
from dbsnooze.providers.gcp.monitoring import HistoryCall, project_of, requests_per_call


@dataclass(frozen=True, slots=True)
class MonitoringCall:
    """One metric of some instances of one project over the hull of the hours they asked for."""

    account_id: int
    history: HistoryCall
    wanted: tuple[tuple[int, HourRange], ...]  # (instance id, hours it asked for)

    @property
    def span(self) -> HourRange:
        return self.history.span

    @property
    def scope(self) -> tuple[int, str]:
        return (self.account_id, self.history.project)

    @property
    def metric(self) -> str:
        return self.history.metric

    def asked(self) -> Iterator[tuple[int, str, datetime]]:
        return (
            (instance_id, self.metric, hour) for instance_id, run in self.wanted for hour in run
        )

    def describe(self) -> str:
        span = self.span
        return (
            f"timeSeries.list {self.metric} project {self.history.project} "
            f"{len(self.history.targets)} instances "
            f"{span.start:%Y-%m-%dT%H:%M}Z..{span.end:%Y-%m-%dT%H:%M}Z"
        )


def plan(requests: Iterable[SeriesRequest]) -> list[MonitoringCall]:
    """The fewest calls: one per (account, project, metric) and cluster of touching runs."""
    distinct = sorted({r for r in requests if r.span.hours > 0}, key=_key)
    return [call for _, group in groupby(distinct, key=_group) for call in _clustered(list(group))]


def estimate(requests: Sequence[SeriesRequest], calls: Sequence[MonitoringCall]) -> Estimate:
    """Cloud Monitoring reads are not priced here: calls, and requests before paging."""
    return Estimate(
        requests=len(requests),
        statistics_calls=0,
        data_calls=0,
        data_queries=0,
        data_cost_usd=0.0,
        monitoring_calls=len(calls),
        monitoring_requests=sum(requests_per_call(call.metric) for call in calls),
    )


def _group(request: SeriesRequest) -> tuple[int, str, str]:
    target = request.target
    return (target.account_id, project_of(target.provider_id), request.metric)


def _key(request: SeriesRequest) -> tuple[int, str, str, datetime, datetime, int]:
    span = request.span
    return (*_group(request), span.start, span.end, request.target.instance_id)


def _clustered(group: list[SeriesRequest]) -> list[MonitoringCall]:
    """Requests sorted by start, cut wherever a run starts after every earlier one ended."""
    clusters: list[list[SeriesRequest]] = []
    end: datetime | None = None
    for request in group:
        if end is None or request.span.start > end:
            clusters.append([])
        clusters[-1].append(request)
        end = request.span.end if end is None else max(end, request.span.end)
    return [_call(cluster) for cluster in clusters]


def _call(cluster: list[SeriesRequest]) -> MonitoringCall:
    first = cluster[0]
    hull = HourRange(min(r.span.start for r in cluster), max(r.span.end for r in cluster))
    targets: dict[int, Target] = {r.target.instance_id: r.target for r in cluster}
    history = HistoryCall(
        project_of(first.target.provider_id),
        first.metric,
        hull,
        tuple(targets[i] for i in sorted(targets)),
    )
    wanted = tuple((r.target.instance_id, r.span) for r in cluster)
    return MonitoringCall(first.target.account_id, history, wanted)
