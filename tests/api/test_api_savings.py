"""GET /api/v1/savings on the demo fleet: schedules' hours asleep, priced, beside the prediction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from dbsnooze.analysis import runner
from dbsnooze.context import Context
from dbsnooze.demo.prices import demo_prices
from dbsnooze.store import actions, recommendations
from dbsnooze.store import instances as instance_store
from dbsnooze.store import prices as price_store
from dbsnooze.store.actions import NewAction, State
from dbsnooze.store.db import transaction
from fleethelp import seed_store

NOW = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)


def _slept(ctx: Context, instance_id: int, start: datetime, end: datetime) -> None:
    with transaction(ctx.sessions) as session:
        for kind, at in (("stop", start), ("start", end)):
            new = NewAction(instance_id, kind, State.PLANNED, "window", "schedule:7", 7)
            row = actions.add(session, new, at)
            assert row is not None
            actions.finish(session, row, State.DONE, at)


def test_savings_price_the_hours_a_schedule_slept(api: TestClient, ctx: Context) -> None:
    ctx.clock = lambda: NOW
    ids = seed_store(ctx, NOW)
    with transaction(ctx.sessions) as session:
        price_store.save(session, demo_prices(), NOW)
    runner.recompute(ctx)
    dev = next(i for name, i in ids.items() if name.startswith("dev-"))
    _slept(ctx, dev, NOW - timedelta(hours=20), NOW - timedelta(hours=8))
    with ctx.sessions() as session:
        predicted = recommendations.of_instance(session, dev)
        assert predicted is not None
        usd_per_hour = runner.prices_of(session, [instance_store.require(session, dev)]).get(dev)
    answer = api.get("/api/v1/savings", params={"days": 7})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["days"], found["count"], found["hours"]) == (7, 1, 12.0)
    item = found["data"][0]
    assert (item["instance_id"], item["hours"]) == (dev, 12.0)
    assert usd_per_hour is not None
    assert item["usd"] == found["usd"] == round(12 * usd_per_hour.usd_per_hour, 2)
    assert item["predicted_usd_month"] == predicted.saving_usd_month
    assert found["predicted_usd_month"] == round(predicted.saving_usd_month or 0.0, 2)


def test_savings_refuse_a_bad_period(api: TestClient) -> None:
    for days in ("0", "456", "x"):
        answer = api.get("/api/v1/savings", params={"days": days})
        assert answer.status_code == 422
        assert answer.json()["error"]["code"]
