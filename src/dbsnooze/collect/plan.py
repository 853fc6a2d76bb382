"""Metric requests into the fewest CloudWatch calls the API limits allow: pure, plain values.

`SeriesRequest` and `Estimate` are every provider's language; the calls here are AWS's (GCP
plans its own, in providers/gcp/plan.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from dbsnooze.collect.hours import split
from dbsnooze.domain import HourRange, Target
from dbsnooze.metrics import STATISTICS

PERIOD_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class ApiLimits:
    """CloudWatch's published limits and price for the two ways of reading hourly statistics."""

    statistics_max_datapoints: int = 1_440  # GetMetricStatistics, per call
    data_max_queries: int = 500  # GetMetricData, per call
    data_max_datapoints: int = 100_800  # GetMetricData, per call
    data_usd_per_1000_metrics: float = 0.01  # GetMetricData, per metric requested


LIMITS = ApiLimits()


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    """One metric of one instance over a run of hours: what collection wants to know."""

    target: Target
    metric: str
    span: HourRange


@dataclass(frozen=True, slots=True)
class StatisticsCall:
    """One GetMetricStatistics call: every statistic of one series, at most 1,440 hours."""

    target: Target
    metric: str
    span: HourRange

    @property
    def scope(self) -> tuple[int, str]:
        return (self.target.account_id, self.target.region)

    def asked(self) -> Iterator[tuple[int, str, datetime]]:
        return ((self.target.instance_id, self.metric, hour) for hour in self.span)

    def describe(self) -> str:
        return f"GetMetricStatistics {self.target.provider_id} {self.metric} {_span(self.span)}"


@dataclass(frozen=True, slots=True)
class DataQuery:
    """One MetricDataQuery: GetMetricData takes a single statistic per query."""

    id: str
    target: Target
    metric: str
    stat: str


@dataclass(frozen=True, slots=True)
class DataCall:
    """One GetMetricData call: one account, region and span; queries map back by id."""

    account_id: int
    region: str
    span: HourRange
    queries: tuple[DataQuery, ...]
    by_id: dict[str, DataQuery] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_id = {query.id: query for query in self.queries}
        if len(by_id) != len(self.queries):
            raise ValueError("query ids are unique within a call")
        object.__setattr__(self, "by_id", by_id)

    @property
    def datapoints(self) -> int:
        return len(self.queries) * self.span.hours

    @property
    def scope(self) -> tuple[int, str]:
        return (self.account_id, self.region)

    def asked(self) -> Iterator[tuple[int, str, datetime]]:
        pairs = sorted({(q.target.instance_id, q.metric) for q in self.queries})
        hours = tuple(self.span)
        return ((iid, metric, hour) for iid, metric in pairs for hour in hours)

    def describe(self) -> str:
        return f"GetMetricData {len(self.queries)} queries {self.region} {_span(self.span)}"


def _span(span: HourRange) -> str:
    return f"{span.start:%Y-%m-%dT%H:%M}Z..{span.end:%Y-%m-%dT%H:%M}Z"


Call = StatisticsCall | DataCall


@dataclass(frozen=True, slots=True)
class Estimate:
    """What fetching a set of requests costs, for a dry run before a large backfill."""

    requests: int
    statistics_calls: int
    data_calls: int
    data_queries: int
    data_cost_usd: float
    # GCP: planned timeSeries.list calls (project x metric x window) and the requests they
    # make before paging
    monitoring_calls: int = 0
    monitoring_requests: int = 0

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(
            requests=self.requests + other.requests,
            statistics_calls=self.statistics_calls + other.statistics_calls,
            data_calls=self.data_calls + other.data_calls,
            data_queries=self.data_queries + other.data_queries,
            data_cost_usd=round(self.data_cost_usd + other.data_cost_usd, 6),
            monitoring_calls=self.monitoring_calls + other.monitoring_calls,
            monitoring_requests=self.monitoring_requests + other.monitoring_requests,
        )

    def as_dict(self) -> dict[str, int | float]:
        """The AWS figures always; Cloud Monitoring's when the plan reads any."""
        found: dict[str, int | float] = {
            "requests": self.requests,
            "statistics_calls": self.statistics_calls,
            "data_calls": self.data_calls,
            "data_queries": self.data_queries,
            "data_cost_usd": self.data_cost_usd,
        }
        if self.monitoring_calls:
            found["monitoring_calls"] = self.monitoring_calls
            found["monitoring_requests"] = self.monitoring_requests
        return found


