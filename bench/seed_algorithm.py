"""The seed's Go backfill, rebuilt faithfully as the baseline dbsnooze is measured against.

From the seed's summary (shared/seed/000_*.txt): walk hour by hour backwards from the current
hour, for `days * 24` hours past it (`i <= days*24`: the current, unfinished hour is fetched too);
skip an hour when the store already has CPU, connections or memory data for it (`HourHasData`);
otherwise ask GetMetricStatistics once per metric for that one hour (`GetRDSMetricsForHour`), store
what came back, and sleep 100 ms. 169 hours x 5 metrics = 845 calls for a week, as the SPEC says.

It writes through dbsnooze's own upsert, one transaction per hour, so the stores end up alike and
only the algorithm differs. (The Go code stored each metric separately; one upsert per hour is the
kinder reading and still costs it nothing in the comparison that matters, the calls.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select

from dbsnooze.context import Context
from dbsnooze.domain import HOUR, HourlyStat, Source, Target, floor_hour
from dbsnooze.metrics import DIMENSION, METRICS, NAMESPACE, STATISTICS
from dbsnooze.store.db import transaction
from dbsnooze.store.samples import upsert
from dbsnooze.store.tables import SampleRow

PAUSE_SECONDS = 0.1  # "100ms sleep between hour iterations for self-throttling"
CHECKED = ("cpu", "connections", "freeable_memory")  # what HourHasData looked at


@dataclass(frozen=True, slots=True)
class SeedRun:
    hours_visited: int
    hours_fetched: int
    hours_backfilled: int


def seed_backfill(
    ctx: Context,
    cloudwatch: Any,
    target: Target,
    days: int,
    metrics: Sequence[str],
    sleep: Callable[[float], None] = time.sleep,
) -> SeedRun:
    current = floor_hour(ctx.clock())
    fetched = backfilled = 0
    for back in range(days * 24 + 1):
        hour = current - back * HOUR
        if _hour_has_data(ctx, target.instance_id, hour):
            continue
        stats = [_metric_for_hour(cloudwatch, target, metric, hour) for metric in metrics]
        found = [stat for stat in stats if stat is not None]
        with transaction(ctx.sessions) as session:
            upsert(session, found, Source.BACKFILL, ctx.clock())
        fetched += 1
        backfilled += bool(found)
        sleep(PAUSE_SECONDS)
    return SeedRun(days * 24 + 1, fetched, backfilled)


def _hour_has_data(ctx: Context, instance_id: int, hour: datetime) -> bool:
    query = select(
        exists().where(
            SampleRow.instance_id == instance_id,
            SampleRow.hour == hour,
            SampleRow.metric.in_(CHECKED),
        )
    )
    with ctx.sessions() as session:
        return bool(session.scalar(query))


def _metric_for_hour(
    cloudwatch: Any, target: Target, metric: str, hour: datetime
) -> HourlyStat | None:
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=METRICS[metric].cloudwatch_name,
        Dimensions=[{"Name": DIMENSION, "Value": target.provider_id}],
        StartTime=hour,
        EndTime=hour + HOUR,
        Period=3600,
        Statistics=list(STATISTICS),
    )
    points = answer.get("Datapoints", [])
    if not points:
        return None
    point = points[0]
    return HourlyStat(
        target.instance_id,
        metric,
        hour,
        float(point["Average"]),
        float(point["Maximum"]),
        float(point["Minimum"]),
        float(point["SampleCount"]),
    )
