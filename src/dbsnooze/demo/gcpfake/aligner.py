"""Per-series alignment and cross-series reduction, as Cloud Monitoring documents them.

Boundary convention: an aligned point stands at the end of its alignment period ("An aligned
time series has a single data value at the end of each alignment_period", Aggregation.Aligner in
the Monitoring API v3 reference). Periods are laid back from the request's interval.endTime
(endTime, endTime - period, ...), and each one holds the raw points whose end time t satisfies
T - period < t <= T: the same half-open shape Google gives a read interval, "(startTime,
endTime]" (TimeInterval in the same reference). A period with no raw point has no aligned
point (the real service may interpolate DELTA rates there; dbsnooze never relies on it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dbsnooze.demo.gcpfake.errors import invalid
from dbsnooze.demo.gcpfake.series import Series

Aligned = dict[int, float]  # period end (epoch seconds) -> value


@dataclass(frozen=True, slots=True)
class _Aligner:
    compute: Callable[[Sequence[float], int], float]  # (period's values, period seconds)
    kinds: frozenset[str]  # metric kinds it accepts
    output_kind: str | None  # None: the input's kind
    output_type: str | None  # None: the input's value type


def _mean(values: Sequence[float], _: int) -> float:
    return sum(values) / len(values)


def _rate(values: Sequence[float], period: int) -> float:
    # A DELTA series' rate over the period: everything counted in it, per second.
    return sum(values) / period


_GAUGE_DELTA = frozenset({"GAUGE", "DELTA"})
ALIGNERS: dict[str, _Aligner] = {
    "ALIGN_MEAN": _Aligner(_mean, _GAUGE_DELTA, "GAUGE", "DOUBLE"),
    "ALIGN_MAX": _Aligner(lambda v, _: max(v), _GAUGE_DELTA, None, None),
    "ALIGN_MIN": _Aligner(lambda v, _: min(v), _GAUGE_DELTA, None, None),
    "ALIGN_SUM": _Aligner(lambda v, _: sum(v), _GAUGE_DELTA, "DELTA", None),
    "ALIGN_COUNT": _Aligner(lambda v, _: float(len(v)), _GAUGE_DELTA, None, "INT64"),
    "ALIGN_RATE": _Aligner(_rate, frozenset({"DELTA"}), "GAUGE", "DOUBLE"),
}

_REDUCERS: dict[str, tuple[Callable[[Sequence[float]], float], str | None]] = {
    "REDUCE_SUM": (sum, None),
    "REDUCE_MEAN": (lambda v: sum(v) / len(v), "DOUBLE"),
    "REDUCE_MAX": (max, None),
    "REDUCE_MIN": (min, None),
    "REDUCE_COUNT": (lambda v: float(len(v)), "INT64"),
}


def period_ends(start: int, end: int, period: int) -> list[int]:
    """Period end times from the interval's end backwards, newest first, all after start."""
    return list(range(end, start, -period))


def check_aligner(name: str, series: Series) -> None:
    aligner = ALIGNERS.get(name)
    if aligner is None:
        raise invalid(f"Unsupported perSeriesAligner: {name}")
    kind = series.descriptor.kind
    if kind not in aligner.kinds:
        raise invalid(
            f"The aligner {name} cannot be applied to metrics with kind {kind} and value type "
            f"{series.descriptor.value_type}."
        )


def align(series: Series, name: str, start: int, end: int, period: int) -> Aligned:
    """The series' aligned points over (start, end]; empty periods are left out."""
    compute = ALIGNERS[name].compute
    aligned: Aligned = {}
    for period_end in period_ends(start, end, period):
        low, high = series.bounds(max(period_end - period, start), period_end)
        if high > low:
            aligned[period_end] = compute(series.values[low:high], period)
    return aligned


def aligned_types(name: str, series: Series) -> tuple[str, str]:
    """(metric kind, value type) of the aligned series."""
    aligner = ALIGNERS[name]
    return (
        aligner.output_kind or series.descriptor.kind,
        aligner.output_type or series.descriptor.value_type,
    )


def check_reducer(name: str) -> None:
    if name not in _REDUCERS:
        raise invalid(f"Unsupported crossSeriesReducer: {name}")


def reduce(name: str, members: Sequence[Aligned]) -> Aligned:
    """One value per period end from every member series that has a point there."""
    combine = _REDUCERS[name][0]
    ends = sorted({end for member in members for end in member}, reverse=True)
    return {end: combine([m[end] for m in members if end in m]) for end in ends}


def reduced_type(name: str, value_type: str) -> str:
    return _REDUCERS[name][1] or value_type
