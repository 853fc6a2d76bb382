"""Cloud Monitoring API v3 `projects.timeSeries.list` of the fake, computed from raw points.

One request names one metric type in its filter and returns every matching series over
(interval.startTime, interval.endTime], raw or aligned per series (aligner.py) and optionally
reduced across series, points newest first, INT64 values as JSON strings, DOUBLE as numbers,
paged by points (view FULL) or by series (view HEADERS) with an opaque nextPageToken.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from dbsnooze.demo.gcpfake import aligner, filters, paging
from dbsnooze.demo.gcpfake.errors import GoogleError, invalid
from dbsnooze.demo.gcpfake.series import (
    DESCRIPTORS,
    RESOURCE_TYPE,
    SAMPLE_SECONDS,
    Descriptor,
    Series,
    epoch,
)

MAX_PAGE = 100_000  # "If pageSize is empty or more than 100,000 results, the effective
# pageSize is 100,000 results."
MIN_PERIOD_SECONDS = 60
_PARAMETERS = frozenset(
    {
        "filter",
        "interval.startTime",
        "interval.endTime",
        "aggregation.alignmentPeriod",
        "aggregation.perSeriesAligner",
        "aggregation.crossSeriesReducer",
        "aggregation.groupByFields",
        "orderBy",
        "view",
        "pageSize",
        "pageToken",
        "alt",
        "prettyPrint",
        "$.xgafv",
        "fields",
        "quotaUser",
    }
)
_NOT_IN_FINGERPRINT = frozenset({"pageToken", "pageSize"})
Params = Mapping[str, Sequence[str]]
_Point = tuple[int, int, float]  # (end, start, value), epoch seconds


@dataclass(frozen=True, slots=True)
class _Request:
    project: str
    filter: filters.Filter
    start: int
    end: int
    period: int | None
    aligner: str | None
    reducer: str | None
    group_by: tuple[str, ...]
    headers_only: bool
    page_size: int
    page_token: str | None
    query: str


@dataclass(frozen=True, slots=True)
class _Result:
    header: dict[str, Any]
    value_type: str
    points: list[_Point]  # newest first


class Monitoring:
    """Every stored series, and the timeSeries.list computation over them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[tuple[Any, ...], Series] = {}
        # "pageSize: a positive number that is the maximum number of results to return": a
        # page may hold fewer; tests lower this to page through small answers
        self.page_cap = MAX_PAGE

    def series(
        self,
        metric_type: str,
        resource_labels: Mapping[str, str],
        metric_labels: Mapping[str, str] | None = None,
        descriptor: Descriptor | None = None,
    ) -> Series:
        """The stored series with this identity, created empty if new; add points to it."""
        new = Series(
            metric_type,
            descriptor or DESCRIPTORS[metric_type],
            dict(resource_labels),
            dict(metric_labels or {}),
        )
        with self._lock:
            return self._series.setdefault(new.key, new)

    def list(self, project: str, params: Params) -> dict[str, Any]:
        request = _parse(project, params)
        request = replace(request, page_size=min(request.page_size, self.page_cap))
        with self._lock:
            matching = [s for s in self._series.values() if _selected(s, request)]
        if not matching and request.filter.metric_type not in DESCRIPTORS:
            raise GoogleError(
                "NOT_FOUND",
                f'Cannot find metric(s) that match type = "{request.filter.metric_type}".',
            )
        results = [r for r in _results(matching, request) if r.points]
        return _page(sorted(results, key=_order), request)


def _selected(series: Series, request: _Request) -> bool:
    return series.resource_labels.get("project_id") == request.project and request.filter.matches(
        series.fields()
    )


# --- parsing ----------------------------------------------------------------------------------


