"""Savings realized on the fleet page and the recommendations page: what schedules saved over
the last 30 days, beside the prediction, and nothing shown as saved while only dry runs ran."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dbsnooze.analysis import runner
from dbsnooze.api.app import create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.demo.prices import demo_prices
from dbsnooze.store import actions
from dbsnooze.store import prices as price_store
from dbsnooze.store.actions import NewAction, State
from dbsnooze.store.db import transaction
from fleethelp import seed_store

NOW = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)


@pytest.fixture()
def fleet(settings: Settings, ctx: Context) -> Iterator[tuple[TestClient, dict[str, int]]]:
    ctx.clock = lambda: NOW
    ids = seed_store(ctx, NOW)
    with transaction(ctx.sessions) as session:
        price_store.save(session, demo_prices(), NOW)
    runner.recompute(ctx)
    with TestClient(create_app(settings.model_copy(update={"run_worker": False}), ctx)) as client:
        yield client, ids


def _slept(ctx: Context, instance_id: int, hours: int, state: State = State.DONE) -> None:
    with transaction(ctx.sessions) as session:
        for kind, at in (("stop", NOW - timedelta(hours=hours + 1)), ("start", NOW)):
            new = NewAction(instance_id, kind, State.PLANNED, "window", "schedule:1", 1)
            row = actions.add(session, new, at)
            assert row is not None
            actions.finish(session, row, state, at)


def test_both_pages_show_what_schedules_saved(
    fleet: tuple[TestClient, dict[str, int]], ctx: Context
) -> None:
    client, ids = fleet
    _slept(ctx, ids["dev-alice-pg"], 10)
    fleet_page = client.get("/").text
    assert 'id="realized-savings"' in fleet_page
    assert 'data-hours="11.0"' in fleet_page and "predicted $" in fleet_page
    page = client.get("/recommendations").text
    assert "Saved by schedules, last 30 days" in page
    assert 'data-realized-hours="11.0"' in page


def test_dry_runs_save_nothing(fleet: tuple[TestClient, dict[str, int]], ctx: Context) -> None:
    client, ids = fleet
    _slept(ctx, ids["dev-alice-pg"], 10, State.DRY_RUN)
    assert 'id="realized-savings"' not in client.get("/").text
    page = client.get("/recommendations").text
    assert "no schedule has stopped an instance" in page
    assert "data-realized-hours" not in page
