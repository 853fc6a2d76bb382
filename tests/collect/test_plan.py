from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from dbsnooze.collect.plan import (
    LIMITS,
    DataCall,
    DataQuery,
    SeriesRequest,
    estimate,
    plan,
    plan_data,
    plan_statistics,
)
from dbsnooze.domain import HOUR, HourRange, Target
from dbsnooze.metrics import METRICS, STATISTICS

END = datetime(2026, 11, 18, 14, tzinfo=UTC)
ALL_METRICS = tuple(METRICS)


def target(instance_id: int, region: str = "us-east-1", account_id: int = 1) -> Target:
    return Target(instance_id, account_id, region, f"db-{instance_id}", "db.t3.micro", True)


def days(n: int) -> HourRange:
    return HourRange(END - timedelta(days=n), END)


def requests(
    instances: int, span: HourRange, metrics: tuple[str, ...] = ALL_METRICS, region: str = "r1"
) -> list[SeriesRequest]:
    return [
        SeriesRequest(target(i, region), metric, span)
        for i in range(1, instances + 1)
        for metric in metrics
    ]


def test_limits_are_the_published_ones() -> None:
    assert LIMITS.statistics_max_datapoints == 1_440
    assert LIMITS.data_max_queries == 500
    assert LIMITS.data_max_datapoints == 100_800
    assert LIMITS.data_usd_per_1000_metrics == 0.01


def test_one_instance_week_is_one_statistics_call_per_metric() -> None:
    calls = plan_statistics(requests(1, days(7)))
    assert len(calls) == 5
    assert {call.metric for call in calls} == set(ALL_METRICS)
    assert all(call.span == days(7) for call in calls)


def test_statistics_calls_split_long_runs_at_1440_hours() -> None:
    calls = plan_statistics(requests(1, days(455), metrics=("cpu",)))
    assert len(calls) == math.ceil(455 * 24 / 1440)
    assert all(call.span.hours <= 1440 for call in calls)
    assert calls[0].span.start == days(455).start and calls[-1].span.end == END
    assert all(a.span.end == b.span.start for a, b in pairwise(calls))


def test_statistics_skip_empty_runs_and_duplicates() -> None:
    empty = SeriesRequest(target(1), "cpu", HourRange(END, END))
    wanted = SeriesRequest(target(1), "cpu", days(1))
    assert plan_statistics([empty, wanted, wanted]) == plan_statistics([wanted])


def test_fleet_week_needs_ceil_queries_over_500_calls() -> None:
    calls = plan_data(requests(100, days(7)))
    queries = 100 * 5 * len(STATISTICS)
    assert len(calls) == math.ceil(queries / 500)
    assert [len(call.queries) for call in calls] == [500, 500, 500, 500]
    assert all(call.datapoints <= 100_800 for call in calls)


def test_every_statistic_of_a_series_travels_in_one_call() -> None:
    calls = plan_data(requests(37, days(7)))
    seen: dict[tuple[int, str], int] = {}
    for index, call in enumerate(calls):
        for query in call.queries:
            assert seen.setdefault((query.target.instance_id, query.metric), index) == index
        series = {(q.target.instance_id, q.metric) for q in call.queries}
        assert len(call.queries) == len(series) * len(STATISTICS)
    assert len(seen) == 37 * 5


def test_one_query_per_instance_metric_and_statistic() -> None:
    (call,) = plan_data(requests(2, days(1), metrics=("cpu",)))
    assert [(q.target.instance_id, q.metric, q.stat) for q in call.queries] == [
        (1, "cpu", "Average"),
        (1, "cpu", "Maximum"),
        (1, "cpu", "Minimum"),
        (1, "cpu", "SampleCount"),
        (2, "cpu", "Average"),
        (2, "cpu", "Maximum"),
        (2, "cpu", "Minimum"),
        (2, "cpu", "SampleCount"),
    ]


