"""CloudWatch reads: the one client wrapper behind live collection and every backfill.

Planned calls go in, HourlyStat comes out. Every HTTP request takes a token from the account and
region's bucket first; retries of throttled and 5xx answers are botocore's (standard mode, set in
session.py), so no retry loop lives here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore import xform_name

from dbsnooze.collect.plan import PERIOD_SECONDS, DataCall, DataQuery, StatisticsCall
from dbsnooze.collect.throttle import TokenBucket
from dbsnooze.domain import HourlyStat, HourRange, ProviderError, Target, floor_hour
from dbsnooze.metrics import DIMENSION, METRICS, NAMESPACE, STATISTICS
from dbsnooze.providers.aws.errors import AWS_ERRORS, to_provider_error
from dbsnooze.providers.aws.permissions import action_for

SERVICE = "cloudwatch"
SCAN_BY = "TimestampAscending"
# GetMetricData reports per-query failures in the answer instead of as an HTTP error.
_FAILED_STATUS: dict[str, str] = {"Forbidden": "access_denied", "InternalError": "cloud_error"}

_Series = tuple[int, str]  # (instance id, metric)
_ByStat = dict[str, dict[datetime, float]]  # statistic -> hour -> value


class CloudWatchSource:
    """Hourly statistics of RDS instances from one CloudWatch client (one account and region)."""

    def __init__(self, client: Any, bucket: TokenBucket) -> None:
        self._client = client
        self._bucket = bucket
        self._region: str = client.meta.region_name or "?"
        self._lock = threading.Lock()
        self._api_calls = 0

    @property
    def api_calls(self) -> int:
        """HTTP requests made (each page counts, botocore's retries of one request do not)."""
        with self._lock:
            return self._api_calls

    def statistics(self, call: StatisticsCall) -> list[HourlyStat]:
        """One GetMetricStatistics call asking every statistic of one series at once."""
        if call.span.hours == 0:
            return []
        answer = self._request("GetMetricStatistics", _statistics_params(call))
        by_stat = _hourly_points(answer.get("Datapoints", []), call.span)
        return _assemble(call.target.instance_id, call.metric, by_stat)

    def data(self, call: DataCall) -> list[HourlyStat]:
        """GetMetricData over every page; an hour missing any statistic is dropped, not invented."""
        if call.span.hours == 0 or not call.queries:
            return []
        values: dict[_Series, _ByStat] = {}
        hours: dict[datetime, datetime | None] = {}  # a timestamp's hour; None: outside the span
        for page in self._pages(_data_params(call)):
            for result in page.get("MetricDataResults", []):
                _collect(values, call, result, hours)
        return [
            stat
            for (instance_id, metric), by_stat in sorted(values.items())
            for stat in _assemble(instance_id, metric, by_stat)
        ]

    def _pages(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._request("GetMetricData", _with_token(params, token))
            yield page
            following = page.get("NextToken") or None
            if following is None:
                return
            if following == token:
                raise ProviderError("cloud_error", _repeated_token_message(self._region))
            token = following

    def _request(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self._bucket.acquire()
        with self._lock:
            self._api_calls += 1
        method: Callable[..., dict[str, Any]] = getattr(self._client, xform_name(operation))
        try:
            return method(**params)
        except AWS_ERRORS as exc:
            action = action_for(SERVICE, operation)
            raise to_provider_error(exc, action=action, region=self._region) from None


def _statistics_params(call: StatisticsCall) -> dict[str, Any]:
    return {
        "Namespace": NAMESPACE,
        "MetricName": METRICS[call.metric].cloudwatch_name,
        "Dimensions": _dimensions(call.target),
        "StartTime": call.span.start,
        "EndTime": call.span.end,
        "Period": PERIOD_SECONDS,
        "Statistics": list(STATISTICS),
    }


def _data_params(call: DataCall) -> dict[str, Any]:
    return {
        "MetricDataQueries": [_data_query(query) for query in call.queries],
        "StartTime": call.span.start,
        "EndTime": call.span.end,
        "ScanBy": SCAN_BY,
    }


def _data_query(query: DataQuery) -> dict[str, Any]:
    metric = {
        "Namespace": NAMESPACE,
        "MetricName": METRICS[query.metric].cloudwatch_name,
        "Dimensions": _dimensions(query.target),
    }
    stat = {"Metric": metric, "Period": PERIOD_SECONDS, "Stat": query.stat}
    return {"Id": query.id, "MetricStat": stat, "ReturnData": True}


def _dimensions(target: Target) -> list[dict[str, str]]:
    return [{"Name": DIMENSION, "Value": target.provider_id}]


def _with_token(params: dict[str, Any], token: str | None) -> dict[str, Any]:
    return params if token is None else {**params, "NextToken": token}


def _hourly_points(datapoints: Iterable[Mapping[str, Any]], span: HourRange) -> _ByStat:
    """Datapoints keyed by their hour; points outside the span are ignored, the first one wins."""
    by_stat: _ByStat = {stat: {} for stat in STATISTICS}
    seen: set[datetime] = set()
    for point in datapoints:
        hour = _hour(point["Timestamp"])
        if hour in span and hour not in seen:
            seen.add(hour)
            for stat in STATISTICS:
                if stat in point:
                    by_stat[stat][hour] = float(point[stat])
    return by_stat


def _collect(
    values: dict[_Series, _ByStat],
    call: DataCall,
    result: Mapping[str, Any],
    hours: dict[datetime, datetime | None],
) -> None:
    """One query's values into its series, the first value per hour winning.

    This runs once per datapoint of a fleet (millions), so each timestamp's hour is worked out
    once per call: the queries of one call share their timestamps.
    """
    status = str(result.get("StatusCode", "Complete"))
    if status in _FAILED_STATUS:
        raise ProviderError(_FAILED_STATUS[status], _failed_query_message(call, result, status))
    query = call.by_id.get(str(result.get("Id")))
    if query is None:
        return
    by_hour = values.setdefault((query.target.instance_id, query.metric), {}).setdefault(
        query.stat, {}
    )
    for timestamp, value in zip(
        result.get("Timestamps", []), result.get("Values", []), strict=False
    ):
        if timestamp not in hours:
            hours[timestamp] = _hour_within(timestamp, call.span)
        hour = hours[timestamp]
        if hour is not None and hour not in by_hour:
            by_hour[hour] = float(value)


def _assemble(
    instance_id: int, metric: str, by_stat: Mapping[str, Mapping[datetime, float]]
) -> list[HourlyStat]:
    """Whole hours only: an hour missing any statistic is dropped, not invented."""
    if any(stat not in by_stat for stat in STATISTICS):
        return []
    average, maximum, minimum = by_stat["Average"], by_stat["Maximum"], by_stat["Minimum"]
    count = by_stat["SampleCount"]
    return [
        HourlyStat(instance_id, metric, hour, value, maximum[hour], minimum[hour], count[hour])
        for hour, value in sorted(average.items())
        if hour in maximum and hour in minimum and hour in count
    ]


def _hour(timestamp: datetime) -> datetime:
    return floor_hour(timestamp.astimezone(UTC))


def _hour_within(timestamp: datetime, span: HourRange) -> datetime | None:
    hour = _hour(timestamp)
    return hour if hour in span else None


def _failed_query_message(call: DataCall, result: Mapping[str, Any], status: str) -> str:
    query = call.by_id.get(str(result.get("Id")))
    what = f"{query.metric} {query.stat} of {query.target.provider_id}" if query else "a query"
    action = action_for(SERVICE, "GetMetricData")
    return f"{action} answered {status} for {what} in {call.region}"


def _repeated_token_message(region: str) -> str:
    action = action_for(SERVICE, "GetMetricData")
    return f"{action} in {region} returned the same NextToken twice; stopped paging"
