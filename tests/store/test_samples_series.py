"""The chart's fast read (`series`, `hour_coverage`) agrees with `history` and `coverage`."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from dbsnooze.context import Context
from dbsnooze.domain import HOUR, HourlyStat, HourRange, Source
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from metricshelp import register

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
H0 = datetime(2026, 11, 1, tzinfo=UTC)
STORED = ["cpu", "connections", "freeable_memory", "write_iops"]


def _instance(ctx: Context) -> int:
    return register(ctx, "http://127.0.0.1:9", ["db-1"])["db-1"]


def _random_history(ctx: Context, iid: int, hours: int) -> None:
    """Samples, provisional samples, empty markers and asleep hours, mixed at random (with a
    fixed seed)."""
    pick = random.Random(7)
    with transaction(ctx.sessions) as session:
        for h in range(hours):
            hour = H0 + h * HOUR
            for metric in STORED:
                draw = pick.random()
                if draw < 0.4:
                    stat = HourlyStat(iid, metric, hour, draw, draw * 2, draw / 2, 60.0)
                    samples.upsert(session, [stat], Source.BACKFILL, NOW)
                elif draw < 0.55:
                    samples.mark_empty(session, [(iid, metric, hour)], NOW)
                elif draw < 0.62:
                    samples.mark_asleep(session, iid, [metric], [hour], NOW)
                elif draw < 0.7:  # fetched while its hour was still filling
                    stat = HourlyStat(iid, metric, hour, draw, draw * 2, draw / 2, 30.0)
                    samples.upsert(session, [stat], Source.LIVE, hour + HOUR / 2)


@pytest.mark.parametrize(
    "metrics", [["cpu", "connections", "freeable_memory"], ["cpu"], ["connections", "write_iops"]]
)
def test_series_and_hour_coverage_agree_with_history_and_coverage(
    ctx: Context, metrics: list[str]
) -> None:
    iid = _instance(ctx)
    _random_history(ctx, iid, 48)
    for window in (HourRange(H0, H0 + 48 * HOUR), HourRange(H0 - 3 * HOUR, H0 + 20 * HOUR)):
        with ctx.sessions() as session:
            found = samples.series(session, iid, metrics, window)
            empty = samples.empty_hours(session, iid, metrics, window)
            points = samples.history(session, iid, metrics, window)
            states = samples.coverage(session, iid, metrics, window)

        assert samples.hour_coverage(found, window, empty) == list(states.values())
        for metric in metrics:
            column = found[metric]
            assert column.average == [p.average if p else None for p in points[metric]]
            assert column.source == [p.source if p else None for p in points[metric]]
