"""Short named ranges (1h, 6h, 12h) end with the hour in progress, and every history answer says
which hour that is and where the final hours end, so a chart never calls an open hour complete."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dbsnooze.context import Context
from dbsnooze.domain import HourlyStat, Source
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from metricshelp import HOUR, NOW, app, register

ENDPOINT = "http://127.0.0.1:9"  # never called: the instances are registered, not discovered
CURRENT = NOW.replace(minute=0)  # NOW is 14:23, so 13:00-14:00 is final


def _store_live(ctx: Context, instance_id: int, hour: datetime, cpu: float) -> None:
    stat = HourlyStat(instance_id, "cpu", hour, cpu, cpu, cpu, 5.0)
    with transaction(ctx.sessions) as session:
        samples.upsert(session, [stat], Source.LIVE, NOW)


@pytest.mark.parametrize("name, hours", [("1h", 1), ("6h", 6), ("12h", 12)])
def test_a_short_range_is_the_hours_ending_with_the_one_in_progress(
    ctx: Context, name: str, hours: int
) -> None:
    iid = register(ctx, ENDPOINT, ["short-db"])["short-db"]
    _store_live(ctx, iid, CURRENT, 7.5)
    with app(ctx) as api:
        answer = api.get(f"/api/v1/instances/{iid}/metrics/history", params={"range": name})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    expected = [CURRENT - i * HOUR for i in reversed(range(hours))]
    assert [datetime.fromisoformat(h) for h in found["hours"]] == expected
    assert found["series"]["cpu"][-1] == 7.5
    assert datetime.fromisoformat(found["current_hour"]) == CURRENT
    assert datetime.fromisoformat(found["final_until"]) == CURRENT


def test_final_until_holds_back_the_hour_that_ended_less_than_ten_minutes_ago(
    ctx: Context,
) -> None:
    iid = register(ctx, ENDPOINT, ["early-db"])["early-db"]
    early = CURRENT + timedelta(minutes=5)
    with app(ctx, now=early) as api:
        found = api.get(f"/api/v1/instances/{iid}/metrics/history", params={"range": "6h"}).json()
    assert datetime.fromisoformat(found["current_hour"]) == CURRENT
    assert datetime.fromisoformat(found["final_until"]) == CURRENT - HOUR


def test_an_unknown_range_is_a_422(ctx: Context) -> None:
    iid = register(ctx, ENDPOINT, ["odd-db"])["odd-db"]
    with app(ctx) as api:
        answer = api.get(f"/api/v1/instances/{iid}/metrics/history", params={"range": "2h"})
    assert answer.status_code == 422
    assert "error" in answer.json()