def _parse(project: str, params: Params) -> _Request:
    unknown = sorted(set(params) - _PARAMETERS)
    if unknown:
        raise invalid(
            f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot bind query '
            "parameter."
        )
    start, end = _time(params, "interval.startTime"), _time(params, "interval.endTime")
    if start >= end:
        raise invalid("The start time must be before the end time.")
    aligner_name, period = _alignment(params)
    reducer = _one(params, "aggregation.crossSeriesReducer")
    if reducer in (None, "REDUCE_NONE"):
        reducer = None
    else:
        aligner.check_reducer(reducer)
        if aligner_name is None:
            raise invalid("A cross-series reducer needs a per-series aligner and period.")
    return _Request(
        project=project,
        filter=filters.parse(_required(params, "filter")),
        start=start,
        end=end,
        period=period,
        aligner=aligner_name,
        reducer=reducer,
        group_by=tuple(
            filters.normalize_selector(f) for f in params.get("aggregation.groupByFields", ())
        ),
        headers_only=_view(params) == "HEADERS",
        page_size=_page_size(params),
        page_token=_one(params, "pageToken") or None,
        query=paging.fingerprint(params, _NOT_IN_FINGERPRINT),
    )


def _one(params: Params, name: str) -> str | None:
    values = params.get(name, ())
    if len(values) > 1:
        raise invalid(f"The parameter {name} was given more than once.")
    return values[0] if values else None


def _required(params: Params, name: str) -> str:
    value = _one(params, name)
    if not value:
        raise invalid(f"The parameter {name} is required.")
    return value


def _time(params: Params, name: str) -> int:
    text = _required(params, name)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            f"Invalid value at '{name}' (type.googleapis.com/google.protobuf.Timestamp): {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise invalid(f"{name} needs a time zone offset (RFC 3339): {text!r}")
    return epoch(moment)


def _alignment(params: Params) -> tuple[str | None, int | None]:
    name = _one(params, "aggregation.perSeriesAligner")
    period_text = _one(params, "aggregation.alignmentPeriod")
    if name in (None, "ALIGN_NONE"):
        return None, None
    if period_text is None:
        raise invalid("The alignment period is required when a per-series aligner is given.")
    if name not in aligner.ALIGNERS:
        raise invalid(f"Unsupported perSeriesAligner: {name}")
    return name, _seconds(period_text)


def _seconds(text: str) -> int:
    try:
        seconds = float(text.removesuffix("s")) if text.endswith("s") else float("nan")
    except ValueError:
        seconds = float("nan")
    if not seconds >= MIN_PERIOD_SECONDS or seconds != int(seconds):
        raise invalid(
            f"The alignment period must be whole seconds, at least {MIN_PERIOD_SECONDS}s: {text!r}"
        )
    return int(seconds)


def _view(params: Params) -> str:
    view = _one(params, "view") or "FULL"
    if view not in ("FULL", "HEADERS"):
        raise invalid(f"Invalid value for view: {view!r}")
    return view


def _page_size(params: Params) -> int:
    text = _one(params, "pageSize") or "0"
    try:
        size = int(text)
    except ValueError:
        raise invalid(f"Invalid value for pageSize: {text!r}") from None
    if size < 0:
        raise invalid("pageSize must be positive.")
    return min(size, MAX_PAGE) if size else MAX_PAGE


# --- computing --------------------------------------------------------------------------------


def _results(matching: Iterable[Series], request: _Request) -> list[_Result]:
    if request.aligner is None:
        return [_raw(series, request) for series in matching]
    if request.reducer is None:
        return [_aligned(series, request) for series in matching]
    return _reduced(list(matching), request)


def _raw(series: Series, request: _Request) -> _Result:
    low, high = series.bounds(request.start, request.end)
    delta = series.descriptor.kind == "DELTA"
    points = [
        (t, t - SAMPLE_SECONDS if delta else t, v)
        for t, v in zip(series.times[low:high], series.values[low:high], strict=True)
    ]
    points.reverse()
    header = _header(series, series.descriptor.kind, series.descriptor.value_type)
    return _Result(header, series.descriptor.value_type, points)


def _aligned(series: Series, request: _Request) -> _Result:
    assert request.aligner is not None and request.period is not None
    aligner.check_aligner(request.aligner, series)
    values = aligner.align(series, request.aligner, request.start, request.end, request.period)
    kind, value_type = aligner.aligned_types(request.aligner, series)
    points = _period_points(values, kind, request.period)
    return _Result(_header(series, kind, value_type), value_type, points)


