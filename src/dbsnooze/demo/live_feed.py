"""Keeps the demo alive: each minute, the running instances publish that minute's datapoints.

RDS publishes one datapoint a minute; the feed does the same for the hour in progress, so live
collection in the demo has something to collect and the current hour fills in as it goes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from dbsnooze.demo.emulator import make_client
from dbsnooze.demo.fleet import (
    BULK_CLIENT_CONFIG,
    MAX_DATUMS_PER_PUT,
    METRICS,
    DemoInstance,
    Fleet,
    StatSet,
    as_utc,
    floor_hour,
    hour_stats,
)
from dbsnooze.metrics import DIMENSION, NAMESPACE

MINUTE = timedelta(minutes=1)


class LiveFeed:
    """Publishes every whole minute since the last tick (from the start of the current hour)."""

    def __init__(self, endpoint_url: str, fleet: Fleet, now: datetime) -> None:
        self._endpoint_url = endpoint_url
        self._fleet = fleet
        self._next = floor_hour(now)

    def tick(self, now: datetime) -> int:
        """Put the datapoints of the minutes that ended since the last tick; how many."""
        until = as_utc(now).replace(second=0, microsecond=0)
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        minute = self._next
        while minute < until:
            for instance in self._fleet.instances:
                if not instance.stopped:
                    by_region[instance.region] += _minute_datums(instance, minute)
            minute += MINUTE
        self._next = max(self._next, until)
        for region, datums in by_region.items():
            _put(make_client(self._endpoint_url, "cloudwatch", region, BULK_CLIENT_CONFIG), datums)
        return sum(len(d) for d in by_region.values())


def _minute_datums(instance: DemoInstance, minute: datetime) -> list[dict[str, Any]]:
    hourly = hour_stats(instance, floor_hour(minute))
    return [
        _datum(instance.identifier, shape.name, shape.unit, minute, hourly[shape.name])
        for shape in METRICS
    ]


def _datum(
    identifier: str, name: str, unit: str, minute: datetime, hour: StatSet
) -> dict[str, Any]:
    value = hour.average  # each minute at the hour's mean: the hour's aggregate stays true to it
    return {
        "MetricName": name,
        "Dimensions": [{"Name": DIMENSION, "Value": identifier}],
        "Timestamp": minute,
        "Unit": unit,
        "StatisticValues": {"SampleCount": 1.0, "Sum": value, "Minimum": value, "Maximum": value},
    }


def _put(cloudwatch: Any, datums: list[dict[str, Any]]) -> None:
    for first in range(0, len(datums), MAX_DATUMS_PER_PUT):
        cloudwatch.put_metric_data(
            Namespace=NAMESPACE, MetricData=datums[first : first + MAX_DATUMS_PER_PUT]
        )
