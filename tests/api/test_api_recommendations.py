"""The recommendations API on the demo fleet: listing, analysis, hour classes, apply, dismiss."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from apihelp import static_account
from fastapi.testclient import TestClient
from sqlalchemy import select

from dbsnooze.analysis import runner
from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.demo.prices import demo_prices
from dbsnooze.store import prices as price_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import EventRow
from fleethelp import seed_store

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
BASE = "/api/v1/recommendations"


@pytest.fixture()
def fleet(ctx: Context) -> dict[str, int]:
    ctx.clock = lambda: NOW
    ids = seed_store(ctx, NOW)
    with transaction(ctx.sessions) as session:
        price_store.save(session, demo_prices(), NOW)
    runner.recompute(ctx)
    return ids


def _by_name(api: TestClient, **params: str) -> dict[str, dict[str, object]]:
    answer = api.get(BASE, params=params)
    assert answer.status_code == 200, answer.text
    return {item["instance_name"]: item for item in answer.json()["data"]}


def test_listing_is_sorted_by_saving_with_the_fleet_total(
    api: TestClient, fleet: dict[str, int]
) -> None:
    body = api.get(BASE).json()
    assert body["count"] == 15
    savings = [item["saving_usd_month"] or 0.0 for item in body["data"]]
    assert savings == sorted(savings, reverse=True)
    assert body["data"][0]["instance_name"] == "legacy-reporting"  # stopping a db.m5.large
    total = body["total_saving"]
    assert total["priced"] == 10 and total["unpriced"] == 0 and total["demo_prices"]
    assert total["usd_month"] == pytest.approx(sum(savings), abs=0.05)
    stop = body["data"][0]
    assert stop["kind"] == "stop" and stop["message"].startswith("idle for 28 days: stop it")
    assert stop["price"] == {"usd_per_hour": 0.171, "source": "demo"}
    assert any("storage" in note for note in stop["notes"])
    assert any("demo prices" in note for note in stop["notes"])


def test_filters(api: TestClient, fleet: dict[str, int]) -> None:
    stop = {"legacy-reporting", "wiki-old", "migration-test-2023"}
    assert set(_by_name(api, kind="stop")) == stop
    assert set(_by_name(api, q="staging")) == {
        "billing-staging",
        "search-staging",
        "billing-staging-eu",
    }
    assert set(_by_name(api, region="eu-west-1", kind="none")) == {"orders-prod-eu", "cms-prod-eu"}
    answer = api.get(BASE, params={"kind": "nonsense"})
    assert answer.status_code == 422 and "error" in answer.json()


def test_a_sleep_recommendation_shows_windows_saving_and_a_clean_backtest(
    api: TestClient, fleet: dict[str, int]
) -> None:
    item = _by_name(api)["billing-staging"]
    assert item["kind"] == "sleep" and item["state"] == "open"
    assert item["timezone"] == "UTC" and item["timezone_source"] == "setting"
    windows = item["windows"]
    assert isinstance(windows, list) and windows[-1]["sleep"] == "Fri 19:00"
    assert windows[-1]["wake"] == "Mon 07:40"
    backtest = item["backtest"]
    assert isinstance(backtest, dict)
    assert backtest["clean"] and backtest["slept_hours"] > 300
    assert item["saving_usd_month"] == pytest.approx(
        round(float(item["saving_hours_month"]) * 0.072, 2),
        abs=0.01,  # type: ignore[arg-type]
    )
    matrix = item["matrix"]
    assert isinstance(matrix, dict) and len(matrix["idle_share"]) == 7


def test_without_a_price_savings_are_instance_hours_only(ctx: Context, api: TestClient) -> None:
    ctx.clock = lambda: NOW
    seed_store(ctx, NOW)
    runner.recompute(ctx)
    item = _by_name(api)["dev-alice-pg"]
    assert item["saving_usd_month"] is None and item["price"] is None
    assert float(item["saving_hours_month"]) > 400  # type: ignore[arg-type]
    assert any("instance-hours only" in note for note in item["notes"])  # type: ignore[attr-defined]
    assert api.get(BASE).json()["total_saving"]["unpriced"] == 10


def test_apply_records_the_windows_and_audits_it(
    ctx: Context, api: TestClient, fleet: dict[str, int]
) -> None:
    item = _by_name(api)["dev-bob-mysql"]
    answer = api.post(f"{BASE}/{item['id']}/apply", json={})
    assert answer.status_code == 200, answer.text
    applied = answer.json()
    assert applied["state"] == "applied" and applied["applied_windows"] == item["windows"]
    with transaction(ctx.sessions) as session:
        event = session.scalars(
            select(EventRow).where(EventRow.action == "recommendation.applied")
        ).one()
    assert event.subject_id == str(fleet["dev-bob-mysql"])
    assert event.detail["windows"] == item["windows"]


def test_apply_makes_a_dry_run_schedule_then_updates_it(
    api: TestClient, fleet: dict[str, int]
) -> None:
    item = _by_name(api)["dev-bob-mysql"]  # nights Mon-Thu, Fri 19:00 -> Mon 07:40
    assert api.post(f"{BASE}/{item['id']}/apply", json={}).status_code == 200
    (schedule,) = api.get("/api/v1/schedules").json()["data"]
    assert schedule["name"] == "sleep: dev-bob-mysql" and schedule["dry_run"] is True
    assert schedule["timezone"] == item["timezone"]
    assert schedule["instance_ids"] == [fleet["dev-bob-mysql"]]
    assert [w["label"] for w in schedule["windows"]] == [
        "window Mon-Thu 19:00-07:40",
        "window Fri 19:00-Mon 07:40",
    ]
    assert schedule["origin_instance_id"] == fleet["dev-bob-mysql"]
    assert api.post(f"{BASE}/{item['id']}/apply", json={}).status_code == 200
    assert api.get("/api/v1/schedules").json()["count"] == 1  # the same one, updated
    path = f"/api/v1/schedules/{schedule['id']}"
    read_only = api.patch(path, json={"origin_instance_id": fleet["orders-prod"]})
    assert read_only.status_code == 422
    assert api.patch(path, json={"name": "bob's nights", "dry_run": False}).status_code == 200

    again = api.post(f"{BASE}/{item['id']}/apply", json={})  # found by its origin, not its name

    assert again.status_code == 200, again.text
    (renamed,) = api.get("/api/v1/schedules").json()["data"]
    assert (renamed["id"], renamed["name"]) == (schedule["id"], "bob's nights")
    assert renamed["origin_instance_id"] == fleet["dev-bob-mysql"] and not renamed["dry_run"]


def test_apply_refuses_an_instance_that_has_another_schedule(
    api: TestClient, fleet: dict[str, int]
) -> None:
    other = {"name": "team nights", "timezone": "UTC", "instance_ids": [fleet["dev-bob-mysql"]]}
    assert api.post("/api/v1/schedules", json=other).status_code == 201
    item = _by_name(api)["dev-bob-mysql"]
    answer = api.post(f"{BASE}/{item['id']}/apply", json={})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "schedule_conflict"
    assert "'team nights'" in answer.json()["error"]["message"]
    assert _by_name(api)["dev-bob-mysql"]["state"] == "open"  # nothing was recorded


def test_apply_needs_sleep_windows(api: TestClient, fleet: dict[str, int]) -> None:
    item = _by_name(api)["orders-prod"]
    answer = api.post(f"{BASE}/{item['id']}/apply", json={})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "not_applicable"
    missing = api.post(f"{BASE}/999999/apply", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "recommendation_not_found"


def test_a_dismissal_holds_until_the_windows_change(
    ctx: Context, api: TestClient, fleet: dict[str, int]
) -> None:
    item = _by_name(api)["dev-alice-pg"]
    assert api.post(f"{BASE}/{item['id']}/dismiss", json={}).json()["state"] == "dismissed"
    runner.recompute(ctx)  # same windows: still dismissed
    assert _by_name(api)["dev-alice-pg"]["state"] == "dismissed"
    assert "dev-alice-pg" not in _by_name(api, state="open")
    ctx.settings = ctx.settings.model_copy(update={"wake_lead_minutes": 30})
    runner.recompute(ctx)  # new windows: offered again
    again = _by_name(api)["dev-alice-pg"]
    assert again["state"] == "open" and again["id"] == item["id"]
    assert again["windows"][0]["wake"] == "Tue 07:30"  # type: ignore[index]


def test_instance_analysis(api: TestClient, fleet: dict[str, int]) -> None:
    answer = api.get(f"/api/v1/instances/{fleet['search-staging']}/analysis")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"]["kind"] == "sleep"
    assert body["thresholds"]["connection_floor"] >= 2
    assert body["thresholds"]["sources"]["connection_floor"] == "learned"
    assert len(body["windows"]) == 5 and body["backtest"]["clean"]
    assert body["matrix"]["idle_share"][0][3] == 1.0  # Monday 03:00
    assert body["matrix"]["idle_share"][0][12] == 0.0  # Monday noon
    assert body["recommendation_id"] is not None
    missing = api.get("/api/v1/instances/999999/analysis")
    assert missing.status_code == 404


def test_hour_classes_say_which_rule_decided(api: TestClient, fleet: dict[str, int]) -> None:
    answer = api.get(f"/api/v1/instances/{fleet['billing-staging']}/activity?range=7d")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["hours"]) == len(body["classes"]) == len(body["sleep"]) == 168
    decided = zip(body["classes"], body["reasons"], strict=True)
    pairs = dict(zip(body["hours"], decided, strict=True))
    assert pairs["2026-11-17T03:00:00+00:00"] == ("idle", "quiet")  # a Tuesday night, pool open
    assert pairs["2026-11-17T12:00:00+00:00"] == ("active", "cpu")
    sleep = dict(zip(body["hours"], body["sleep"], strict=True))
    assert sleep["2026-11-17T03:00:00+00:00"] == 1.0 and sleep["2026-11-17T12:00:00+00:00"] == 0
    assert sleep["2026-11-17T07:00:00+00:00"] == pytest.approx(40 / 60, abs=0.001)
    bad = api.get(f"/api/v1/instances/{fleet['billing-staging']}/activity?range=7d&start=x")
    assert bad.status_code == 422


def test_refresh_on_demand(api: TestClient, fleet: dict[str, int]) -> None:
    answer = api.post(f"{BASE}/refresh", params={"instance": fleet["wiki-old"]}, json={})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"computed": 1, "kinds": {"stop": 1}}
    everything = api.post(f"{BASE}/refresh", json={}).json()
    assert everything["computed"] == 15
    assert api.post(f"{BASE}/refresh", params={"instance": 999999}, json={}).status_code == 404


def test_an_account_carries_the_owners_zone(api: TestClient, moto: Emulator) -> None:
    created = api.post("/api/v1/cloud-accounts", json=static_account(moto, timezone="Asia/Tokyo"))
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == "Asia/Tokyo"
    assert api.get(f"/api/v1/cloud-accounts/{created.json()['id']}").json()["timezone"] == (
        "Asia/Tokyo"
    )
    bad = api.post(
        "/api/v1/cloud-accounts", json=static_account(moto, "other", timezone="Mars/Olympus")
    )
    assert bad.status_code == 422 and "error" in bad.json()
    assert len(api.get("/api/v1/cloud-accounts").json()["data"]) == 1


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/{2**40}",
        f"{BASE}?q=a%00b",
        f"{BASE}?offset=-1",
        f"/api/v1/instances/{2**40}/analysis",
        "/api/v1/instances/1/activity?start=0001-01-01T00:00:00Z&end=0001-01-02T00:00:00Z",
    ],
)
def test_bad_input_is_a_4xx_json_error(api: TestClient, fleet: dict[str, int], path: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 422, answer.text
    assert set(answer.json()["error"]) >= {"code", "message"}