def _reduced(matching: list[Series], request: _Request) -> list[_Result]:
    assert request.aligner is not None and request.period is not None
    assert request.reducer is not None
    groups: dict[tuple[str, ...], list[Series]] = {}
    for series in matching:
        fields = series.fields()
        groups.setdefault(tuple(fields.get(f, "") for f in request.group_by), []).append(series)
    results = []
    for members in groups.values():
        aligned = [_aligned(member, request) for member in members]
        per_member = [{end: value for end, _, value in r.points} for r in aligned]
        values = aligner.reduce(request.reducer, per_member)
        kind = aligned[0].header["metricKind"]
        value_type = aligner.reduced_type(request.reducer, aligned[0].value_type)
        header = _grouped_header(members[0], request.group_by, kind, value_type)
        results.append(_Result(header, value_type, _period_points(values, kind, request.period)))
    return results


def _period_points(values: Mapping[int, float], kind: str, period: int) -> list[_Point]:
    span = period if kind == "DELTA" else 0
    return [(end, end - span, values[end]) for end in sorted(values, reverse=True)]


def _header(series: Series, kind: str, value_type: str) -> dict[str, Any]:
    metric: dict[str, Any] = {"type": series.metric_type}
    if series.metric_labels:
        metric["labels"] = dict(series.metric_labels)
    return {
        "metric": metric,
        "resource": {"type": RESOURCE_TYPE, "labels": dict(series.resource_labels)},
        "metricKind": kind,
        "valueType": value_type,
        "unit": series.descriptor.unit,
    }


def _grouped_header(
    series: Series, group_by: Sequence[str], kind: str, value_type: str
) -> dict[str, Any]:
    """A reduced series keeps only the labels it was grouped by."""
    fields = series.fields()
    resource = {
        f.rsplit(".", 1)[1]: fields.get(f, "") for f in group_by if f.startswith("resource.")
    }
    metric_labels = {
        f.rsplit(".", 1)[1]: fields.get(f, "") for f in group_by if f.startswith("metric.")
    }
    metric: dict[str, Any] = {"type": series.metric_type}
    if metric_labels:
        metric["labels"] = metric_labels
    return {
        "metric": metric,
        "resource": {"type": RESOURCE_TYPE, "labels": resource},
        "metricKind": kind,
        "valueType": value_type,
        "unit": series.descriptor.unit,
    }


def _order(result: _Result) -> str:
    return repr((result.header["resource"], result.header["metric"]))


# --- rendering and paging ---------------------------------------------------------------------


def _page(results: list[_Result], request: _Request) -> dict[str, Any]:
    query = f"timeSeries:{request.query}"
    first, offset = paging.decode(request.page_token, query, 2) if request.page_token else (0, 0)
    if request.headers_only:
        chosen = results[first : first + request.page_size]
        answer: dict[str, Any] = {"timeSeries": [dict(r.header) for r in chosen]} if chosen else {}
        if first + request.page_size < len(results):
            answer["nextPageToken"] = paging.encode(query, [first + request.page_size, 0])
        return answer
    series, left = [], request.page_size
    index = first
    while index < len(results) and left > 0:
        points = results[index].points[offset : offset + left]
        series.append(_render(results[index], points))
        left -= len(points)
        offset += len(points)
        if offset >= len(results[index].points):
            index, offset = index + 1, 0
    answer = {"timeSeries": series} if series else {}
    if index < len(results):
        answer["nextPageToken"] = paging.encode(query, [index, offset])
    return answer


def _render(result: _Result, points: Sequence[_Point]) -> dict[str, Any]:
    rendered = dict(result.header)
    rendered["points"] = [
        {
            "interval": {"startTime": _timestamp(start), "endTime": _timestamp(end)},
            "value": _typed(value, result.value_type),
        }
        for end, start, value in points
    ]
    return rendered


def _typed(value: float, value_type: str) -> dict[str, Any]:
    if value_type == "INT64":
        return {"int64Value": str(int(value))}
    return {"doubleValue": value}


@functools.lru_cache(maxsize=65_536)  # every series repeats the same period ends
def _timestamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