def test_query_ids_are_unique_and_map_back() -> None:
    for call in plan_data(requests(60, days(7))):
        ids = [query.id for query in call.queries]
        assert len(set(ids)) == len(ids)
        assert all(query_id[0].islower() and query_id.isalnum() for query_id in ids)
        assert all(call.by_id[query.id] is query for query in call.queries)


def test_long_spans_are_cut_at_the_datapoint_limit() -> None:
    span = days(30)  # 720 hours: 100,800 // 720 = 140 queries = 35 series a call
    calls = plan_data(requests(100, span))
    assert all(len(call.queries) <= 140 for call in calls)
    assert all(call.datapoints <= 100_800 for call in calls)
    assert len(calls) == math.ceil(500 / 35)


def test_retention_deep_fleet_backfill_stays_within_limits() -> None:
    calls = plan_data(requests(3, days(455)))
    assert all(call.datapoints <= 100_800 and len(call.queries) <= 500 for call in calls)
    asked = {(q.target.instance_id, q.metric) for call in calls for q in call.queries}
    assert len(asked) == 15


def test_a_span_longer_than_one_call_holds_is_split_first() -> None:
    span = HourRange(END - 30_000 * HOUR, END)
    calls = plan_data(requests(1, span, metrics=("cpu",)))
    assert [call.span.hours for call in calls] == [25_200, 4_800]
    assert all(call.datapoints <= 100_800 for call in calls)
    assert calls[0].span.end == calls[1].span.start


def test_calls_group_by_account_region_and_span() -> None:
    wanted = [
        *requests(2, days(1), region="us-east-1"),
        *requests(2, days(1), region="eu-west-1"),
        *requests(2, days(2), region="us-east-1"),
        SeriesRequest(target(9, "us-east-1", account_id=2), "cpu", days(1)),
    ]
    keys = [(call.account_id, call.region, call.span) for call in plan_data(wanted)]
    assert len(keys) == len(set(keys)) == 4
    for call in plan_data(wanted):
        assert all(q.target.account_id == call.account_id for q in call.queries)
        assert all(q.target.region == call.region for q in call.queries)


def test_plans_do_not_depend_on_input_order() -> None:
    wanted = [*requests(40, days(7)), *requests(3, days(2), region="r2")]
    shuffled = wanted[:]
    random.Random(7).shuffle(shuffled)
    assert plan_data(shuffled) == plan_data(wanted)
    assert plan_statistics(shuffled) == plan_statistics(wanted)


def test_nothing_to_plan() -> None:
    assert plan_data([]) == []
    assert plan_statistics([]) == []


def test_a_call_refuses_duplicate_ids() -> None:
    query = DataQuery("q0", target(1), "cpu", "Average")
    with pytest.raises(ValueError):
        DataCall(1, "r1", days(1), (query, query))


def test_a_dry_run_prices_the_plan_a_fleet_part_really_makes() -> None:
    wanted = requests(100, days(7))
    result = estimate(wanted, plan(wanted, instances=100))
    assert result.as_dict() == {
        "requests": 500,
        "statistics_calls": 0,
        "data_calls": 4,
        "data_queries": 2000,
        "data_cost_usd": pytest.approx(0.02),
    }


def test_one_instance_is_read_with_free_statistics_calls_and_priced_so() -> None:
    wanted = requests(1, days(7))
    calls = plan(wanted, instances=1)
    assert calls == plan_statistics(wanted)
    assert estimate(wanted, calls).as_dict() == {
        "requests": 5,
        "statistics_calls": 5,
        "data_calls": 0,
        "data_queries": 0,
        "data_cost_usd": 0,
    }


def test_estimate_of_nothing_costs_nothing() -> None:
    assert estimate([], plan([], instances=3)).as_dict() == {
        "requests": 0,
        "statistics_calls": 0,
        "data_calls": 0,
        "data_queries": 0,
        "data_cost_usd": 0,
    }
