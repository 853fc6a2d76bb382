"""All four statistics in history answers, CSV at full precision, and the unit of every column.

Data goes through the real path (moto over HTTP, a backfill job, the store on SQLite and
PostgreSQL); the numbers written are not exactly representable, so any rounding shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.metrics import memory_used_percent
from faultproxy import FaultProxy
from metricshelp import ALL_METRICS, HOUR, NOW, app, put, register, values, window

ALL_STATS = ("average", "maximum", "minimum", "sample_count")
# What each statistic is in CloudWatch's (average, maximum, minimum, sample count) tuple.
POSITION = {stat: index for index, stat in enumerate(ALL_STATS)}
UNITS = {
    "cpu": "Percent",
    "connections": "Count",
    "freeable_memory": "Bytes",
    "read_iops": "Count/Second",
    "write_iops": "Count/Second",
    "memory_used_percent": "Percent",
}
CSV_UNITS = {
    "Percent": "percent",
    "Count": "count",
    "Bytes": "bytes",
    "Count/Second": "count_per_second",
}
CLASS = "db.r6g.large"


@pytest.fixture()
def filled(ctx: Context, moto: Emulator, proxy: FaultProxy) -> Iterator[tuple[TestClient, Any]]:
    """One instance with a day of history backfilled; the API and what the cloud was given."""
    iid = register(ctx, proxy.url, ["orders-db"], instance_class=CLASS)["orders-db"]
    wanted = window(NOW, 1)
    put_sets = put(moto, "orders-db", wanted)
    with app(ctx) as api:
        answer = api.post(
            f"/api/v1/instances/{iid}/metrics/backfill", params={"days": 1, "wait": "true"}
        )
        assert answer.json()["hours_backfilled"] == 24, answer.text
        yield api, (iid, wanted, put_sets)


def history(api: TestClient, iid: int, **params: Any) -> Any:
    """The day backfilled and the hour each side of it, never asked."""
    start, end = window(NOW, 1)[0] - HOUR, window(NOW, 1)[-1] + 2 * HOUR
    span = {"start": start.isoformat(), "end": end.isoformat()}
    return api.get(f"/api/v1/instances/{iid}/metrics/history", params={**span, **params})


def test_history_answers_every_statistic_asked_exactly_as_stored(
    filled: tuple[TestClient, Any],
) -> None:
    api, (iid, _, put_sets) = filled

    found = history(api, iid, stats="average,maximum,minimum,sample_count").json()

    assert found["stats"] == list(ALL_STATS)
    keys = {"average": "series", "maximum": "maximum", "minimum": "minimum"}
    cloud = {(m, h.isoformat()): values(put_sets[m, h]) for m, h in put_sets}
    for stat in ALL_STATS:
        for metric in ALL_METRICS:
            column = found[keys.get(stat, stat)][metric]
            expected = [cloud.get((metric, label)) for label in found["hours"]]
            assert column == [e[POSITION[stat]] if e else None for e in expected], (stat, metric)
    memory = {key: found[key]["freeable_memory"] for key in ("series", "minimum", "maximum")}
    # memory used %: the least free memory in an hour is the most used, and the other way round
    for key, source in (("series", "series"), ("maximum", "minimum"), ("minimum", "maximum")):
        percent = [memory_used_percent(v, CLASS) for v in memory[source]]
        assert found[key]["memory_used_percent"] == percent
    assert found["sample_count"]["memory_used_percent"] == found["sample_count"]["freeable_memory"]
    assert found["units"] == UNITS


def test_default_statistics_are_average_and_maximum_only(filled: tuple[TestClient, Any]) -> None:
    api, (iid, _, _) = filled

    found = history(api, iid).json()

    assert found["stats"] == ["average", "maximum"]
    assert "series" in found and "maximum" in found
    assert "minimum" not in found and "sample_count" not in found
    only = history(api, iid, stats="sample_count,minimum").json()
    assert only["stats"] == ["sample_count", "minimum"]
    assert "series" not in only and "maximum" not in only


def test_csv_keeps_full_precision_and_names_each_columns_unit(
    filled: tuple[TestClient, Any],
) -> None:
    api, (iid, _, put_sets) = filled

    answer = history(api, iid, stats=",".join(ALL_STATS), format="csv")

    rows = list(csv.DictReader(io.StringIO(answer.text)))
    header = list(rows[0])
    expected = ["hour", "coverage"]
    for metric, unit in UNITS.items():
        expected += [f"{metric}_{s}_{CSV_UNITS[unit]}" for s in ALL_STATS[:3]]
        expected.append(f"{metric}_sample_count")
    assert header == expected
    by_hour = {row["hour"]: row for row in rows}
    for (metric, hour), stats in put_sets.items():
        row = by_hour[hour.isoformat()]
        cloud = values(stats)
        unit = CSV_UNITS[UNITS[metric]]
        for stat in ALL_STATS[:3]:
            assert float(row[f"{metric}_{stat}_{unit}"]) == cloud[POSITION[stat]]  # bit for bit
        assert float(row[f"{metric}_sample_count"]) == cloud[3]
    cells = [row["cpu_average_percent"] for row in rows if row["cpu_average_percent"]]
    assert any(len(cell.split(".")[1]) > 6 for cell in cells)  # more than the old 6 decimals


def test_latest_says_the_unit_of_each_metric(filled: tuple[TestClient, Any]) -> None:
    api, (iid, _, _) = filled

    latest = api.get(f"/api/v1/instances/{iid}/metrics").json()["metrics"]

    assert {metric: item["unit"] for metric, item in latest.items()} == UNITS


@pytest.mark.parametrize(
    "bad", ["avg", "average,median", "", " , ", "Average", "x" * 300, "average\x00"]
)
def test_unknown_statistics_are_a_422_in_the_error_shape(
    filled: tuple[TestClient, Any], bad: str
) -> None:
    api, (iid, _, _) = filled

    answer = history(api, iid, stats=bad)

    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert set(error) >= {"code", "message"}
    assert error["code"] in ("unknown_statistic", "invalid_parameter", "validation_error")