def plan_statistics(
    requests: Iterable[SeriesRequest], limits: ApiLimits = LIMITS
) -> list[StatisticsCall]:
    """One call per series and run, long runs cut at the per-call datapoint limit."""
    return [
        StatisticsCall(request.target, request.metric, piece)
        for request in _ordered(requests)
        for piece in split(request.span, limits.statistics_max_datapoints)
    ]


def plan_data(requests: Iterable[SeriesRequest], limits: ApiLimits = LIMITS) -> list[DataCall]:
    """Batched GetMetricData calls, grouped by account, region and span.

    A series' statistics always travel in the same call, so every call can assemble whole hours.
    """
    pieces = [
        SeriesRequest(request.target, request.metric, piece)
        for request in _ordered(requests)
        for piece in split(request.span, _max_series_hours(limits))
    ]
    pieces.sort(key=_call_key)
    return [
        call
        for (account_id, region, span), group in groupby(pieces, key=_call_key)
        for call in _batches(account_id, region, span, list(group), limits)
    ]


def plan(
    requests: Iterable[SeriesRequest], instances: int, limits: ApiLimits = LIMITS
) -> list[Call]:
    """The calls one unit of work makes: a single instance reads free GetMetricStatistics, one
    call per series and run; several share batched GetMetricData calls."""
    if instances == 1:
        return list(plan_statistics(requests, limits))
    return list(plan_data(requests, limits))


def estimate(
    requests: Sequence[SeriesRequest], calls: Sequence[Call], limits: ApiLimits = LIMITS
) -> Estimate:
    """What these planned calls cost: only GetMetricData is charged, per metric requested."""
    data_calls = [call for call in calls if isinstance(call, DataCall)]
    data_queries = sum(len(call.queries) for call in data_calls)
    return Estimate(
        requests=len(requests),
        statistics_calls=len(calls) - len(data_calls),
        data_calls=len(data_calls),
        data_queries=data_queries,
        data_cost_usd=round(data_queries * limits.data_usd_per_1000_metrics / 1000, 6),
    )


def _ordered(requests: Iterable[SeriesRequest]) -> list[SeriesRequest]:
    """Distinct non-empty requests in a fixed order, whatever order they came in."""
    distinct = {request for request in requests if request.span.hours > 0}
    return sorted(distinct, key=_request_key)


def _request_key(request: SeriesRequest) -> tuple[int, str, int, str, HourRange]:
    target = request.target
    return (target.account_id, target.region, target.instance_id, request.metric, request.span)


def _call_key(request: SeriesRequest) -> tuple[int, str, HourRange]:
    return (request.target.account_id, request.target.region, request.span)


def _max_series_hours(limits: ApiLimits) -> int:
    return limits.data_max_datapoints // len(STATISTICS)


def _series_per_call(span: HourRange, limits: ApiLimits) -> int:
    by_queries = limits.data_max_queries // len(STATISTICS)
    by_points = limits.data_max_datapoints // (len(STATISTICS) * span.hours)
    return max(1, min(by_queries, by_points))


def _batches(
    account_id: int, region: str, span: HourRange, series: list[SeriesRequest], limits: ApiLimits
) -> list[DataCall]:
    size = _series_per_call(span, limits)
    return [
        DataCall(account_id, region, span, _queries(series[i : i + size]))
        for i in range(0, len(series), size)
    ]


def _queries(series: list[SeriesRequest]) -> tuple[DataQuery, ...]:
    pairs = [(request, stat) for request in series for stat in STATISTICS]
    return tuple(
        DataQuery(f"q{index}", request.target, request.metric, stat)
        for index, (request, stat) in enumerate(pairs)
    )
