"""The demo's live feed publishes the current hour minute by minute, true to the hour's mean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dbsnooze.demo.emulator import Emulator
from dbsnooze.demo.fleet import build_fleet, hour_stats
from dbsnooze.demo.live_feed import LiveFeed

NOW = datetime(2026, 11, 18, 14, 0, 10, tzinfo=UTC)


def test_feed_publishes_each_minute_once_at_the_hours_mean(moto: Emulator) -> None:
    fleet = build_fleet(NOW, days=1)
    feed = LiveFeed(moto.endpoint_url, fleet, NOW)
    running = [i for i in fleet.instances if not i.stopped]
    assert feed.tick(NOW + timedelta(minutes=5)) == 5 * len(running) * 5
    assert feed.tick(NOW + timedelta(minutes=5, seconds=40)) == 0  # nothing new ended
    assert feed.tick(NOW + timedelta(minutes=7)) == 2 * len(running) * 5

    prod = next(i for i in running if i.profile == "production")
    hour = NOW.replace(minute=0, second=0)
    answer = moto.client("cloudwatch", prod.region).get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": prod.identifier}],
        StartTime=hour,
        EndTime=hour + timedelta(hours=1),
        Period=3600,
        Statistics=["Average", "SampleCount"],
    )
    [point] = answer["Datapoints"]
    assert point["SampleCount"] == 7
    assert point["Average"] == pytest.approx(hour_stats(prod, hour)["CPUUtilization"].average)
